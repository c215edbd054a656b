"""The bookmarks dock's model: every bookmark of the case, with its item, frame, status and comment."""

from __future__ import annotations

import os
from typing import Any, Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from engine.api import Annotation, BookmarkStatus
from gui.item_models.table import RecordTableModel
from gui.present import when

Index = QModelIndex | QPersistentModelIndex
BOOKMARK_ROLE = Qt.ItemDataRole.UserRole + 1
COLUMNS = ("Status", "Item", "Frame", "Comment", "Author", "When")
STATUS, ITEM, FRAME, COMMENT, AUTHOR, WHEN = range(len(COLUMNS))
STATUS_TEXT = {BookmarkStatus.OK: "ok", BookmarkStatus.CHECK: "to check", BookmarkStatus.WARNING: "warning"}
STATUS_COLOURS = {BookmarkStatus.OK: "#2e7d32", BookmarkStatus.CHECK: "#b26a00", BookmarkStatus.WARNING: "#c62828"}


class BookmarksModel(RecordTableModel[Annotation]):
    columns = COLUMNS

    def __init__(self) -> None:
        super().__init__()
        self._names: dict[int, str] = {}

    def set_bookmarks(self, bookmarks: Sequence[Annotation], names: dict[int, str]) -> None:
        self.beginResetModel()
        self._rows = sorted(bookmarks, key=lambda b: (b.evidence_id, b.frame_index or 0, b.id))
        self._names = dict(names)
        self.endResetModel()

    def bookmark(self, row: int) -> Annotation:
        return self._rows[row]

    def bookmarks(self) -> list[Annotation]:
        return list(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        bookmark = self._rows[index.row()]
        status = getattr(bookmark, "status", None) or BookmarkStatus.OK
        if role == BOOKMARK_ROLE:
            return bookmark
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == STATUS:
            return QBrush(QColor(STATUS_COLOURS.get(status, "#2e7d32")))
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == COMMENT:
            return bookmark.text or None
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        name = self._names.get(bookmark.evidence_id, f"item {bookmark.evidence_id}")
        return {STATUS: "● " + STATUS_TEXT.get(status, str(status)), ITEM: os.path.basename(name),
                FRAME: "" if bookmark.frame_index is None else str(bookmark.frame_index),
                COMMENT: bookmark.text.replace("\n", " "), AUTHOR: bookmark.author,
                WHEN: when(bookmark.created_at)}.get(index.column(), "")
