"""What a verification found: every difference, one line each, or that there were none."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QListWidget, QVBoxLayout, QWidget

from engine.api import VerifyReport


class VerifyResultDialog(QDialog):
    def __init__(self, parent: QWidget | None, report: VerifyReport) -> None:
        super().__init__(parent)
        self.setWindowTitle("Verification" + (" passed" if report.ok else " FAILED"))
        checked = len(report.evidence)
        if report.ok:
            summary = (f"Verified: {checked} evidence file{'s' if checked != 1 else ''} match their recorded SHA-256, "
                       f"the audit log is intact ({report.audit_rows} entries) and the case file is sound.")
        else:
            summary = f"{len(report.problems)} difference{'s' if len(report.problems) != 1 else ''} found:"
        heading = QLabel(summary)
        heading.setWordWrap(True)
        if not report.ok:
            heading.setStyleSheet("QLabel { color: #c62828; font-weight: bold; }")
        self.problems = QListWidget()
        self.problems.addItems(report.problems)
        self.problems.setVisible(not report.ok)
        notes = QLabel("\n".join(report.notes))
        notes.setWordWrap(True)
        notes.setVisible(bool(report.notes))
        recorded = QLabel("This verification is recorded in the case's audit log." if report.recorded else
                          "This verification is not recorded in the audit log (the case is read-only).")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.problems, 1)
        layout.addWidget(notes)
        layout.addWidget(recorded)
        layout.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 90)
