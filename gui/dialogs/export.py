"""Export report (Ctrl+E): format, which evidence, which runs, where; and what the export produced.

The runs choice is the command line's `--runs`: each item's latest run (the default), every
run, or the runs typed (parsed by the engine, so the window and the command line accept the
same text). A file typed into "Save as" that already exists is replaced only after a second
press of Export, since only the Browse… dialog asks about it itself; the export is then
made with overwrite allowed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QPushButton, QRadioButton, QVBoxLayout, QWidget,
)

from engine.api import REPORT_FORMATS, ReportResult, parse_report_runs
from engine.errors import EngineError
from gui.dialogs import path_row

FORMAT_NAMES = {"html": "HTML (printable, images embedded)", "pdf": "PDF", "json": "JSON (schema in docs/)",
                "csv": "CSV (frame-level table)"}


@dataclass(frozen=True)
class ExportRequest:
    out: str
    fmt: str
    evidence_ids: tuple[int, ...]
    bookmarked_only: bool
    runs: str | tuple[int, ...] = "latest"  # "latest", "all", or run ids


class ExportDialog(QDialog):
    def __init__(self, parent: QWidget | None, case_path: str, selected: tuple[int, ...],
                 run_ids: tuple[int, ...] = ()) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export report")
        self.selected = selected
        self.run_ids = run_ids
        self._confirmed_replace = ""  # the path whose replacing was confirmed (Browse… or a second Export)
        self.fmt = QComboBox()
        for fmt in REPORT_FORMATS:
            self.fmt.addItem(FORMAT_NAMES.get(fmt, fmt), fmt)
        self.fmt.currentIndexChanged.connect(self._format_changed)
        self.scope_all = QRadioButton("All evidence")
        self.scope_selected = QRadioButton(f"The {len(selected)} selected item{'s' if len(selected) != 1 else ''}"
                                           if selected else "Selected items (none selected)")
        self.scope_marked = QRadioButton("Bookmarked evidence only")
        self.scope_selected.setEnabled(bool(selected))
        self.scope_all.setChecked(True)
        group = QButtonGroup(self)
        for button in (self.scope_all, self.scope_selected, self.scope_marked):
            group.addButton(button)
        stem = os.path.splitext(case_path)[0]
        self.out = QLineEdit(f"{stem}-report.html")
        self.out.textChanged.connect(self._clear_problem)
        where = path_row(self.out, self._browse)
        scope = QVBoxLayout()
        for button in (self.scope_all, self.scope_selected, self.scope_marked):
            scope.addWidget(button)
        form = QFormLayout()
        form.addRow("Format", self.fmt)
        form.addRow("Evidence", scope)
        form.addRow("Runs", self._runs_choice())
        form.addRow("Save as", where)
        note = QLabel("Every evidence file is re-hashed before the report is written; the report's own SHA-256 goes "
                      "into a .sha256 file beside it and into the case's audit log.")
        note.setWordWrap(True)
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #c62828")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 80)

    def _runs_choice(self) -> QVBoxLayout:
        self.runs_latest = QRadioButton("The latest run of each item")
        self.runs_all = QRadioButton("Every run of each item")
        self.runs_chosen = QRadioButton("These runs:")
        self.runs_text = QLineEdit()
        self.runs_text.setPlaceholderText(", ".join(map(str, self.run_ids[-2:])) if self.run_ids else "run numbers")
        self.runs_text.setToolTip("Run numbers separated by commas" + (
            f"; this case has runs {', '.join(map(str, self.run_ids))}" if self.run_ids else ""))
        self.runs_text.textEdited.connect(lambda _text: self.runs_chosen.setChecked(True))
        self.runs_latest.setChecked(True)
        group = QButtonGroup(self)
        chosen = QHBoxLayout()
        chosen.addWidget(self.runs_chosen)
        chosen.addWidget(self.runs_text, 1)
        box = QVBoxLayout()
        for button in (self.runs_latest, self.runs_all):
            group.addButton(button)
            box.addWidget(button)
        group.addButton(self.runs_chosen)
        box.addLayout(chosen)
        return box

    def runs(self) -> str | tuple[int, ...]:
        """The runs chosen, as the engine reads them; EngineError (one line) for text it cannot read."""
        if self.runs_all.isChecked():
            return "all"
        if self.runs_chosen.isChecked():
            chosen = parse_report_runs(self.runs_text.text())
            if not isinstance(chosen, tuple):
                return chosen
            unknown = [r for r in chosen if self.run_ids and r not in self.run_ids]
            if unknown:
                raise EngineError(f"this case has no run {unknown[0]} (it has runs {', '.join(map(str, self.run_ids))})")
            return chosen
        return "latest"

    def _clear_problem(self) -> None:
        self.problem.setText("")

    def _format_changed(self) -> None:
        stem, _ = os.path.splitext(self.out.text())
        self.out.setText(f"{stem}.{self.fmt.currentData()}")

    def _browse(self) -> None:
        fmt = str(self.fmt.currentData())
        path, _ = QFileDialog.getSaveFileName(self, "Save report", self.out.text(), f"{fmt.upper()} (*.{fmt})")
        if path:
            self.out.setText(path)
            self._confirmed_replace = os.path.abspath(path)  # the save dialog asked about an existing file

    def request(self) -> ExportRequest:
        ids = self.selected if self.scope_selected.isChecked() else ()
        return ExportRequest(os.path.abspath(self.out.text().strip()), str(self.fmt.currentData()), ids,
                             self.scope_marked.isChecked(), self.runs())

    def _accept(self) -> None:
        out = self.out.text().strip()
        if not out:
            self.problem.setText("Choose where the report goes.")
            return
        target = os.path.abspath(out)
        if not os.path.isdir(os.path.dirname(target)):
            self.problem.setText(f"The folder {os.path.dirname(target)} does not exist.")
            return
        try:
            self.runs()
        except EngineError as exc:
            self.problem.setText(f"Runs: {exc}")
            return
        if os.path.lexists(target) and self._confirmed_replace != target:
            self._confirmed_replace = target
            self.problem.setText(f"{os.path.basename(target)} already exists. Press Export again to replace it.")
            return
        self.accept()


class ExportDoneDialog(QDialog):
    """The report's SHA-256, the verification outcome, and Open / Show in folder."""

    def __init__(self, parent: QWidget | None, result: ReportResult) -> None:
        super().__init__(parent)
        self.setWindowTitle("Report exported")
        self.result = result
        if result.ok:
            outcome = "Every evidence file matches its recorded SHA-256 and the audit log is intact."
        else:
            parts = []
            if not result.verification_ok:
                parts.append(f"verification FAILED ({len(result.problems)} problem(s))")
            if result.evidence_changed:
                parts.append("evidence changed since import: " + ", ".join(map(str, result.evidence_changed)))
            if result.row_altered:
                parts.append("evidence rows altered: " + ", ".join(map(str, result.row_altered)))
            if not result.audit_ok:
                parts.append("the audit log is damaged")
            if result.unreadable:
                parts.append(f"{result.unreadable} stored row(s) unreadable, left out")
            outcome = "WARNING: " + "; ".join(parts) + ". The report says so on its first page."
        text = QLabel(f"<p><b>{os.path.basename(result.path)}</b> ({result.size:,} bytes)</p>"
                      f"<p>SHA-256 <code>{result.sha256}</code><br>also in {os.path.basename(result.sidecar)}"
                      f" and the case's audit log</p><p>{outcome}</p>")
        text.setWordWrap(True)
        text.setStyleSheet("" if result.ok else "QLabel { color: #c62828; }")
        copy = QPushButton("Copy SHA-256")
        copy.clicked.connect(self._copy)
        opener = QPushButton("Open report")
        opener.clicked.connect(self._open)
        folder = QPushButton("Show in folder")
        folder.clicked.connect(self._folder)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        row = QHBoxLayout()
        for button in (copy, opener, folder):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(row)

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.result.sha256)

    def _open(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(self.result.path))

    def _folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(self.result.path)))
