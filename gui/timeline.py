"""The timeline (bottom dock): how each model's p(manipulated) moves through the clip, with pyqtgraph.

One line per authenticity model and a heavier one for the ensemble (each frame's most
suspicious region), optionally one per face track; x is time in seconds. The threshold is a
dashed line with the inconclusive band around it; frames where no face was found are marked
along the bottom, bookmarks stand as flags coloured by their status, and a failed item says
so. Clicking anywhere picks the nearest sampled frame; the vertical cursor follows the viewer
and can be dragged. For a still image, a compact bar per model stands in for the lines.
"""

from __future__ import annotations

import bisect

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from engine.api import ENSEMBLE, Annotation, BookmarkStatus, Timeline, TimelineSeries

MODEL_COLOURS = ("#1e88e5", "#43a047", "#8e24aa", "#fb8c00", "#00897b", "#6d4c41", "#d81b60", "#3949ab")
DOTS_UP_TO = 300  # points per line drawn with a dot each
PROGRESSIVE_FROM = 3000  # points in all the lines beyond which they are drawn one per event-loop turn
STATUS_COLOURS = {BookmarkStatus.OK: "#2e7d32", BookmarkStatus.CHECK: "#f9a825", BookmarkStatus.WARNING: "#c62828"}


class TimelinePanel(QWidget):
    frame_clicked = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        pg.setConfigOptions(antialias=False)
        self.plot = pg.PlotWidget()
        self.plot.setBackground(None)
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.setYRange(0, 1, padding=0.02)
        self.plot.setLabel("left", "p(manipulated)")
        # No grid: pyqtgraph draws it with the axes, and replaying that picture at every repaint
        # costs more than all the lines together; the threshold and the band are the guides.
        self.legend = self.plot.addLegend(offset=(-8, 4), brush=pg.mkBrush(128, 128, 128, 60))
        # The frame in the viewer: the face boxes' colour, kept apart from the bookmarks' status colours.
        self.cursor = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen("#00acc1", width=2),
                                      hoverPen=pg.mkPen("#00acc1", width=4))
        self.cursor.setZValue(20)
        self.cursor.sigPositionChangeFinished.connect(self._cursor_dropped)
        self.hover = pg.TextItem(anchor=(0, 0))
        self.hover.setZValue(10)
        # Kept from one drawing to the next and updated in place: making pyqtgraph items is what
        # costs, so a new item or a new run reuses them (curves by their label).
        self.band = pg.LinearRegionItem(values=(0.4, 0.6), orientation="horizontal", movable=False,
                                        brush=pg.mkBrush(249, 168, 37, 40), pen=pg.mkPen(None))
        self.band.setZValue(-10)
        self.threshold = pg.InfiniteLine(pos=0.5, angle=0, movable=False,
                                         pen=pg.mkPen("#c62828", width=1, style=Qt.PenStyle.DashLine),
                                         label="threshold", labelOpts={"position": 0.85, "color": "#c62828"})
        self.no_face = pg.ScatterPlotItem(symbol="x", size=9, pen=pg.mkPen("#9e9e9e", width=1), brush=None)
        self.bar_item = pg.BarGraphItem(x=[0], height=[0], width=0.6)
        for item in (self.band, self.threshold, self.no_face, self.bar_item, self.cursor, self.hover):
            self.plot.addItem(item)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._pending: list[tuple[TimelineSeries, str]] = []
        self.flag_items: list[pg.InfiniteLine] = []
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.plot.scene().sigMouseMoved.connect(self._moved)
        self.tracks = QCheckBox("Face tracks")
        self.tracks.toggled.connect(self._redraw)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.caption, 1)
        top.addWidget(self.tracks)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)
        self.timeline: Timeline | None = None
        self.bookmarks: tuple[Annotation, ...] = ()
        self.xs: list[float] = []  # x of each sampled frame, sorted
        self.frames: list[int] = []  # the frame index at each x
        self._scores: list[tuple[str, dict[int, float]]] = []  # (line, frame → score) for the hover text
        self._x_of: dict[int, float] = {}  # frame → its x
        self.current: int | None = None
        self.show_timeline(None, ())

    # -- what to draw ---------------------------------------------------------------------------
    def show_timeline(self, timeline: Timeline | None, bookmarks: tuple[Annotation, ...], media_kind: str | None = None,
                      message: str = "", fps: float | None = None) -> None:
        """`fps` places bookmarks on frames this run did not sample (their time is frame / fps)."""
        self.timeline, self.bookmarks, self.media_kind, self.fps = timeline, bookmarks, media_kind, fps
        self._redraw()
        if timeline is None:
            self.caption.setText(message or "No run has scored this item yet.")

    def set_bookmarks(self, bookmarks: tuple[Annotation, ...]) -> None:
        """New or changed bookmarks of the item shown: only the flags are drawn again."""
        self.bookmarks = bookmarks
        self._clear_flags()
        if self.xs and not self._as_bars():  # bars (a still image) carry no flags
            self._flags()

    def _as_bars(self) -> bool:
        """A still image, or a run that sampled one frame: one bar per model instead of lines."""
        return self.media_kind == "image" or (self.timeline is not None and len(self.timeline.frames) == 1)

    def _clear_flags(self) -> None:
        for item in self.flag_items:
            self.plot.removeItem(item)
        self.flag_items = []

    def _x(self, frame_index: int, timestamp: float | None) -> float:
        return float(timestamp) if self._use_time and timestamp is not None else float(frame_index)

    def _redraw(self) -> None:
        timeline = self.timeline
        self.xs, self.frames = [], []
        self._clear_flags()
        self._pending = []
        if timeline is None or not timeline.frames:
            # Nothing of the previous item stays: no cursor on its frames, no bar names on the axis.
            self._x_of = {}
            self.plot.getAxis("bottom").setTicks(None)
            self._keep_curves(set())
            self.legend.setVisible(False)  # an empty legend is a grey box
            for item in (self.band, self.threshold, self.no_face, self.bar_item, self.cursor, self.hover):
                item.setVisible(False)
            return
        self._use_time = all(f.timestamp is not None for f in timeline.frames)
        self._x_of = {f.frame_index: self._x(f.frame_index, f.timestamp) for f in timeline.frames}
        pairs = sorted((x, frame) for frame, x in self._x_of.items())
        self.xs, self.frames = [x for x, _ in pairs], [f for _, f in pairs]
        self._scores = [(s.name, {p.frame_index: p.score for p in s.points}) for s in timeline.series if not s.per_track]
        if self._as_bars():
            self._bars(timeline)
        else:
            self._lines(timeline)
        self._caption(timeline)

    def _keep_curves(self, labels: set[str]) -> None:
        for label in [label for label in self.curves if label not in labels]:
            self.plot.removeItem(self.curves.pop(label))
            self.legend.removeItem(label)

    def _lines(self, timeline: Timeline) -> None:
        plot = self.plot
        plot.setLabel("bottom", "time (s)" if self._use_time else "frame index")
        plot.getAxis("bottom").setTicks(None)
        self.bar_item.setVisible(False)
        self._guides(timeline)
        colours = {name: MODEL_COLOURS[i % len(MODEL_COLOURS)] for i, name in enumerate(timeline.authenticity)}
        text = self.palette().color(self.palette().ColorRole.WindowText)
        shown = [s for s in timeline.series if not s.per_track or self.tracks.isChecked()]
        self._keep_curves({self._label(s) for s in shown})
        self.legend.setVisible(True)
        self._pending = [(s, colours.get(s.name, text.name())) for s in shown]
        if sum(len(s.points) for s in shown) <= PROGRESSIVE_FROM:
            while self._pending:
                self._line(*self._pending.pop(0))
        else:
            # A long clip densely sampled: one line per turn of the event loop, so the first drawing
            # of thousands of points never holds the window for long.
            QTimer.singleShot(0, self._draw_next)
        without = set(timeline.frames_without_faces)
        no_face = [self._x(f.frame_index, f.timestamp) for f in timeline.frames if f.frame_index in without]
        self.no_face.setData(no_face, [0.03] * len(no_face))
        self.no_face.setVisible(bool(no_face))
        self._flags()
        self.cursor.setVisible(True)
        self.hover.setVisible(True)
        plot.setXRange(self.xs[0], self.xs[-1], padding=0.02)
        self.set_cursor(self.current)

    def _draw_next(self) -> None:
        if self._pending:
            self._line(*self._pending.pop(0))
        if self._pending:
            QTimer.singleShot(0, self._draw_next)

    @property
    def drawn(self) -> bool:
        """Every line of the current timeline is on the plot."""
        return not self._pending

    @staticmethod
    def _label(series: TimelineSeries) -> str:
        return series.label + ("  (excluded: not a face)" if series.excluded else "")

    def _line(self, series: TimelineSeries, colour: str) -> None:
        ensemble = series.name == ENSEMBLE
        xs = [self._x_of.get(p.frame_index, float(p.frame_index)) for p in series.points]
        ys = [p.score for p in series.points]
        # Dots mark each sampled frame while they can be told apart; thousands of them (a long clip
        # sampled densely) only slow the drawing down, so long lines are drawn as thin lines,
        # thinned to what the screen can show.
        short = len(xs) <= DOTS_UP_TO
        width = (3 if ensemble else 1.5) if not series.per_track and short else (2 if ensemble else 1)
        style = Qt.PenStyle.DashLine if series.per_track else Qt.PenStyle.SolidLine
        pen = pg.mkPen(QColor(colour if not series.excluded else "#9e9e9e"), width=width, style=style)
        dots = not series.per_track and short
        label = self._label(series)
        curve = self.curves.get(label)
        if curve is None:
            # Face tracks stay out of the legend (dashed, named on hover and in the caption).
            curve = self.plot.plot([], [], name=None if series.per_track else label, skipFiniteCheck=True)
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            self.curves[label] = curve
        curve.setData(xs, ys, pen=pen, symbol="o" if dots else None, symbolSize=5, symbolBrush=QColor(colour),
                      symbolPen=None)

    def _guides(self, timeline: Timeline) -> None:
        band = timeline.band
        self.band.setVisible(band is not None and band[1] > band[0])
        if band is not None:
            self.band.setRegion(band)
        self.threshold.setVisible(timeline.threshold is not None)
        if timeline.threshold is not None:
            self.threshold.setValue(timeline.threshold)
            self.threshold.label.setFormat(f"threshold {timeline.threshold:g}")

    def _flags(self) -> None:
        for bookmark in self.bookmarks:
            if bookmark.frame_index is None:
                continue
            x = self._x_of.get(bookmark.frame_index)
            if x is None:  # a frame this run did not sample
                seconds = bookmark.frame_index / self.fps if self._use_time and self.fps else None
                x = self._x(bookmark.frame_index, seconds)
            colour = STATUS_COLOURS.get(getattr(bookmark, "status", None) or BookmarkStatus.OK, "#2e7d32")
            flag = pg.InfiniteLine(pos=x, angle=90, movable=False, pen=pg.mkPen(colour, width=2),
                                   label="⚑ " + _short(bookmark.text, 24),
                                   labelOpts={"position": 0.92, "color": colour})
            self.plot.addItem(flag)
            self.flag_items.append(flag)

    def _bars(self, timeline: Timeline) -> None:
        plot = self.plot
        self._keep_curves(set())
        self.legend.setVisible(False)  # the bars are named on the axis
        for item in (self.no_face, self.cursor, self.hover):
            item.setVisible(False)
        names = [s.name for s in timeline.series if not s.per_track]
        scores = [s.points[0].score if s.points else 0.0 for s in timeline.series if not s.per_track]
        colours = [QColor("#455a64") if n == ENSEMBLE else QColor(MODEL_COLOURS[i % len(MODEL_COLOURS)])
                   for i, n in enumerate(names)]
        self.bar_item.setOpts(x=list(range(len(names))), height=scores, width=0.6, brushes=colours)
        self.bar_item.setVisible(True)
        plot.getAxis("bottom").setTicks([[(i, n) for i, n in enumerate(names)]])
        plot.setLabel("bottom", "")
        plot.setXRange(-0.6, len(names) - 0.4, padding=0)
        self._guides(timeline)

    def _caption(self, timeline: Timeline) -> None:
        parts = []
        if timeline.rule:
            params = " ".join(f"{k}={v}" for k, v in sorted(timeline.rule_params.items()))
            parts.append(f"run {timeline.run_id}: {timeline.rule} {params}".strip())
        if timeline.others:
            parts.append(f"{', '.join(timeline.others)} judge(s) something else: no line")
        if self.tracks.isChecked() and any(s.per_track for s in timeline.series) and not self.bar_item.isVisible():
            parts.append("dashed: one line per face track (and the whole frame)")
        if timeline.frames_without_faces:
            parts.append(f"{len(timeline.frames_without_faces)} frame(s) without a face (×)")
        if timeline.excluded_tracks:
            parts.append("excluded: " + ", ".join(f"track {t}" for t in timeline.excluded_tracks))
        if timeline.failures:
            parts.append("FAILED: " + "; ".join(f"{e.stage}: {e.message}" for e in timeline.failures)[:200])
        self.caption.setText("  ·  ".join(parts))

    # -- the cursor and clicks --------------------------------------------------------------------
    def nearest_frame(self, x: float) -> int | None:
        if not self.xs:
            return None
        at = bisect.bisect_left(self.xs, x)
        candidates = [i for i in (at - 1, at) if 0 <= i < len(self.xs)]
        return self.frames[min(candidates, key=lambda i: abs(self.xs[i] - x))]

    def x_of(self, frame_index: int) -> float | None:
        return self._x_of.get(frame_index)

    def set_cursor(self, frame_index: int | None) -> None:
        self.current = frame_index
        x = self.x_of(frame_index) if frame_index is not None and not self.bar_item.isVisible() else None
        self.cursor.setVisible(x is not None)
        if x is not None:
            self.cursor.blockSignals(True)
            self.cursor.setValue(x)
            self.cursor.blockSignals(False)

    def _cursor_dropped(self) -> None:
        frame = self.nearest_frame(float(self.cursor.value()))
        if frame is not None:
            self.frame_clicked.emit(frame)

    def _clicked(self, event) -> None:  # noqa: ANN001 - pyqtgraph's MouseClickEvent
        if event.button() != Qt.MouseButton.LeftButton or not self.xs:
            return
        point = self.plot.getViewBox().mapSceneToView(event.scenePos())
        frame = self.nearest_frame(point.x())
        if frame is not None:
            self.frame_clicked.emit(frame)

    def _moved(self, position) -> None:  # noqa: ANN001 - QPointF
        if not self.xs or self.timeline is None:
            return
        point = self.plot.getViewBox().mapSceneToView(position)
        frame = self.nearest_frame(point.x())
        if frame is None:
            return
        parts = [f"{name} {scores[frame]:.2f}" for name, scores in self._scores if frame in scores]
        self.hover.setText(f"frame {frame}: " + ", ".join(parts))
        self.hover.setPos(point.x(), 0.98)


def _short(text: str, limit: int) -> str:
    """A flag's label: the bookmark's comment cut at a word where it can be, with an ellipsis."""
    text = " ".join(text.split())
    if not text:
        return "bookmark"
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    cut = cut.rsplit(" ", 1)[0] if " " in cut[limit // 2:] else cut
    return cut.rstrip() + "…"
