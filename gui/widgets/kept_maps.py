"""Under the provenance findings: the forensic maps kept in the case for the selected item.

K in the viewer keeps the map on screen (its PNG and everything that made it); here they are
listed, one row each, and the selected one can be removed (asked first; the removal is
audited). Like the findings above them, kept maps stand beside the verdicts, never in them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QLabel, QListView, QPushButton, QVBoxLayout, QWidget

from engine.api import KeptMap
from gui.item_models.kept_maps import KEPT_MAP_ROLE, KeptMapsModel

VISIBLE_MAPS = 3  # the list's height before it scrolls: the findings above keep most of the tab
EMPTY_HINT = ("No map kept for this item. K in the viewer keeps the forensic map on screen in the case, "
              "with its PNG and the parameters that made it.")


class KeptMapsPanel(QWidget):
    remove_wanted = Signal(object)  # the KeptMap to remove

    def __init__(self) -> None:
        super().__init__()
        self.model = KeptMapsModel()
        self.evidence_id: int | None = None
        self.writable = False
        self.heading = QLabel()
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.view = QListView()
        self.view.setModel(self.model)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)  # one map from the next, at a glance
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)  # the tooltip has every line in full
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.selectionModel().selectionChanged.connect(self._enable)
        self.remove = QPushButton("Remove…")
        self.remove.clicked.connect(self._remove_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self.remove)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, self.fontMetrics().height() // 2, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.hint)
        layout.addWidget(self.view)
        layout.addLayout(buttons)
        self.show_nothing()

    def show_nothing(self) -> None:
        self.evidence_id = None
        self.model.set_maps(())
        self.hide()

    def show_waiting(self, evidence_id: int) -> None:
        self.evidence_id = evidence_id
        self.model.set_maps(())
        self._show("Reading the kept maps…")

    def show_maps(self, evidence_id: int, maps: tuple[KeptMap, ...], video: bool,
                  unreadable: tuple[tuple[int, str], ...] = ()) -> None:
        """The item's maps; the same list again leaves the list (and its selection) as it is.
        `unreadable`: (row id, why) of damaged rows, named under the heading."""
        kept = self.selected()
        if (evidence_id, video, sorted(m.id for m in maps)) != (self.evidence_id, self.model.video,
                                                                 sorted(m.id for m in self.model.maps())):
            self.model.set_maps(maps, video)
            if kept is not None and evidence_id == self.evidence_id:
                self.select(kept.id)
        self.evidence_id = evidence_id
        if unreadable:
            rows = ", ".join(str(row) for row, _ in unreadable)
            self._show(f"{len(unreadable)} kept map(s) cannot be read (row {rows}; see Messages); "
                       "`python main.py verify` tells whether the case was altered.")
        else:
            self._show(EMPTY_HINT if not maps else "")

    def _show(self, hint: str) -> None:
        count = self.model.rowCount()
        shown = sum(self.view.sizeHintForRow(row) for row in range(min(count, VISIBLE_MAPS)))
        self.view.setFixedHeight(shown + 2 * self.view.frameWidth())
        self.heading.setText(f"Kept maps · {count}" if count else "Kept maps")
        self.hint.setText(hint)
        self.hint.setVisible(bool(hint))
        self.view.setVisible(count > 0)
        self.remove.setVisible(count > 0)
        self._enable()
        self.show()

    def set_writable(self, writable: bool) -> None:
        self.writable = writable
        self._enable()

    def selected(self) -> KeptMap | None:
        rows = self.view.selectionModel().selectedRows()
        return rows[0].data(KEPT_MAP_ROLE) if rows else None

    def select(self, map_id: int) -> bool:
        for row, kept in enumerate(self.model.maps()):
            if kept.id == map_id:
                self.view.setCurrentIndex(self.model.index(row))
                return True
        return False

    def _enable(self) -> None:
        self.remove.setEnabled(self.writable and self.selected() is not None)
        self.remove.setToolTip("Remove the selected map from the case (asked first; the removal is audited)"
                               if self.writable else "The case is read-only: nothing can be removed")

    def _remove_clicked(self) -> None:
        kept = self.selected()
        if kept is not None and self.writable:
            self.remove_wanted.emit(kept)
