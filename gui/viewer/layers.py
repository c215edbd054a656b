"""The viewer's layer panel: which layers show, which model's overlay, how strongly, and what it means.

The colour scale is drawn from the engine's own colour table, so the legend is the map.
Beside it stand the method (attention rollout or occlusion) and the caveat every overlay
carries: it shows where the model looked, not proof of manipulation.

Below the overlay stands the forensic layer (none, error level, noise level, noise residual,
spectrum: maps that need no model) with its main parameter and its own opacity; `MapLegend`,
under the views, gives the map's colour scale, what its values mean and what it can and
cannot show.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPalette, QPixmap
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFormLayout, QFrame, QHBoxLayout, QLabel, QSlider, QSpinBox, QVBoxLayout, QWidget,
)

from engine.api import (
    FORENSIC_MAP_KINDS, FORENSIC_MAP_PARAMETERS, OVERLAY_CAVEAT, ForensicMap, OverlayMethod, overlay_colours,
)

METHOD_TEXT = {OverlayMethod.ROLLOUT: "attention rollout: where the model's attention flowed",
               OverlayMethod.OCCLUSION: "occlusion: how much hiding each patch changed the score"}
LAYER_NAMES = {"ela": "Error level (ELA)", "noise": "Noise level", "residual": "Noise residual", "spectrum": "Spectrum"}
# The one parameter the panel offers for a kind: (name, label, step, what it does).
MAIN_PARAMETER = {
    "ela": ("quality", "JPEG quality", 1, "The quality the picture is compressed at once more; near the file's own "
                                          "quality, a region compressed differently stands out most."),
    "noise": ("block", "Block size", 4, "The side of the square over which the noise level is measured, in pixels."),
    "spectrum": ("tile", "Tile", 32, "The side of the tiles whose spectra are averaged, in pixels (at most the "
                                     "picture's smaller side)."),
}
VALUE_WORDS = {"ela": "error level", "noise": "noise level", "residual": "residual", "spectrum": "log power"}
Params = tuple[tuple[str, int | float | str], ...]


def layer_name(kind: str | None) -> str:
    return "None" if kind is None else LAYER_NAMES.get(kind, kind)


def scale_pixmap(width: int, height: int) -> QPixmap:
    table = overlay_colours()
    image = QImage(width, height, QImage.Format.Format_RGB888)
    for x in range(width):
        r, g, b = (int(v) for v in table[int(round(x / max(1, width - 1) * 255))])
        colour = QColor(r, g, b)
        for y in range(height):
            image.setPixelColor(x, y, colour)
    return QPixmap.fromImage(image)


class LayerPanel(QWidget):
    changed = Signal()  # redraw: what shows and how strongly
    forensic_changed = Signal()  # another forensic layer or parameter: a map to ask for

    def __init__(self) -> None:
        super().__init__()
        self.boxes = QCheckBox("Face boxes and scores")
        self.boxes.setChecked(True)
        self.overlay = QCheckBox("Overlay (O)")
        self.overlay.setChecked(True)
        self.model = QComboBox()
        self.compare = QComboBox()  # the right-hand view in side by side
        self.regions = QComboBox()  # which regions' overlays: a face's or the whole frame's
        self.regions.addItem("faces (or the frame)", "faces")
        self.regions.addItem("the whole frame", "frame")
        self.regions.addItem("all regions", "all")
        self.regions.currentIndexChanged.connect(self.changed)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(45)
        self.side_by_side = QCheckBox("Side by side")
        for widget in (self.boxes, self.overlay, self.side_by_side):
            widget.toggled.connect(self.changed)
        self.model.currentIndexChanged.connect(self.changed)
        self.compare.currentIndexChanged.connect(self.changed)
        self.opacity.valueChanged.connect(self.changed)
        metrics = self.fontMetrics()
        self.scale = QLabel()
        self.scale.setPixmap(scale_pixmap(metrics.averageCharWidth() * 24, metrics.height()))
        self.ends = QLabel("0 (ignored) … 1 (most weight)")
        self.method = QLabel()
        self.method.setWordWrap(True)
        caveat = QLabel(OVERLAY_CAVEAT)
        caveat.setWordWrap(True)
        font = caveat.font()
        font.setItalic(True)
        caveat.setFont(font)
        form = QFormLayout()
        form.addRow("Overlay of", self.model)
        form.addRow("On", self.regions)
        form.addRow("Opacity", self.opacity)
        form.addRow("Right view", self.compare)
        layout = QVBoxLayout(self)
        layout.addWidget(self.boxes)
        layout.addWidget(self.overlay)
        layout.addLayout(form)
        layout.addWidget(self.side_by_side)
        layout.addWidget(self.scale)
        layout.addWidget(self.ends)
        layout.addWidget(self.method)
        layout.addWidget(caveat)
        layout.addSpacing(metrics.height() // 2)
        layout.addLayout(self._build_forensic())
        layout.addStretch(1)
        self.setMaximumWidth(metrics.averageCharWidth() * 34)
        self.models_available = False
        self.set_models((), {})

    def _build_forensic(self) -> QVBoxLayout:
        rule = QFrame()
        rule.setFrameShape(QFrame.Shape.HLine)
        rule.setFrameShadow(QFrame.Shadow.Sunken)
        heading = QLabel("Forensic layer (L)")
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        self.forensic = QComboBox()
        self.forensic.addItem(layer_name(None), None)
        for kind in FORENSIC_MAP_KINDS:
            self.forensic.addItem(layer_name(kind), kind)
        self.forensic.setToolTip("A map computed from the pixels alone, no model (L: next, Shift+L: previous)")
        self.forensic.currentIndexChanged.connect(self._forensic_kind_changed)
        self.parameter_label = QLabel()
        self.parameter = QSpinBox()
        self.parameter.setKeyboardTracking(False)  # typing 75 asks for one map, not for 7 and then 75
        self.parameter.valueChanged.connect(self._parameter_changed)
        self.map_opacity = QSlider(Qt.Orientation.Horizontal)
        self.map_opacity.setRange(0, 100)
        self.map_opacity.setValue(80)
        self.map_opacity.setToolTip("How strongly the map covers the frame (100: the map alone)")
        self.map_opacity.valueChanged.connect(self.changed)
        self.map_opacity_label = QLabel("Map opacity")
        self._values: dict[str, int] = {kind: int(table[name][3]) for kind, (name, *_) in MAIN_PARAMETER.items()
                                        if (table := FORENSIC_MAP_PARAMETERS.get(kind)) and name in table}
        self._limits: dict[str, int] = {}  # kind → the largest value the picture allows
        form = QFormLayout()
        form.addRow(self.forensic)
        form.addRow(self.parameter_label, self.parameter)
        form.addRow(self.map_opacity_label, self.map_opacity)
        self.forensic_form = form
        box = QVBoxLayout()
        box.addWidget(rule)
        box.addWidget(heading)
        box.addLayout(form)
        self._show_parameter()
        return box

    def set_models(self, models: tuple[str, ...], methods: dict[str, str | None]) -> None:
        """The models with overlays for this item; the combos keep their choice when they can."""
        previous, previous_compare = self.model.currentData(), self.compare.currentData()
        self.methods = methods
        for combo in (self.model, self.compare):
            combo.blockSignals(True)
            combo.clear()
        self.compare.addItem("the same overlay", None)
        for name in models:
            self.model.addItem(name, name)
            self.compare.addItem(f"overlay of {name}", name)
        if previous in models:
            self.model.setCurrentIndex(self.model.findData(previous))
        if previous_compare in models:
            self.compare.setCurrentIndex(self.compare.findData(previous_compare))
        for combo in (self.model, self.compare):
            combo.blockSignals(False)
        available = bool(models)
        self.models_available = available
        for widget in (self.overlay, self.model, self.opacity, self.compare, self.regions):
            widget.setEnabled(available)
        self._enable_side_by_side()
        self.describe()

    def describe(self) -> None:
        method = self.methods.get(self.model.currentData() or "", None)
        self.method.setText(METHOD_TEXT.get(method, "No overlay was stored for this item (run it with overlays on)."
                                            if not self.methods else ""))

    @property
    def opacity_value(self) -> float:
        return self.opacity.value() / 100.0

    def _enable_side_by_side(self) -> None:
        """Side by side shows the overlay or an aligned map beside the original; the spectrum is
        beside the frame already (it is never laid over it)."""
        kind = self.forensic_kind
        self.side_by_side.setEnabled((self.models_available or kind is not None) and kind != "spectrum")
        self.side_by_side.setToolTip("The spectrum is shown beside the frame" if kind == "spectrum" else
                                     "Left: the frame as it is; right: with the overlay or the map")

    # -- the forensic layer ------------------------------------------------------------------------
    @property
    def forensic_kind(self) -> str | None:
        kind = self.forensic.currentData()
        return str(kind) if kind else None

    def set_forensic_kind(self, kind: str | None) -> None:
        self.forensic.setCurrentIndex(max(0, self.forensic.findData(kind)))

    def cycle_forensic(self, step: int) -> None:
        self.forensic.setCurrentIndex((self.forensic.currentIndex() + step) % self.forensic.count())

    def forensic_params(self) -> Params:
        """The parameters asked for the chosen kind: its main one as set here (the engine fills the rest)."""
        kind = self.forensic_kind
        if kind is None or kind not in MAIN_PARAMETER or kind not in self._values:
            return ()
        return ((MAIN_PARAMETER[kind][0], self._values[kind]),)

    def set_picture_size(self, width: int, height: int) -> None:
        """The spectrum's tiles must fit in the picture's gradient (one pixel smaller than it)."""
        limit = max(1, min(width, height) - 1)
        self._limits["spectrum"] = limit
        if "spectrum" in self._values:
            table = FORENSIC_MAP_PARAMETERS["spectrum"]["tile"]
            wanted = int(table[3]) if self._values["spectrum"] > limit else self._values["spectrum"]
            self._values["spectrum"] = max(int(table[1]), min(wanted, limit))
        self._show_parameter()

    @property
    def map_opacity_value(self) -> float:
        return self.map_opacity.value() / 100.0

    def _forensic_kind_changed(self) -> None:
        self._show_parameter()
        self._enable_side_by_side()
        self.forensic_changed.emit()
        self.changed.emit()

    def _parameter_changed(self, value: int) -> None:
        kind = self.forensic_kind
        if kind in self._values:
            self._values[kind] = int(value)
            self.forensic_changed.emit()

    def _show_parameter(self) -> None:
        kind = self.forensic_kind
        main = MAIN_PARAMETER.get(kind or "")
        table = FORENSIC_MAP_PARAMETERS.get(kind or "", {})
        shown = main is not None and main[0] in table
        self.forensic_form.setRowVisible(self.parameter, shown)
        aligned = kind is not None and kind != "spectrum"
        self.forensic_form.setRowVisible(self.map_opacity, aligned)
        if not shown or main is None or kind is None:
            return
        name, label, step, tip = main
        _type, low, high, _default = table[name]
        self.parameter.blockSignals(True)
        self.parameter.setRange(int(low), min(int(high), self._limits.get(kind, int(high))))
        self.parameter.setSingleStep(step)
        self.parameter.setValue(self._values[kind])
        self.parameter.blockSignals(False)
        self.parameter_label.setText(label)
        self.parameter.setToolTip(tip)
        self.parameter_label.setToolTip(tip)


class MapLegend(QWidget):
    """Under the views: the forensic layer's colour scale, its name and what its values mean (the
    legend), and what the map can and cannot show (the statement); or that it is being computed,
    or why there is no map."""

    def __init__(self) -> None:
        super().__init__()
        metrics = self.fontMetrics()
        self.scale = QLabel()
        self.scale.setPixmap(scale_pixmap(metrics.averageCharWidth() * 16, metrics.height()))
        self.scale.setToolTip("The map's colour scale: black the lowest value, yellow the highest")
        self.scale.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.TextFormat.RichText)  # the name in bold; every engine text escaped
        self.legend.setWordWrap(True)
        self.legend.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.statement = QLabel()
        self.statement.setTextFormat(Qt.TextFormat.PlainText)
        self.statement.setWordWrap(True)
        self.statement.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        italic = QFont(self.statement.font())
        italic.setItalic(True)
        self.statement.setFont(italic)
        palette = self.statement.palette()
        palette.setColor(QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.PlaceholderText))
        self.statement.setPalette(palette)
        self.problem = QLabel()
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("QLabel { color: #c62828; font-weight: bold; }")
        top = QHBoxLayout()
        top.addWidget(self.scale)
        top.addWidget(self.legend, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(metrics.averageCharWidth(), metrics.height() // 4, metrics.averageCharWidth(),
                                  metrics.height() // 4)
        layout.setSpacing(metrics.height() // 4)
        layout.addLayout(top)
        layout.addWidget(self.statement)
        layout.addWidget(self.problem)
        self.show_nothing()

    def _say(self, kind: str, text: str) -> None:
        self.legend.setText(f"<b>{html.escape(layer_name(kind))}</b> · {html.escape(text)}")

    def show_nothing(self) -> None:
        self.hide()

    def show_waiting(self, kind: str, where: str) -> None:
        self.scale.hide()
        self._say(kind, f"computing the map of {where}…")
        self.statement.hide()
        self.problem.hide()
        self.show()

    def show_problem(self, kind: str, text: str) -> None:
        self.scale.hide()
        self._say(kind, "no map")
        self.statement.hide()
        self.problem.setText(text)
        self.problem.show()
        self.show()

    def show_map(self, made: ForensicMap, where: str) -> None:
        self.scale.show()
        text = made.legend
        if made.peaks:
            text += "; peaks: " + "; ".join(f"{p.note} ({p.ratio:.0f}×)" for p in made.peaks[:3])
        place = f"shown beside {where}: it is in frequency space" if not made.aligned else f"laid over {where}"
        self._say(made.kind, f"{text} · {place}")
        self.statement.setText(made.statement)
        self.statement.show()
        self.problem.hide()
        self.show()
