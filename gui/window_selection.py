"""What follows the selected evidence item: the viewer, its details and its provenance.

A new current row loads the item into the viewer (again when its verdicts now come from
another run), its kept maps, and its details and provenance findings, each read on the
reader thread; an answer that arrives after the selection moved on is dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Slot

from engine.api import EvidenceDetails, EvidenceSummary

if TYPE_CHECKING:
    from gui.main_window import MainWindow

    Base = MainWindow
else:
    Base = object


class SelectionActions(Base):
    @Slot()
    def selection_changed(self) -> None:
        current = self.case_panel.current()
        self.update_actions()
        shown = getattr(self, "item_view", None)
        if current is None or shown is None or shown.evidence.id != current.evidence.id \
                or shown.run_id != (current.verdict_run_id or None):
            self.load_item_view(current)  # a new item, or its verdicts now come from another run
        self.load_kept_maps(current)
        if current is None:
            self.details.show_details(None)
            self.details.show_provenance(None)
            return
        from gui.jobs import Details

        self.engine.submit(Details(current.evidence.id), on_done=self._details_ready)
        self.load_provenance(current)

    def _details_ready(self, details: EvidenceDetails) -> None:
        if self.case_panel.current_if(details.summary.evidence.id) is not None:
            self.details.show_details(details)

    # -- provenance findings (the details panel's own tab; never part of a verdict) -------------------
    def load_provenance(self, current: EvidenceSummary, read_clip: bool = False) -> None:
        """Read on the reader thread: stored at intake, else from the file (a clip only on request).
        The item already shown is not read again each time its row changes during a run."""
        shown = self.details.provenance.view
        if not read_clip and shown is not None and (shown.evidence_id, shown.sha256) == (current.evidence.id,
                                                                                         current.evidence.sha256):
            return
        if read_clip or self.details.provenance.evidence_id != current.evidence.id:
            self.details.show_provenance(None, waiting_for=current.evidence.id)
        from gui.provenance_jobs import LoadProvenance

        self.engine.submit(LoadProvenance(current.evidence.id, read_clip), on_done=self._provenance_ready)

    def _provenance_ready(self, view: object) -> None:
        from gui.provenance_jobs import ProvenanceView

        if isinstance(view, ProvenanceView) and self.case_panel.current_if(view.evidence_id) is not None:
            self.details.show_provenance(view)

    @Slot(int)
    def _read_clip_provenance(self, evidence_id: int) -> None:
        current = self.case_panel.current_if(evidence_id)
        if current is not None:
            self.load_provenance(current, read_clip=True)

    @Slot(int)
    def select_evidence(self, evidence_id: int) -> None:
        self.case_panel.select(evidence_id)
