"""The viewer's layer panel: which layers show, which model's overlay, how strongly, and what it means.

The colour scale is drawn from the engine's own colour table, so the legend is the map.
Beside it stand the method (attention rollout or occlusion) and the caveat every overlay
carries: it shows where the model looked, not proof of manipulation.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QSlider, QVBoxLayout, QWidget

from engine.api import OVERLAY_CAVEAT, OverlayMethod, overlay_colours

METHOD_TEXT = {OverlayMethod.ROLLOUT: "attention rollout: where the model's attention flowed",
               OverlayMethod.OCCLUSION: "occlusion: how much hiding each patch changed the score"}


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
    changed = Signal()

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
        layout.addStretch(1)
        self.setMaximumWidth(metrics.averageCharWidth() * 34)
        self.set_models((), {})

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
        for widget in (self.overlay, self.model, self.opacity, self.compare, self.side_by_side, self.regions):
            widget.setEnabled(available)
        self.describe()

    def describe(self) -> None:
        method = self.methods.get(self.model.currentData() or "", None)
        self.method.setText(METHOD_TEXT.get(method, "No overlay was stored for this item (run it with overlays on)."
                                            if not self.methods else ""))

    @property
    def opacity_value(self) -> float:
        return self.opacity.value() / 100.0
