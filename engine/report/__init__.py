"""Case reports another examiner can check: HTML, PDF, JSON and CSV from one document.

`export_report` re-verifies the evidence, gathers the case into one document (collect.py) that
opens with a one-row-per-item summary and shows each item's latest run unless asked for more
(runsel.py), renders it in the chosen format, writes it and its SHA-256 sidecar under temporary
names, logs the export in the case's audit log and only then puts both in place (writing.py),
reporting each stage through `progress`. Nothing here imports Qt.
"""

from engine.report.collect import build_document
from engine.report.export import FORMATS, ReportResult, export_report, render

__all__ = ["FORMATS", "ReportResult", "build_document", "export_report", "render"]
