"""The case panel (left dock): the case's title, number and examiner, a filter box, the evidence table.

Files and folders dropped on the table are handed on as paths (`files_dropped`); a dropped
.dfwcase is a case to open, not evidence (`case_dropped`). The table is a view over the
evidence model through its sort/filter proxy; the panel never holds records of its own.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QPoint, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QLineEdit, QTableView, QVBoxLayout, QWidget

from engine.api import CASE_SUFFIX, CaseOverview, EvidenceSummary
from gui.item_models.evidence import (
    NAME, SCORE, SUMMARY_ROLE, THUMB, VERDICT, EvidenceFilter, EvidenceTableModel,
)
from gui.widgets.chips import ChipDelegate


def dropped_paths(event: QDropEvent | QDragEnterEvent) -> list[str]:
    data = event.mimeData()
    return [url.toLocalFile() for url in data.urls() if url.isLocalFile()] if data.hasUrls() else []


class EvidenceView(QTableView):
    files_dropped = Signal(list)
    case_dropped = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: ANN001 - QDragMoveEvent
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = dropped_paths(event)
        cases = [p for p in paths if p.lower().endswith(CASE_SUFFIX)]
        files = [p for p in paths if p not in cases]
        event.acceptProposedAction()
        if cases:
            self.case_dropped.emit(cases[0])
        if files:
            self.files_dropped.emit(files)


class CasePanel(QWidget):
    selection_changed = Signal()
    context_menu = Signal(QPoint)

    def __init__(self, model: EvidenceTableModel) -> None:
        super().__init__()
        self.model = model
        self.proxy = EvidenceFilter()
        self.proxy.setSourceModel(model)
        self.heading = QLabel()
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.heading.setWordWrap(True)
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.heading.setFont(font)
        self.subheading = QLabel()
        self.subheading.setTextFormat(Qt.TextFormat.PlainText)
        self.subheading.setWordWrap(True)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by name, tag or verdict")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.set_text)
        self.table = EvidenceView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(NAME, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setItemDelegateForColumn(VERDICT, ChipDelegate(self.table))
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self.context_menu)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self.selection_changed)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.subheading)
        layout.addWidget(self.filter)
        layout.addWidget(self.table, 1)
        self.set_thumbnail_size(64)
        self.show_case(None)

    def set_thumbnail_size(self, size: int) -> None:
        self.table.setIconSize(self.table.iconSize().scaled(size, size, Qt.AspectRatioMode.IgnoreAspectRatio))
        self.table.verticalHeader().setDefaultSectionSize(max(size + 6, self.fontMetrics().height() + 8))
        self.table.setColumnWidth(THUMB, size + 10)

    def show_case(self, overview: CaseOverview | None) -> None:
        if overview is None:
            self.heading.setText("No case open")
            self.subheading.setText("File → New case (Ctrl+N) or Open case (Ctrl+O)")
            return
        info = overview.info
        self.heading.setText(info.title + (f"  ·  no. {info.number}" if info.number else ""))
        count = len(overview.evidence)
        self.subheading.setText(f"Examiner {info.examiner}" + (f", {info.organisation}" if info.organisation else "")
                                + f"  ·  {count} item{'s' if count != 1 else ''}")

    def fit_columns(self) -> None:
        for column in range(1, self.model.columnCount()):
            if column != SCORE:
                self.table.resizeColumnToContents(column)
        self.table.setColumnWidth(NAME, min(self.table.columnWidth(NAME), self.fontMetrics().averageCharWidth() * 34))

    def selected(self) -> list[EvidenceSummary]:
        rows = self.table.selectionModel().selectedRows()
        return [index.data(SUMMARY_ROLE) for index in sorted(rows, key=lambda i: i.row())]

    def current(self) -> EvidenceSummary | None:
        index = self.table.currentIndex()
        return index.data(SUMMARY_ROLE) if index.isValid() else None

    def current_if(self, evidence_id: int) -> EvidenceSummary | None:
        """The current row if it is that item, else None: an answer about another item is stale."""
        current = self.current()
        return current if current is not None and current.evidence.id == evidence_id else None

    def select(self, evidence_id: int) -> bool:
        row = self.model.row_of(evidence_id)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, NAME))
        if not index.isValid():  # hidden by the filter: show everything again
            self.filter.clear()
            index = self.proxy.mapFromSource(self.model.index(row, NAME))
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)
        return True
