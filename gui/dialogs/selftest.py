"""What the self-test found: each step with its outcome, the providers, the versions."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTextBrowser, QVBoxLayout, QWidget

from engine.api import SelfTestReport

_COLOURS = {"ok": "#2e7d32", "FAILED": "#c62828", "skipped": "#757575"}


def self_test_html(report: SelfTestReport) -> str:
    rows = "".join(
        f"<tr><td style='color:{_COLOURS.get(step.status, '#000')}'><b>{html.escape(step.status)}</b>&nbsp;&nbsp;</td>"
        f"<td><b>{html.escape(step.name)}</b>&nbsp;&nbsp;</td><td>{html.escape(step.detail)}</td></tr>"
        for step in report.steps)
    versions = "".join(f"<tr><td><b>{html.escape(k)}</b>&nbsp;&nbsp;</td><td>{html.escape(v)}</td></tr>"
                       for k, v in report.versions.items())
    return (f"<table cellspacing='2'>{rows}</table><h4>Providers</h4>"
            f"<p>onnxruntime offers {html.escape(', '.join(report.providers_available) or 'no provider')}; "
            f"asked for <b>{html.escape(report.provider_requested)}</b>, ran on "
            f"<b>{html.escape(', '.join(report.providers_used) or 'nothing')}</b>.</p>"
            f"<h4>Versions</h4><table>{versions}</table>")


class SelfTestDialog(QDialog):
    def __init__(self, parent: QWidget | None, report: SelfTestReport) -> None:
        super().__init__(parent)
        self.setWindowTitle("Self-test" + (" passed" if report.ok else " FAILED"))
        heading = QLabel(report.summary())
        heading.setWordWrap(True)
        heading.setStyleSheet(f"QLabel {{ font-weight: bold; color: {_COLOURS['ok' if report.ok else 'FAILED']}; }}")
        self.browser = QTextBrowser()
        self.browser.setHtml(self_test_html(report))
        hint = QLabel("The self-test used a temporary app home and case, both deleted; the open case was not "
                      "touched. A failing step's full traceback is in the log file.")
        hint.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (heading, self.browser, hint, buttons):
            layout.addWidget(widget)
        metrics = self.fontMetrics()
        self.resize(metrics.averageCharWidth() * 120, metrics.height() * 30)
