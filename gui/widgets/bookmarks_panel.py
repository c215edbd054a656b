"""The bookmarks dock: every bookmark of the case; click one to go to its item and frame.

Keys 1, 2 and 3 set the selected bookmark's status (ok, to check, warning); double-click or
Enter edits its comment. Every change goes through the engine and the audit log.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from engine.api import Annotation, BookmarkStatus
from gui.item_models.bookmarks import BOOKMARK_ROLE, COMMENT, BookmarksModel


class BookmarksPanel(QWidget):
    go_to = Signal(int, int)  # evidence id, frame index
    status_wanted = Signal(int, str)  # annotation id, status
    edit_wanted = Signal(object)  # the Annotation whose comment to edit

    def __init__(self, model: BookmarksModel) -> None:
        super().__init__()
        self.model = model
        self.view = QTableView()
        self.view.setModel(model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.verticalHeader().hide()
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COMMENT, QHeaderView.ResizeMode.Stretch)
        self.view.clicked.connect(self._clicked)
        self.view.doubleClicked.connect(self._edit)
        hint = QLabel("B bookmarks the frame in the viewer · 1 ok · 2 to check · 3 warning · double-click edits")
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(hint)
        for key, status in (("1", BookmarkStatus.OK), ("2", BookmarkStatus.CHECK), ("3", BookmarkStatus.WARNING)):
            shortcut = QShortcut(QKeySequence(key), self.view, context=Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(lambda s=status: self._set_status(s))  # a GUI-thread shortcut, not a worker signal
        enter = QShortcut(QKeySequence(Qt.Key.Key_Return), self.view, context=Qt.ShortcutContext.WidgetShortcut)
        enter.activated.connect(self._edit_current)

    def selected(self) -> Annotation | None:
        rows = self.view.selectionModel().selectedRows()
        return rows[0].data(BOOKMARK_ROLE) if rows else None

    def _clicked(self, index: QModelIndex) -> None:
        bookmark = index.data(BOOKMARK_ROLE)
        if bookmark is not None:
            self.go_to.emit(bookmark.evidence_id, bookmark.frame_index or 0)

    def _set_status(self, status: BookmarkStatus) -> None:
        bookmark = self.selected()
        if bookmark is not None:
            self.status_wanted.emit(bookmark.id, str(status))

    def _edit(self, index: QModelIndex) -> None:
        bookmark = index.data(BOOKMARK_ROLE)
        if bookmark is not None:
            self.edit_wanted.emit(bookmark)

    def _edit_current(self) -> None:
        bookmark = self.selected()
        if bookmark is not None:
            self.edit_wanted.emit(bookmark)
