"""The model manager's table: one row per imported model, from the API's ModelSummary records."""

from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from engine.api import ModelCheck, ModelSummary, describe_quantization
from gui.item_models.table import RecordTableModel

Index = QModelIndex | QPersistentModelIndex
SUMMARY_ROLE = Qt.ItemDataRole.UserRole + 1
COLUMNS = ("Name", "Architecture", "Input", "Labels", "Judges", "Manipulated means", "Variants", "Files", "SHA-256")
NAME, ARCH, INPUT, LABELS, JUDGES, MEANS, INT8, FILES, SHA = range(len(COLUMNS))


def int8_text(summary: ModelSummary) -> str:
    if not summary.quantization:
        return ""
    parts = []
    for variant, figures in summary.quantization.items():
        agreement = figures.get("top1_agreement")
        state = "forced" if figures.get("forced") else ("refused" if not figures.get("passed", True) else "validated")
        shown = f"{agreement * 100:.1f} %" if isinstance(agreement, (int, float)) else "?"
        parts.append(f"{variant}: {state}, {shown} agree")
    return "; ".join(parts)


class ModelsTableModel(RecordTableModel[ModelSummary]):
    columns = COLUMNS

    def __init__(self) -> None:
        super().__init__()
        self._checks: dict[str, ModelCheck] = {}

    def set_models(self, models: Sequence[ModelSummary]) -> None:
        self.beginResetModel()
        self._rows = list(models)
        self._checks = {k: v for k, v in self._checks.items() if any(m.name == k for m in models)}
        self.endResetModel()

    def set_check(self, check: ModelCheck) -> None:
        self._checks[check.name] = check
        for row, model in enumerate(self._rows):
            if model.name == check.name:
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def model_at(self, row: int) -> ModelSummary:
        return self._rows[row]

    def _files(self, model: ModelSummary) -> str:
        check = self._checks.get(model.name)
        if check is None:
            return "not checked"
        if check.ok:
            return "intact"
        return "CHANGED: " + ", ".join((*check.changed, *check.missing, *check.unexpected))[:120]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        model = self._rows[index.row()]
        column = index.column()
        if role == SUMMARY_ROLE:
            return model
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == SHA:
                return model.sha256
            if column == INT8:
                return "\n".join(f"{v}: {describe_quantization(dict(f))}" for v, f in model.quantization.items()) or None
            if column in (JUDGES, MEANS):
                return model.meaning or None
            if column == NAME and model.is_test_fixture:
                return "A random-weight test fixture: its scores mean nothing."
            return model.imported_from
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        size = f"{model.input_size[1]}×{model.input_size[0]}" if model.input_size else ""
        judges = {"authenticity": "authenticity", "other": "something else (never in verdicts)"}.get(
            model.judges or "", model.judges or "?")
        texts = {
            NAME: model.name + ("  [TEST FIXTURE]" if model.is_test_fixture else ""),
            ARCH: model.architecture or "?", INPUT: size, LABELS: ", ".join(model.labels), JUDGES: judges,
            MEANS: ", ".join(model.manipulated_labels) or "—", INT8: int8_text(model), FILES: self._files(model),
            SHA: (model.sha256 or "")[:16] + "…",
        }
        return texts.get(column, "")
