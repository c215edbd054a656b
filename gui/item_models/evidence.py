"""The evidence table: a QAbstractTableModel over the case's EvidenceSummary records, and its filter.

Rows are replaced whole from the engine thread's records: the full overview when a case
opens or a job ends, single rows as each item finishes during a run or an add. Sorting
uses a sort key per column (numbers sort as numbers, missing values last); the filter box
matches the name, a tag or the verdict.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QPixmap

from engine.api import EvidenceSummary
from gui.item_models.table import RecordTableModel
from gui.present import STATUS_TEXT, chip, human_size, media_facts, score_text

Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
SUMMARY_ROLE = Qt.ItemDataRole.UserRole + 2  # the row's EvidenceSummary
CHIP_ROLE = Qt.ItemDataRole.UserRole + 3  # the verdict chip's label

# What an analyst decides by comes first; file facts follow.
COLUMNS = ("", "Name", "Verdict", "Score", "Status", "Faces", "Tags", "Type", "Media", "Size", "SHA-256")
(THUMB, NAME, VERDICT, SCORE, STATUS, FACES, TAGS, TYPE, MEDIA, SIZE, SHA) = range(len(COLUMNS))


def _name(summary: EvidenceSummary) -> str:
    return os.path.basename(summary.evidence.path_given) or summary.evidence.path_given


class EvidenceTableModel(RecordTableModel[EvidenceSummary]):
    columns = COLUMNS

    def __init__(self, thumbnail: Callable[[EvidenceSummary], QPixmap | None] | None = None) -> None:
        super().__init__()
        self._row_of: dict[int, int] = {}
        self._thumbnail = thumbnail

    # -- filling ------------------------------------------------------------------------------
    def set_rows(self, rows: Sequence[EvidenceSummary]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._row_of = {s.evidence.id: i for i, s in enumerate(self._rows)}
        self.endResetModel()

    def update_rows(self, rows: Sequence[EvidenceSummary]) -> None:
        """Replace the rows of these items, appending items the table does not have yet."""
        new = [s for s in rows if s.evidence.id not in self._row_of]
        changed = []
        for summary in rows:
            row = self._row_of.get(summary.evidence.id)
            if row is not None and self._rows[row] != summary:
                self._rows[row] = summary
                changed.append(row)
        if changed:  # one signal for the lot: a sorted proxy re-sorts once, not once per row
            self.dataChanged.emit(self.index(min(changed), 0), self.index(max(changed), len(COLUMNS) - 1))
        if new:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(new) - 1)
            for summary in new:
                self._row_of[summary.evidence.id] = len(self._rows)
                self._rows.append(summary)
            self.endInsertRows()

    def thumbnail_ready(self, evidence_id: int) -> None:
        row = self._row_of.get(evidence_id)
        if row is not None:
            self.dataChanged.emit(self.index(row, THUMB), self.index(row, THUMB), [Qt.ItemDataRole.DecorationRole])

    def summary(self, row: int) -> EvidenceSummary:
        return self._rows[row]

    def row_of(self, evidence_id: int) -> int | None:
        return self._row_of.get(evidence_id)

    def summaries(self) -> list[EvidenceSummary]:
        return list(self._rows)

    # -- Qt's side ----------------------------------------------------------------------------
    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole and section == THUMB:
            return "Thumbnail"
        return super().headerData(section, orientation, role)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        summary = self._rows[index.row()]
        column = index.column()
        if role == SUMMARY_ROLE:
            return summary
        if role == CHIP_ROLE:
            return chip(summary)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(summary, column)
        if role == SORT_ROLE:
            return self._sort_key(summary, column)
        if role == Qt.ItemDataRole.DecorationRole and column == THUMB and self._thumbnail is not None:
            return self._thumbnail(summary)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(summary, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (SIZE, SCORE, FACES):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _text(summary: EvidenceSummary, column: int) -> str:
        evidence = summary.evidence
        headline = summary.headline
        faces = summary.faces
        texts = {
            NAME: _name(summary),
            TYPE: evidence.media_format or evidence.media_kind or "?",
            MEDIA: media_facts(evidence.metadata),
            SIZE: human_size(evidence.size),
            SHA: evidence.sha256[:12] + "…",
            VERDICT: chip(summary),
            SCORE: score_text(headline.score) if headline else "",
            FACES: "" if faces is None else str(faces),
            STATUS: STATUS_TEXT.get(summary.status, str(summary.status)),
            TAGS: ", ".join(summary.tags),
        }
        return texts.get(column, "")

    @staticmethod
    def _sort_key(summary: EvidenceSummary, column: int) -> Any:
        evidence = summary.evidence
        if column in (THUMB, NAME):
            return _name(summary).lower()
        if column == SIZE:
            return float(evidence.size)
        if column == SCORE:
            headline = summary.headline
            return -1.0 if headline is None or headline.score is None else float(headline.score)
        if column == FACES:
            return -1.0 if summary.faces is None else float(summary.faces)
        return EvidenceTableModel._text(summary, column).lower()

    @staticmethod
    def _tooltip(summary: EvidenceSummary, column: int) -> str | None:
        evidence = summary.evidence
        if column == SHA:
            return evidence.sha256
        if column in (THUMB, NAME):
            return evidence.path_given
        if column == FACES and summary.face_detections is not None:
            return f"{summary.faces} distinct face(s), {summary.face_detections} detection(s) over the sampled frames"
        if column in (VERDICT, STATUS) and summary.errors:
            return "\n".join(f"{e.stage}: {e.message}" for e in summary.errors[:5])
        return None


class EvidenceFilter(QSortFilterProxyModel):
    """Sorts by each column's key; keeps rows whose name, tags or verdict contain the filter text."""

    def __init__(self) -> None:
        super().__init__()
        self.setSortRole(SORT_ROLE)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._needle = ""

    def set_text(self, text: str) -> None:
        self._needle = text.strip().lower()
        self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if not self._needle:
            return True
        model = self.sourceModel()
        assert isinstance(model, EvidenceTableModel)
        summary = model.summary(source_row)
        haystack = " ".join([_name(summary), *summary.tags, chip(summary), str(summary.evidence.id)]).lower()
        return all(word in haystack for word in self._needle.split())

    def lessThan(self, left: Index, right: Index) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        if type(a) is type(b):
            return bool(a < b)
        return str(a) < str(b)
