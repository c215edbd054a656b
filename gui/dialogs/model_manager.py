"""The model manager (Ctrl+M): every imported model, what it judges, its files, its faster variants.

A view over the models table model; its buttons call back into the window, which runs the
work on the engine thread (import, verify, remove, validated INT8 or OpenVINO bf16 from the open case).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QAbstractItemView, QDialog, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableView, QVBoxLayout

from engine.api import ModelSummary
from gui.item_models.models import SUMMARY_ROLE, ModelsTableModel

if TYPE_CHECKING:
    from gui.main_window import MainWindow


class ModelManager(QDialog):
    def __init__(self, window: "MainWindow", model: ModelsTableModel) -> None:
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle("Models")
        self.table = QTableView()
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.note = QLabel("Models are copied into the program's store when imported; verify re-hashes the stored "
                           "files. A quality grader (a model that judges something else) is shown but never feeds "
                           "a verdict.")
        self.note.setWordWrap(True)
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for key, text, handler in (("folder", "Import folder…", window.import_model_folder),
                                   ("file", "Import .onnx file…", window.import_model_file),
                                   ("verify", "Verify", self._verify), ("remove", "Remove…", self._remove),
                                   ("int8", "Make validated INT8…", self._quantize),
                                   ("openvino", "Make validated OpenVINO bf16…", self._quantize_openvino)):
            button = QPushButton(text)
            button.clicked.connect(handler)
            row.addWidget(button)
            self.buttons[key] = button
        row.addStretch(1)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        row.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        layout.addLayout(row)
        metrics = self.fontMetrics()
        self.resize(metrics.averageCharWidth() * 170, metrics.height() * 22)
        self._selection_changed()

    def selected(self) -> ModelSummary | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(SUMMARY_ROLE) if rows else None

    def _selection_changed(self) -> None:
        chosen = self.selected() is not None
        writable = self.window_.overview is not None and not self.window_.overview.readonly
        for key in ("verify", "remove"):
            self.buttons[key].setEnabled(chosen)
        for key in ("int8", "openvino"):
            self.buttons[key].setEnabled(chosen and writable)
        self.buttons["int8"].setToolTip("Quantize the model's matrix products to 8-bit integers (onnxruntime) and "
                                        "keep the file only if it agrees with fp32 on the case's evidence."
                                        if writable else "Open a case: its evidence is the calibration set.")
        self.buttons["openvino"].setToolTip(
            "Run the fp32 file on OpenVINO in bfloat16 (CPUs with AMX or AVX-512 BF16; needs the openvino extra) "
            "and keep it only if it agrees with fp32 on the case's evidence."
            if writable else "Open a case: its evidence is the calibration set.")

    def _verify(self) -> None:
        model = self.selected()
        if model is not None:
            self.window_.verify_model(model.name)

    def _remove(self) -> None:
        model = self.selected()
        if model is not None:
            self.window_.remove_model(model.name)

    def _quantize(self) -> None:
        model = self.selected()
        if model is not None:
            self.window_.quantize_model(model.name)

    def _quantize_openvino(self) -> None:
        model = self.selected()
        if model is not None:
            self.window_.quantize_model(model.name, "openvino-bf16")
