"""Preferences: default examiner, provider, face detector file, thumbnail size."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QLineEdit, QSpinBox,
    QVBoxLayout, QWidget,
)

from engine.api import PROVIDER_PREFERENCES
from gui.dialogs import path_row
from gui.settings import Preferences


class PreferencesDialog(QDialog):
    def __init__(self, parent: QWidget | None, preferences: Preferences) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.examiner = QLineEdit(preferences.default_examiner)
        self.provider = QComboBox()
        for preference in PROVIDER_PREFERENCES:
            self.provider.addItem(preference, preference)
        self.provider.setCurrentIndex(max(0, self.provider.findData(preferences.provider)))
        self.detector = QLineEdit(preferences.face_detector)
        self.detector.setPlaceholderText("OpenCV's built-in Haar cascade")
        detector = path_row(self.detector, self._browse)
        self.thumbnail = QSpinBox()
        self.thumbnail.setRange(24, 256)
        self.thumbnail.setSuffix(" px")
        self.thumbnail.setValue(preferences.thumbnail_size)
        form = QFormLayout()
        form.addRow("Default examiner", self.examiner)
        form.addRow("Provider for runs", self.provider)
        form.addRow("Face detector (YuNet .onnx)", detector)
        form.addRow("Thumbnail size", self.thumbnail)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 70)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "YuNet face detector", self.detector.text(), "ONNX (*.onnx)")
        if path:
            self.detector.setText(path)

    def preferences(self) -> Preferences:
        return Preferences(self.examiner.text().strip(), str(self.provider.currentData()), self.detector.text().strip(),
                           self.thumbnail.value())
