"""Case reports another examiner can check: HTML, PDF, JSON and CSV from one document.

`export_report` re-verifies the evidence, gathers the case into one document (collect.py),
renders it in the chosen format, writes it atomically with a SHA-256 sidecar and logs the
export in the case's audit log. Nothing here imports Qt.
"""

from engine.report.collect import build_document
from engine.report.export import FORMATS, ReportResult, export_report, render

__all__ = ["FORMATS", "ReportResult", "build_document", "export_report", "render"]
