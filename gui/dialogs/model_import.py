"""Importing a model: what a bare .onnx needs stated, which label means manipulated, and a last look.

The same questions the CLI asks with --labels / --preprocess / --input-size and
--manipulated-label / --judges other, asked only when the model folder does not answer
them itself; the program refuses rather than guesses what a model's outputs mean.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QRadioButton, QSpinBox,
    QVBoxLayout, QWidget,
)

from engine.api import ModelOverrides


def _buttons(dialog: QDialog, ok: str) -> QDialogButtonBox:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


class BareModelDialog(QDialog):
    """A bare .onnx says nothing about its labels or pixels: the analyst states them."""

    def __init__(self, parent: QWidget | None, path: str) -> None:
        super().__init__(parent)
        self.setWindowTitle("Describe the model")
        note = QLabel(f"{os.path.basename(path)} is a bare ONNX file: it does not say what its outputs are called "
                      "or how it expects its pixels. State them as the model's own documentation does.")
        note.setWordWrap(True)
        self.labels = QLineEdit()
        self.labels.setPlaceholderText("in output order, e.g. Real, Fake")
        self.preprocess = QComboBox()
        self.preprocess.addItem("Hugging Face image processor (resize to the input size)", "hf")
        self.preprocess.addItem("timm eval transform (shorter side, centre crop)", "timm")
        self.size = QSpinBox()
        self.size.setRange(8, 4096)
        self.size.setValue(224)
        form = QFormLayout()
        form.addRow("Labels", self.labels)
        form.addRow("Preprocessing", self.preprocess)
        form.addRow("Input size", self.size)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(_buttons(self, "Continue"))

    def overrides(self) -> ModelOverrides:
        labels = [label.strip() for label in self.labels.text().split(",") if label.strip()]
        return ModelOverrides(labels=labels or None, preprocess=str(self.preprocess.currentData()),
                              input_size=self.size.value())


class MeaningDialog(QDialog):
    """The label names do not say which output means manipulated: ask, or "judges something else"."""

    def __init__(self, parent: QWidget | None, labels: tuple[str, ...]) -> None:
        super().__init__(parent)
        self.setWindowTitle("What do this model's outputs mean?")
        note = QLabel(f"The labels {', '.join(repr(label) for label in labels)} do not say which one means "
                      "manipulated. Choose it, or say that the model judges something else (such a model is "
                      "scored and shown, but never feeds a verdict).")
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        self.group = QButtonGroup(self)
        self.choices: list[tuple[QRadioButton, str | None]] = []
        for label in labels:
            button = QRadioButton(f"'{label}' means manipulated")
            self.group.addButton(button)
            self.choices.append((button, label))
            layout.addWidget(button)
        other = QRadioButton("It judges something else (for example the quality of a deepfake)")
        self.group.addButton(other)
        self.choices.append((other, None))
        layout.addWidget(other)
        self.choices[0][0].setChecked(True)
        layout.addWidget(_buttons(self, "Continue"))

    def stated(self, base: ModelOverrides | None) -> ModelOverrides:
        chosen = next(label for button, label in self.choices if button.isChecked())
        base = base or ModelOverrides()
        if chosen is None:
            return replace(base, judges="other", manipulated_labels=None)
        return replace(base, judges="authenticity", manipulated_labels=[chosen])


class ConfirmImportDialog(QDialog):
    """A last look before the model is copied into the store: name, labels and their meaning."""

    def __init__(self, parent: QWidget | None, path: str, spec: Any) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import model")
        self.name = QLineEdit(os.path.splitext(os.path.basename(path.rstrip(os.sep)))[0])
        meaning = spec.meaning
        judges = ("authenticity: " + meaning.explanation) if meaning.is_authenticity else (
            "something else, never in a verdict: " + meaning.explanation)
        form = QFormLayout()
        form.addRow("Name in the store", self.name)
        form.addRow("Architecture", QLabel(str(spec.architecture)))
        form.addRow("Layout", QLabel(f"{spec.layout} ({spec.variant})"))
        form.addRow("Input", QLabel(f"{spec.input_size[1]}×{spec.input_size[0]}: {spec.preprocess.describe()}"))
        form.addRow("Labels", QLabel(", ".join(spec.labels)))
        judged = QLabel(judges + f" ({meaning.source})")
        judged.setWordWrap(True)
        form.addRow("Judges", judged)
        form.addRow("SHA-256", QLabel(spec.onnx_sha256))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        if spec.is_test_fixture:
            warning = QLabel("This is a random-weight TEST FIXTURE: its scores mean nothing.")
            warning.setStyleSheet("color: #c62828; font-weight: bold")
            layout.addWidget(warning)
        note = QLabel("The files are copied into the program's model store and hashed; the original folder is "
                      "not changed.")
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addWidget(_buttons(self, "Import"))
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 80)
