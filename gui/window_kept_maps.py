"""Keeping the forensic map the viewer shows in the case, and the item's kept maps.

Viewer → Keep this map in the case (K) is on while a forensic map is on screen and the case
can be written. It asks for an optional comment, then a write job on the engine thread has
the engine make the map again with the parameters the viewer asked for (or take it from its
cache: the same map) and store its PNG with everything that made it, audited. The details
panel's Provenance tab lists the item's kept maps (read on the reader thread) and removes
the selected one once the analyst confirms; both lists are read again after each change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QInputDialog

from engine.api import EvidenceSummary, KeptMap
from gui.kept_map_jobs import KeepMap, KeptMapsView, LoadKeptMaps, RemoveKeptMap, map_noun
from gui.viewer.layers import layer_name

if TYPE_CHECKING:
    from gui.main_window import MainWindow

    Base = MainWindow
else:
    Base = object

STATUS_MS = 15_000  # how long the status bar says a map was kept


class KeptMapActions(Base):
    def connect_kept_maps(self) -> None:
        self._kept_maps_of: tuple[str, int] | None = None  # (case, item) whose list the panel shows
        self.viewer.map_shown.connect(self._map_shown)
        self.details.provenance.kept.remove_wanted.connect(self.remove_kept_map)

    @Slot(bool)
    def _map_shown(self, _on_screen: bool) -> None:
        self.update_actions()

    def _writable(self) -> bool:
        return self.overview is not None and not self.overview.readonly

    def _place(self, evidence_id: int, frame_index: int) -> str:
        view = getattr(self, "item_view", None)
        if view is not None and view.evidence.id == evidence_id:
            return self.viewer.where(frame_index)
        return f"frame {frame_index}"

    # -- keeping the map on screen -------------------------------------------------------------------
    def keep_map(self) -> None:
        shown = self.viewer.current_map()
        if shown is None or shown.map is None or not self._writable():
            return
        asked = ", ".join(f"{name} {value}" for name, value in shown.params)
        what = f"The {map_noun(shown.kind)} of {self._place(shown.evidence_id, shown.frame_index)}" + (
            f" ({asked})" if asked else "")
        text, ok = QInputDialog.getText(
            self, "Keep this map in the case", f"{what} is kept in the case\nwith its PNG, its legend and every "
            "parameter that made it (audited).\n\nComment (optional):")
        if ok:
            self.keep_shown_map(text.strip())

    def keep_shown_map(self, note: str = "") -> None:
        """Keep the map on screen with `note`, asking nothing (the screenshot tool's way in)."""
        shown = self.viewer.current_map()
        if shown is not None and shown.map is not None and self._writable():
            self.engine.submit(KeepMap(shown.evidence_id, shown.frame_index, shown.kind, shown.params, note),
                               on_done=self._map_kept)

    def _map_kept(self, kept: KeptMap) -> None:
        text = f"kept the {map_noun(kept.kind)} of {self._place(kept.evidence_id, kept.frame_index)} as map {kept.id}"
        self.statusBar().showMessage(text, STATUS_MS)
        self.message(text, "info", kept.evidence_id)
        self._read_kept_maps_again(kept.evidence_id)

    # -- the list in the details panel ---------------------------------------------------------------
    def load_kept_maps(self, current: EvidenceSummary | None, again: bool = False) -> None:
        """The selected item's kept maps, read once per item (and again after a change here:
        only this window writes to the case)."""
        panel = self.details.provenance.kept
        panel.set_writable(self._writable())
        if current is None or self.overview is None:
            self._kept_maps_of = None
            panel.show_nothing()
            return
        key = (self.overview.path, current.evidence.id)
        if key == self._kept_maps_of and not again:
            return
        if key != self._kept_maps_of:
            panel.show_waiting(current.evidence.id)
        self._kept_maps_of = key
        self.engine.submit(LoadKeptMaps(current.evidence.id), on_done=self._kept_maps_ready)

    def _kept_maps_ready(self, view: KeptMapsView) -> None:
        if self.case_panel.current_if(view.evidence_id) is not None:
            self.details.provenance.kept.show_maps(view.evidence_id, view.maps, view.video, view.unreadable)
            for row, why in view.unreadable:
                self.message(f"kept map row {row} cannot be read and is not listed: {why}", "error", view.evidence_id)

    def _read_kept_maps_again(self, evidence_id: int) -> None:
        current = self.case_panel.current_if(evidence_id)
        if current is not None:
            self.load_kept_maps(current, again=True)

    @Slot(object)
    def remove_kept_map(self, kept: object) -> None:
        if not isinstance(kept, KeptMap) or not self._writable():
            return
        what = f"{layer_name(kept.kind)} of {self._place(kept.evidence_id, kept.frame_index)}"
        if not self.confirm("Remove a kept map", f"Remove map {kept.id} ({what}) from the case?\n\nIts picture "
                            "is deleted; the audit log keeps that it was kept and removed, with its SHA-256."):
            return
        self.engine.submit(RemoveKeptMap(kept.id, kept.evidence_id), on_done=self._kept_map_removed)

    def _kept_map_removed(self, removed: tuple[int, int]) -> None:
        map_id, evidence_id = removed
        self.message(f"removed kept map {map_id}", "info", evidence_id)
        self._read_kept_maps_again(evidence_id)
