"""New case (Ctrl+N): title, examiner, number, organisation and where the case file goes."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QLabel, QLineEdit, QVBoxLayout,
    QWidget,
)

from engine.api import CASE_SUFFIX, default_case_path
from gui.dialogs import path_row


@dataclass(frozen=True)
class NewCaseValues:
    path: str
    title: str
    examiner: str
    number: str | None
    organisation: str | None


def suggested_name(title: str) -> str:
    stem = re.sub(r"[^\w.-]+", "-", title.strip()).strip("-.") or "case"
    return stem[:60] + CASE_SUFFIX


class NewCaseDialog(QDialog):
    def __init__(self, parent: QWidget | None, examiner: str, folder: str) -> None:
        super().__init__(parent)
        self.setWindowTitle("New case")
        self.title = QLineEdit()
        self.examiner = QLineEdit(examiner)
        self.number = QLineEdit()
        self.organisation = QLineEdit()
        self.location = QLineEdit(os.path.join(folder, suggested_name("case")))
        self._named_by_hand = False
        self.location.textEdited.connect(self._by_hand)
        self.title.textChanged.connect(self._follow_title)
        where = path_row(self.location, self._browse)
        form = QFormLayout()
        form.addRow("Title", self.title)
        form.addRow("Examiner", self.examiner)
        form.addRow("Case number", self.number)
        form.addRow("Organisation", self.organisation)
        form.addRow("Case file", where)
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #c62828")
        self.problem.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.title.setFocus()
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 70)

    def _by_hand(self) -> None:
        self._named_by_hand = True

    def _follow_title(self, text: str) -> None:
        if not self._named_by_hand:
            folder = os.path.dirname(self.location.text()) or os.getcwd()
            self.location.setText(os.path.join(folder, suggested_name(text)))

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Case file", self.location.text(), f"Cases (*{CASE_SUFFIX})")
        if path:
            self._named_by_hand = True
            self.location.setText(default_case_path(path))

    def values(self) -> NewCaseValues:
        return NewCaseValues(default_case_path(self.location.text().strip()), self.title.text().strip(),
                             self.examiner.text().strip(), self.number.text().strip() or None,
                             self.organisation.text().strip() or None)

    def problem_with(self, values: NewCaseValues) -> str | None:
        if not values.title:
            return "A case needs a title."
        if not values.examiner:
            return "A case needs an examiner."
        folder = os.path.dirname(os.path.abspath(values.path))
        if not os.path.isdir(folder):
            return f"The folder {folder} does not exist."
        if os.path.lexists(values.path):
            return f"{values.path} already exists; choose another name."
        return None

    def _accept(self) -> None:
        problem = self.problem_with(self.values())
        if problem:
            self.problem.setText(problem)
            return
        self.accept()
