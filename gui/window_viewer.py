"""The viewer, the timeline, the bookmarks and the model comparison, and how they follow each other.

Selecting an item loads its run view on the reader thread; the viewer asks for frames one at
a time (an older request still waiting is dropped when a newer one comes); the timeline's
cursor follows the viewer and a click on the timeline moves the viewer. Notes, tags and
bookmarks made here are on the current frame. A saved or copied view is hashed and logged.
"""

from __future__ import annotations

from dataclasses import replace
import hashlib
import os
from typing import TYPE_CHECKING

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog, QInputDialog

from engine.api import Annotation, EvidenceSummary
from gui.engine_thread import Ticket
from gui.jobs import Annotate, ExcludeTrack, LoadBookmarks, LogAction, UpdateBookmark
from gui.viewer.jobs import FrameBundle, ItemView, LoadForensicMap, LoadFrame, LoadItemView, MapBundle

if TYPE_CHECKING:
    from gui.main_window import MainWindow

    Base = MainWindow
else:
    Base = object


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


class ViewerActions(Base):
    def load_item_view(self, summary: EvidenceSummary | None) -> None:
        if summary is None:
            self.viewer.show_item(None)
            self.timeline.show_timeline(None, ())
            self.compare.show_comparison(None, (), None)
            return
        run_id = summary.verdict_run_id or (summary.run_id if summary.verdicts else None)
        self.engine.submit(LoadItemView(summary.evidence.id, run_id), on_done=self._item_view_ready)

    def _item_view_ready(self, view: ItemView) -> None:
        current = self.case_panel.current()
        if current is None or current.evidence.id != view.evidence.id:
            return
        self.item_view = view
        self.viewer.show_item(view)
        pending = getattr(self, "_pending_frame", None)
        if pending is not None:
            self._pending_frame = None
            self.viewer.go_to(pending)
        video = view.evidence.metadata.get("video") or {}
        fps = video.get("fps") if isinstance(video.get("fps"), (int, float)) and video.get("fps") else None
        self.timeline.show_timeline(view.timeline, view.bookmarks, view.evidence.media_kind, fps=fps)
        self.compare.show_comparison(view.run_id, view.verdicts, view.agreement)

    def frame_wanted(self, evidence_id: int, frame_index: int) -> None:
        waiting: Ticket | None = getattr(self, "_frame_ticket", None)
        if waiting is not None:
            waiting.cancel()  # still queued: dropped; already running: its answer is ignored
        view = getattr(self, "item_view", None)
        if view is None or view.evidence.id != evidence_id:
            return
        self._frame_ticket = self.engine.submit(LoadFrame(evidence_id, frame_index, view.run_id, view.overlays),
                                                on_done=self._frame_ready, on_error=self._frame_dropped)

    def _frame_ready(self, bundle: FrameBundle) -> None:
        self.viewer.show_frame(bundle)

    def _frame_dropped(self, error: BaseException) -> None:
        pass  # a cancelled request; a real failure is in the messages dock

    def map_wanted(self, evidence_id: int, frame_index: int, kind: str, params: object) -> None:
        """A forensic map of the frame on screen, computed on the reader thread (the engine caches it)."""
        waiting: Ticket | None = getattr(self, "_map_ticket", None)
        if waiting is not None:
            waiting.cancel()  # a map nobody looks at any more is not computed
        assert isinstance(params, tuple)
        self._map_ticket = self.engine.submit(LoadForensicMap(evidence_id, frame_index, kind, params),
                                              on_done=self._map_ready, on_error=self._frame_dropped)

    def _map_ready(self, bundle: MapBundle) -> None:
        self.viewer.show_map(bundle)

    def frame_shown(self, evidence_id: int, frame_index: int) -> None:
        self.timeline.set_cursor(frame_index)

    def timeline_clicked(self, frame_index: int) -> None:
        self.viewer.go_to(frame_index)

    # -- not a face ---------------------------------------------------------------------------
    def set_track_excluded(self, run_id: int, evidence_id: int, track_id: int, exclude: bool) -> None:
        if self.overview is None or self.overview.readonly:
            self.message("the case is read-only: a track cannot be excluded", "warning")
            return
        self.engine.submit(ExcludeTrack(run_id, evidence_id, track_id, exclude), on_done=self._track_judged)

    def _track_judged(self, verdicts: tuple) -> None:
        lead = next((v for v in verdicts if v.model == "ensemble"), verdicts[0] if verdicts else None)
        if lead is not None:
            self.message(f"verdicts judged again: {lead.model} {lead.label}"
                         + (f" ({lead.score:.3f})" if lead.score is not None else ""))
        self.load_item_view(self.case_panel.current())

    # -- notes, tags and bookmarks on the current frame ------------------------------------------------
    def _current_frame(self) -> tuple[int, int | None] | None:
        view = getattr(self, "item_view", None)
        current = self.case_panel.current()
        if current is None:
            return None
        if view is not None and view.evidence.id == current.evidence.id and self.viewer.frame_index is not None:
            return current.evidence.id, self.viewer.frame_index
        return current.evidence.id, None

    def bookmark_frame(self) -> None:
        target = self._current_frame()
        if target is None or self.overview is None or self.overview.readonly:
            return
        # The forensic layer on screen goes into the comment (editable), so the bookmark says what was seen.
        layer = self.viewer.forensic_description()
        text, ok = QInputDialog.getText(self, "Bookmark", f"Comment on frame {target[1] or 0} (optional):",
                                        text=f"{layer}: " if layer else "")
        if ok:
            self.engine.submit(Annotate("bookmark", target[0], text.strip(), target[1] or 0, "ok"),
                               on_done=self._bookmarks_changed)

    def note_frame(self) -> None:
        self._frame_annotation("note", "Note", "Note on this frame:")

    def tag_frame(self) -> None:
        self._frame_annotation("tag", "Tag", "Tag:")

    def _frame_annotation(self, kind: str, title: str, label: str) -> None:
        target = self._current_frame()
        if target is None or self.overview is None or self.overview.readonly:
            return
        text, ok = QInputDialog.getText(self, title, label)
        if ok and text.strip():
            self.engine.submit(Annotate(kind, target[0], text.strip(), target[1] if kind == "note" else None),
                               on_done=self._bookmarks_changed)

    def _bookmarks_changed(self, _: object = None) -> None:
        self.refresh_bookmarks()
        self.selection_changed()

    def refresh_bookmarks(self) -> None:
        if self.overview is None:
            self.bookmarks_model.set_bookmarks((), {})
            return
        self.engine.submit(LoadBookmarks(), on_done=self._bookmarks_ready)

    def _bookmarks_ready(self, bookmarks: tuple[Annotation, ...]) -> None:
        names = {s.evidence.id: s.evidence.path_given for s in self.evidence_model.summaries()}
        self.bookmarks_model.set_bookmarks(bookmarks, names)
        view = getattr(self, "item_view", None)
        if view is not None:  # the item shown keeps its flags on the timeline up to date
            own = tuple(b for b in bookmarks if b.evidence_id == view.evidence.id)
            if own != view.bookmarks:
                self.item_view = replace(view, bookmarks=own)
                self.timeline.set_bookmarks(own)

    def bookmark_go_to(self, evidence_id: int, frame_index: int) -> None:
        view = getattr(self, "item_view", None)
        if self.case_panel.current_if(evidence_id) is not None and view is not None \
                and view.evidence.id == evidence_id:
            self.viewer.go_to(frame_index)
        elif self.case_panel.select(evidence_id):
            self._pending_frame = frame_index

    def set_bookmark_status(self, annotation_id: int, status: str) -> None:
        self.engine.submit(UpdateBookmark(annotation_id, status=status), on_done=self._bookmarks_changed)

    def edit_bookmark(self, bookmark: Annotation) -> None:
        text, ok = QInputDialog.getMultiLineText(self, "Bookmark comment", "Comment:", bookmark.text)
        if ok:
            self.engine.submit(UpdateBookmark(bookmark.id, text=text), on_done=self._bookmarks_changed)

    # -- saving what the viewer shows ---------------------------------------------------------------
    def _view_details(self, image: QImage, data: bytes) -> tuple[tuple[str, object], ...]:
        view = getattr(self, "item_view", None)
        layers = self.viewer.layers
        shown = self.viewer.current_map()
        made = shown.map if shown is not None else None
        return (("evidence_id", view.evidence.id if view else None), ("frame_index", self.viewer.frame_index),
                ("run_id", view.run_id if view else None), ("sha256", hashlib.sha256(data).hexdigest()),
                ("size", [image.width(), image.height()]), ("overlay", layers.model.currentData()
                                                              if layers.overlay.isChecked() else None),
                ("opacity", layers.opacity_value), ("side_by_side", layers.side_by_side.isChecked()),
                ("forensic_layer", made.kind if made is not None else None),
                ("forensic_params", dict(made.params) if made is not None else None),
                ("forensic_opacity", layers.map_opacity_value if made is not None and made.aligned else None))

    def save_view(self) -> None:
        if self.overview is None or self.viewer.bundle is None or self.viewer.bundle.image is None:
            return
        start = os.path.join(os.path.dirname(self.overview.path), f"frame-{self.viewer.frame_index}.png")
        path, _ = QFileDialog.getSaveFileName(self, "Save the view as PNG", start, "PNG (*.png)")
        if path:
            self.save_view_to(path)

    def save_view_to(self, path: str) -> str:
        image = self.viewer.view_image()
        data = png_bytes(image)
        with open(path, "wb") as handle:
            handle.write(data)
        details = (("path", os.path.abspath(path)),) + self._view_details(image, data)
        self._log_view("view exported", details)
        self.message(f"view saved to {path}, SHA-256 {dict(details)['sha256']}")
        return str(dict(details)["sha256"])

    def copy_view(self) -> None:
        if self.viewer.bundle is None or self.viewer.bundle.image is None:
            return
        image = self.viewer.view_image()
        QGuiApplication.clipboard().setImage(image)
        self._log_view("view copied", self._view_details(image, png_bytes(image)))

    def _log_view(self, action: str, details: tuple[tuple[str, object], ...]) -> None:
        if self.overview is not None and not self.overview.readonly:
            self.engine.submit(LogAction(action, details))
        else:
            self.message(f"{action} (not logged: the case is read-only)", "warning")
