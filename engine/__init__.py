"""Deepfake Forensic Workstation engine: everything that computes or stores, free of Qt."""

from engine.version import __version__

__all__ = ["__version__"]
