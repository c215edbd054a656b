"""The viewer (centre): the selected item's sampled frame with its layers, stepped frame by frame.

←/→ previous/next sampled frame, Home/End first/last, PgDn/PgUp next/previous frame at or
over the threshold, +/− zoom, 0 fit, 1 100 %, O overlay on/off, L / Shift+L next/previous
forensic layer (K, a window action, keeps the map on screen in the case). The frame index and
its time are always shown. Frames come from the reader thread (the exact frame the scores
refer to, the evidence file's hash checked first); while one is being read, the view says so
instead of keeping the last frame up as if it were current.

A forensic layer is asked for once its frame is on screen and computed on the reader thread.
An aligned map (error level, noise level, residual) lies over the frame with its own opacity,
or on the right side by side; the spectrum is in frequency space, so it is only ever shown
beside the frame (on the right, not synchronised), never over it. The map's legend and
statement stand under the views.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QToolButton, QVBoxLayout, QWidget

from engine.api import FrameRegion
from gui.present import clock
from gui.viewer.frame_view import FrameView
from gui.viewer.jobs import FrameBundle, ItemView, MapBundle
from gui.viewer.forensic_layer import ForensicLayer
from gui.viewer.layers import VALUE_WORDS, LayerPanel, MapLegend

KEYS = {"Left": "previous", "Right": "next", "Home": "first", "End": "last", "PgDown": "next_over",
        "PgUp": "previous_over", "+": "zoom_in", "=": "zoom_in", "-": "zoom_out", "0": "fit", "1": "actual",
        "O": "toggle_overlay", "L": "next_forensic_layer", "Shift+L": "previous_forensic_layer"}
MAP_DELAY_MS = 150  # a parameter stepped several times asks for one map, not one per step


def region_label(region: FrameRegion) -> str:
    """"face 0 · 0.49": the track and its headline score (the ensemble's, or the only model's)."""
    scores = [score for score in region.scores.values() if score is not None]
    headline = region.ensemble if region.ensemble is not None else (scores[0] if len(scores) == 1 else None)
    return f"face {region.track_id}" + (f" · {headline:.2f}" if headline is not None else "")


def region_tooltip(region: FrameRegion) -> str:
    lines = [f"face track {region.track_id}"]
    lines += [f"{model}: {score:.3f}" for model, score in region.scores.items() if score is not None]
    if region.ensemble is not None:
        lines.append(f"ensemble: {region.ensemble:.3f}")
    return "\n".join(lines) + "\nRight-click: not a face"


class ViewerPanel(ForensicLayer, QWidget):
    frame_wanted = Signal(int, int)  # evidence id, frame index: the window asks the reader for it
    frame_shown = Signal(int, int)  # evidence id, frame index now on screen
    pixel_info = Signal(str)
    not_a_face = Signal(int, int, int, bool)  # run, evidence, track, exclude (False: count it again)
    save_requested = Signal()
    copy_requested = Signal()
    map_wanted = Signal(int, int, str, object)  # evidence id, frame index, kind, parameters (Params)
    map_shown = Signal(bool)  # a forensic map is on screen now, or no longer: what "keep" needs

    def __init__(self) -> None:
        super().__init__()
        self.item: ItemView | None = None
        self.bundle: FrameBundle | None = None
        self.map_bundle: MapBundle | None = None  # the last forensic map that came back
        self.frame_index: int | None = None
        self._map_on_screen = False
        self._right_key: tuple | None = None  # what the right view holds: the frame or the spectrum
        self._spectrum_shown = False
        self.left, self.right = FrameView(), FrameView()
        self.layers = LayerPanel()
        self.layers.changed.connect(self._layers_changed)
        self.layers.forensic_changed.connect(self._forensic_changed)
        self.legend = MapLegend()
        self._map_timer = QTimer(self)
        self._map_timer.setSingleShot(True)
        self._map_timer.setInterval(MAP_DELAY_MS)
        self._map_timer.timeout.connect(self._request_map)
        self.position = QLabel()
        self.position.setTextFormat(Qt.TextFormat.PlainText)
        font = self.position.font()
        font.setBold(True)
        self.position.setFont(font)
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("QLabel { color: #c62828; font-weight: bold; }")
        self.notice.hide()
        bar = QHBoxLayout()
        for text, handler, tip in (("◀", self.previous, "Previous sampled frame (←)"),
                                   ("▶", self.next, "Next sampled frame (→)"),
                                   ("−", self.zoom_out, "Zoom out (−)"), ("+", self.zoom_in, "Zoom in (+)"),
                                   ("Fit", self.fit, "Fit the frame (0)"), ("100 %", self.actual, "Actual pixels (1)"),
                                   ("Save PNG…", self.save_requested.emit, "Save the view as PNG (logged)"),
                                   ("Copy", self.copy_requested.emit, "Copy the view to the clipboard (logged)")):
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.clicked.connect(handler)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            bar.addWidget(button)
            if text == "▶":
                bar.addWidget(self.position, 1)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.left)
        self.splitter.addWidget(self.right)
        self.right.hide()
        views = QVBoxLayout()
        views.addWidget(self.splitter, 1)
        views.addWidget(self.legend)
        body = QHBoxLayout()
        body.addLayout(views, 1)
        body.addWidget(self.layers)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.notice)
        layout.addLayout(body, 1)
        self.left.view_changed.connect(self._left_moved)
        self.right.view_changed.connect(self._right_moved)
        self.left.hovered.connect(self._hovered)
        self.right.hovered.connect(self._hovered_right)
        for view in (self.left, self.right):
            view.box_menu.connect(self._box_menu)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        for key, name in KEYS.items():
            shortcut = QShortcut(QKeySequence(key), self, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(getattr(self, name))
        self.show_item(None)

    # -- what to show -------------------------------------------------------------------------
    def show_item(self, item: ItemView | None) -> None:
        self.item, self.bundle = item, None
        if item is None:
            self.frame_index = None
            self.left.set_image(None, "Select an item in the evidence table.")
            self.right.set_image(None)
            self._right_key = None
            self.position.setText("")
            self.layers.set_models((), {})
            self.legend.show_nothing()
            self._announce_map()
            return
        self.layers.set_models(item.overlay_models, {m: item.method_of(m) for m in item.overlay_models})
        self.go_to(item.frames[0])

    def go_to(self, frame_index: int) -> None:
        if self.item is None:
            return
        self.frame_index = frame_index
        self._announce_map()
        self._position()
        if self.bundle is None or self.bundle.frame_index != frame_index:
            self.left.set_image(None, f"Reading frame {frame_index}…")
            self.right.set_image(None)
            self._right_key = None
        self.frame_wanted.emit(self.item.evidence.id, frame_index)

    def show_frame(self, bundle: FrameBundle) -> None:
        if self.item is None or bundle.evidence_id != self.item.evidence.id or bundle.frame_index != self.frame_index:
            return  # an answer to an earlier question
        self.bundle = bundle
        self.notice.setVisible(bundle.error is not None)
        self.notice.setText(bundle.error or "")
        self.left.set_image(bundle.image, None if bundle.image is not None else "The frame cannot be shown.")
        self._right_key = None
        if bundle.image is not None:
            self.layers.set_picture_size(bundle.image.width(), bundle.image.height())
        self._request_map()
        self._layers_changed()
        self.frame_shown.emit(bundle.evidence_id, bundle.frame_index)

    def where(self, frame_index: int) -> str:
        video = self.item is not None and self.item.evidence.media_kind == "video"
        return f"frame {frame_index}" if video else "the picture"

    def _position(self) -> None:
        if self.item is None or self.frame_index is None:
            return
        frames = self.item.frames
        where = frames.index(self.frame_index) + 1 if self.frame_index in frames else 0
        stamp = self.item.timestamp(self.frame_index)
        when = f" · {clock(stamp)}" if stamp is not None else ""
        self.position.setText(f"frame {self.frame_index}{when} · {where} of {len(frames)} sampled")

    def _layers_changed(self) -> None:
        layers, bundle = self.layers, self.bundle
        layers.describe()
        self._announce_map()
        spectrum = layers.forensic_kind == "spectrum"
        side = layers.side_by_side.isChecked() and layers.side_by_side.isEnabled() and not spectrum
        beside = side or spectrum
        if beside and not self.right.isVisible():
            half = max(1, self.splitter.width() // 2)
            self.right.setVisible(True)
            self.splitter.setSizes([half, half])
            self.left.fit()
        self.right.setVisible(beside)
        self._spectrum_shown = spectrum
        if bundle is None or bundle.image is None:
            return
        shown = self.current_map()
        aligned = shown.image if shown is not None and shown.map is not None and shown.map.aligned else None
        self._fill_right(bundle, spectrum, shown)
        excluded = tuple(self.item.timeline.excluded_tracks) if self.item and self.item.timeline else ()
        labels = {r.track_id: region_label(r) for r in bundle.regions}
        self.left.set_boxes(bundle.regions, excluded, labels)
        self.left.set_box_tooltips({r.track_id: region_tooltip(r) for r in bundle.regions})
        self.left.set_boxes_visible(layers.boxes.isChecked())
        model = layers.model.currentData()
        show = layers.overlay.isChecked() and model is not None
        # Side by side, the left is the original (boxes only) and the right carries the overlay.
        self.left.set_overlays(self._pieces(model) if show and not side else (), layers.opacity_value)
        self.left.set_map(aligned if not side else None, layers.map_opacity_value)
        if side:
            other = layers.compare.currentData() or model
            self.right.set_boxes(bundle.regions, excluded, labels)
            self.right.set_boxes_visible(layers.boxes.isChecked())
            self.right.set_overlays(self._pieces(other) if layers.overlay.isChecked() else (), layers.opacity_value)
            self.right.set_map(aligned, layers.map_opacity_value)
            self.right.apply_state(self.left.state())

    def _fill_right(self, bundle: FrameBundle, spectrum: bool, shown: MapBundle | None) -> None:
        """The right view holds the frame (side by side) or the spectrum, set only when that changes,
        so moving a slider neither reloads it nor loses its zoom."""
        if spectrum:
            image = shown.image if shown is not None else None
            key: tuple = ("spectrum", image.cacheKey() if image is not None else None)
            if key != self._right_key:
                self.right.clear_layers()
                self.right.set_map(None)
                self.right.fitted = True
                waiting = "Computing the spectrum…" if shown is None else "The spectrum cannot be shown."
                self.right.set_image(image, None if image is not None else waiting)
        else:
            key = ("frame", bundle.image.cacheKey() if bundle.image is not None else None)
            if key != self._right_key:
                self.right.set_image(bundle.image)
        self._right_key = key

    def _pieces(self, model: str | None) -> tuple:
        """The overlay pieces of `model` on this frame for the chosen regions (faces or the whole frame)."""
        if self.bundle is None or model is None:
            return ()
        pieces = self.bundle.overlays.get(model, ())
        width = self.bundle.image.width() if self.bundle.image is not None else 0
        height = self.bundle.image.height() if self.bundle.image is not None else 0
        whole = [p for p in pieces if p.box == (0, 0, width, height)]
        faces = [p for p in pieces if p not in whole]
        chosen = self.layers.regions.currentData()
        if chosen == "faces" and faces:
            return tuple(faces)
        if chosen in ("faces", "frame"):
            return tuple(whole) or tuple(faces)
        return tuple(pieces)

    # -- stepping ---------------------------------------------------------------------------
    def _step(self, pick: Callable[[tuple[int, ...], int], int | None]) -> None:
        if self.item is None or self.frame_index is None:
            return
        target = pick(self.item.frames, self.frame_index)
        if target is not None and target != self.frame_index:
            self.go_to(target)

    def previous(self) -> None:
        self._step(lambda frames, now: max((f for f in frames if f < now), default=None))

    def next(self) -> None:
        self._step(lambda frames, now: min((f for f in frames if f > now), default=None))

    def first(self) -> None:
        self._step(lambda frames, now: frames[0])

    def last(self) -> None:
        self._step(lambda frames, now: frames[-1])

    def _over(self) -> tuple[int, ...]:
        timeline = self.item.timeline if self.item else None
        return timeline.frames_over() if timeline is not None else ()

    def next_over(self) -> None:
        over = self._over()
        self._step(lambda frames, now: min((f for f in over if f > now), default=None))

    def previous_over(self) -> None:
        over = self._over()
        self._step(lambda frames, now: max((f for f in over if f < now), default=None))

    # -- zoom and layers ------------------------------------------------------------------------
    def zoom_in(self) -> None:
        self.left.zoom_by(1.25)

    def zoom_out(self) -> None:
        self.left.zoom_by(0.8)

    def fit(self) -> None:
        self.left.fit()

    def actual(self) -> None:
        self.left.actual_size()

    def toggle_overlay(self) -> None:
        self.layers.overlay.setChecked(not self.layers.overlay.isChecked())

    def _left_moved(self) -> None:
        if self.right.isVisible() and not self._spectrum_shown:  # the spectrum has other coordinates
            self.right.apply_state(self.left.state())

    def _right_moved(self) -> None:
        if self.right.isVisible() and not self._spectrum_shown:
            self.left.apply_state(self.right.state())

    def _hovered(self, x: int, y: int) -> None:
        image = self.bundle.image if self.bundle else None
        if image is None or x < 0:
            self.pixel_info.emit("")
            return
        colour = image.pixelColor(x, y)
        text = f"x {x}, y {y}  ·  RGB {colour.red()}, {colour.green()}, {colour.blue()}"
        shown = self.current_map()
        if shown is not None and shown.map is not None and shown.map.aligned:
            values = shown.map.values
            vy, vx = y * values.shape[0] // image.height(), x * values.shape[1] // image.width()
            text += f"  ·  {VALUE_WORDS.get(shown.kind, shown.kind)} {float(values[vy, vx]):.2f} of the scale"
        self.pixel_info.emit(text)

    def _hovered_right(self, x: int, y: int) -> None:
        shown = self.current_map()
        if not self._spectrum_shown:
            self._hovered(x, y)
        elif shown is None or shown.map is None or x < 0:
            self.pixel_info.emit("")
        else:
            values = shown.map.values
            height, width = values.shape
            fx, fy = (x - width // 2) / width, (y - height // 2) / height
            self.pixel_info.emit(f"frequency {fx:+.3f}, {fy:+.3f} cycles/pixel  ·  log power "
                                 f"{float(values[y, x]):.2f} of the scale")

    def _box_menu(self, region: FrameRegion, where) -> None:  # noqa: ANN001 - QPoint
        from PySide6.QtWidgets import QMenu

        if self.item is None or self.item.run_id is None or region.track_id is None:
            return
        excluded = self.item.timeline is not None and region.track_id in self.item.timeline.excluded_tracks
        menu = QMenu(self)
        if excluded:
            action = menu.addAction(f"Count face track {region.track_id} in the verdicts again")
        else:
            action = menu.addAction(f"Not a face: keep track {region.track_id} out of this item's verdicts")
        chosen = menu.exec(where)
        if chosen is action:
            self.not_a_face.emit(self.item.run_id, self.item.evidence.id, region.track_id, not excluded)

    def view_image(self) -> QImage:
        """What the views show now, as one picture (both when side by side)."""
        return self.splitter.grab().toImage()
