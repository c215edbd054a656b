"""The messages dock's model: engine messages and per-item errors, newest last.

A message may name an evidence item; clicking it selects that item in the table. The list
is capped so a batch of thousands of refused files cannot grow it without end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

Index = QModelIndex | QPersistentModelIndex
MESSAGE_ROLE = Qt.ItemDataRole.UserRole + 1
LIMIT = 5000
LEVELS = ("info", "warning", "error")
_COLOURS = {"warning": "#b26a00", "error": "#c62828"}


@dataclass(frozen=True)
class Message:
    text: str
    level: str = "info"  # info | warning | error
    evidence_id: int | None = None
    at: float = field(default_factory=time.time)

    @property
    def line(self) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(self.at))
        where = f"item {self.evidence_id}: " if self.evidence_id is not None else ""
        return f"{stamp}  {where}{self.text}"


class MessagesModel(QAbstractListModel):
    def __init__(self) -> None:
        super().__init__()
        self._items: list[Message] = []

    def add(self, message: Message) -> None:
        if len(self._items) >= LIMIT:
            self.beginRemoveRows(QModelIndex(), 0, 0)
            del self._items[0]
            self.endRemoveRows()
        self.beginInsertRows(QModelIndex(), len(self._items), len(self._items))
        self._items.append(message)
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self._items.clear()
        self.endResetModel()

    def messages(self) -> list[Message]:
        return list(self._items)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        message = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return message.line
        if role == Qt.ItemDataRole.ToolTipRole:
            return message.text
        if role == Qt.ItemDataRole.ForegroundRole and message.level in _COLOURS:
            return QBrush(QColor(_COLOURS[message.level]))
        if role == MESSAGE_ROLE:
            return message
        return None
