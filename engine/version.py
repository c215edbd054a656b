"""The program's version, recorded in every case, run and report."""

__version__ = "0.1.0"
APP_NAME = "Deepfake Forensic Workstation"
