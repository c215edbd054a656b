"""The kept maps of one item, one entry each: which map of which frame, made how, by whom, when,
and the comment, in a few short lines that fit the details dock (the tooltip has the rest)."""

from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from engine.api import KeptMap
from gui.present import when
from gui.viewer.layers import MAIN_PARAMETER, layer_name

Index = QModelIndex | QPersistentModelIndex
KEPT_MAP_ROLE = Qt.ItemDataRole.UserRole + 1


def _value(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def parameters_text(kind: str, params: dict) -> str:
    """"quality 70, ceiling 0": the panel's main parameter first, then the rest as the engine filled them."""
    main = MAIN_PARAMETER.get(kind, ("",))[0]
    names = sorted(params, key=lambda name: (name != main, name))
    return ", ".join(f"{name} {_value(params[name])}" for name in names) or "no parameters"


def kept_map_lines(kept: KeptMap, video: bool) -> list[str]:
    """"Map 1 · Error level (ELA) · the picture", its parameters, who and when, the comment."""
    where = f"frame {kept.frame_index}" if video else "the picture"
    lines = [f"Map {kept.id} · {layer_name(kept.kind)} · {where}", parameters_text(kept.kind, kept.params),
             f"{kept.author} · {when(kept.created_at)}"]
    if kept.note:
        lines.append(f"“{' '.join(kept.note.split())}”")
    return lines


def kept_map_tooltip(kept: KeptMap, video: bool) -> str:
    lines = kept_map_lines(kept, video)[:3] + [
        f"{kept.width} × {kept.height} pixels, made by {kept.tool_version}", kept.legend, kept.statement,
        f"of the evidence with SHA-256 {kept.evidence_sha256[:16]}…",
        f"PNG SHA-256 {kept.sha256[:16]}… ({kept.size:,} bytes)"]
    if kept.note:
        lines.append(f"Comment: {kept.note}")
    return "\n".join(line for line in lines if line)


class KeptMapsModel(QAbstractListModel):
    def __init__(self) -> None:
        super().__init__()
        self._rows: list[KeptMap] = []
        self.video = False

    def set_maps(self, maps: Sequence[KeptMap], video: bool = False) -> None:
        self.beginResetModel()
        self._rows = sorted(maps, key=lambda m: (m.frame_index, m.id))
        self.video = video
        self.endResetModel()

    def maps(self) -> list[KeptMap]:
        return list(self._rows)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        kept = self._rows[index.row()]
        if role == KEPT_MAP_ROLE:
            return kept
        if role == Qt.ItemDataRole.DisplayRole:
            return "\n".join(kept_map_lines(kept, self.video))
        if role == Qt.ItemDataRole.ToolTipRole:
            return kept_map_tooltip(kept, self.video)
        return None
