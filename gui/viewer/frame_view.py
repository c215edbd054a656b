"""One view of a frame: the pixels, a forensic map, face boxes with their scores, and an overlay,
zoomable and pannable.

Zoom with the wheel or the keys, fit or 100 %; pan by dragging. Above 100 % pixels are drawn
nearest-neighbour, so zooming in never invents detail; below it they are smoothed. Two views
can follow each other (side by side): each announces its zoom and centre, the other takes
them. Coordinates under the cursor are reported in frame pixels.
"""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush, QColor, QFont, QFontMetricsF, QImage, QMouseEvent, QPainter, QPen, QPixmap, QResizeEvent, QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsItem, QGraphicsPixmapItem, QGraphicsRectItem, QGraphicsScene, QGraphicsSimpleTextItem, QGraphicsView,
)

from engine.api import FrameRegion
from gui.viewer.jobs import OverlayPiece

MIN_SCALE, MAX_SCALE = 0.02, 32.0
BOX_COLOUR, EXCLUDED_COLOUR = QColor("#00e5ff"), QColor("#9e9e9e")


class BoxLabel(QGraphicsItem):
    """A face box's label: drawn at screen size just above the box's corner, at any zoom."""

    def __init__(self, text: str, colour: QColor, font: QFont) -> None:
        super().__init__()
        self.text, self.colour, self.font = text, colour, font
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setZValue(3)
        metrics = QFontMetricsF(font)
        pad = metrics.height() * 0.2
        self._rect = QRectF(0, -metrics.height() - 2 * pad, metrics.horizontalAdvance(text) + 2 * pad,
                            metrics.height() + 2 * pad)
        self._pad = pad

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option, widget=None) -> None:  # noqa: ANN001
        painter.fillRect(self._rect, QColor(0, 0, 0, 180))
        painter.setPen(self.colour)
        painter.setFont(self.font)
        painter.drawText(self._rect.adjusted(self._pad, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, self.text)


class FrameView(QGraphicsView):
    hovered = Signal(int, int)  # frame pixel under the cursor; (-1, -1) outside the frame
    view_changed = Signal()
    box_menu = Signal(object, QPoint)  # the FrameRegion right-clicked, global position

    def __init__(self) -> None:
        super().__init__()
        self.setScene(QGraphicsScene(self))
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setMouseTracking(True)
        self.setBackgroundBrush(QBrush(QColor("#202020")))
        self.pixmap_item = QGraphicsPixmapItem()
        self.scene().addItem(self.pixmap_item)
        # A forensic map laid over the frame pixel for pixel: above the picture, under the
        # attention overlay and the boxes. Hidden when there is none (or it is not aligned).
        self.map_item = QGraphicsPixmapItem()
        self.map_item.setZValue(0.5)
        self.map_item.setVisible(False)
        self.scene().addItem(self.map_item)
        self.message = QGraphicsSimpleTextItem()
        self.message.setBrush(QBrush(QColor("#f0f0f0")))
        self.scene().addItem(self.message)
        self.image: QImage | None = None
        self.map_key: int | None = None  # cacheKey of the map image on screen
        self._boxes: list[QGraphicsItem] = []
        self._overlays: list[QGraphicsPixmapItem] = []
        self._regions: dict[QGraphicsItem, FrameRegion] = {}
        self.fitted = True
        self._syncing = False
        self.horizontalScrollBar().valueChanged.connect(self._moved)
        self.verticalScrollBar().valueChanged.connect(self._moved)

    # -- content ----------------------------------------------------------------------------
    def set_image(self, image: QImage | None, message: str | None = None) -> None:
        """Show a frame, or only a message (no pixels at all, so nothing stale stays on screen)."""
        self.image = image
        self.pixmap_item.setPixmap(QPixmap.fromImage(image) if image is not None else QPixmap())
        self.message.setText(message or "")
        self.message.setVisible(bool(message))
        if image is not None:
            self.scene().setSceneRect(QRectF(0, 0, image.width(), image.height()))
        else:
            self.clear_layers()
            self.set_map(None)
            self.scene().setSceneRect(self.message.boundingRect())
        if self.fitted:
            self.fit()
        self._update_smoothing()

    def clear_layers(self) -> None:
        for item in self._boxes + self._overlays:
            self.scene().removeItem(item)
        self._boxes, self._overlays, self._regions = [], [], {}

    def set_boxes(self, regions: Sequence[FrameRegion], excluded: Sequence[int], labels: dict[int | None, str]) -> None:
        for item in self._boxes:
            self.scene().removeItem(item)
        self._boxes, self._regions = [], {}
        for region in regions:
            if region.track_id is None or region.box is None:
                continue
            out = region.track_id in excluded
            x, y, w, h = region.box
            rect = QGraphicsRectItem(QRectF(x, y, w, h))
            pen = QPen(EXCLUDED_COLOUR if out else BOX_COLOUR, 2)
            pen.setCosmetic(True)  # two screen pixels whatever the zoom
            if out:
                pen.setStyle(Qt.PenStyle.DashLine)
            rect.setPen(pen)
            rect.setZValue(2)
            label = BoxLabel(labels.get(region.track_id, "") + ("  (not a face)" if out else ""),
                             EXCLUDED_COLOUR if out else BOX_COLOUR, self.font())
            label.setPos(x, y)
            for item in (rect, label):
                self.scene().addItem(item)
                self._boxes.append(item)
            self._regions[rect] = region

    def set_box_tooltips(self, tips: dict[int | None, str]) -> None:
        for item, region in self._regions.items():
            item.setToolTip(tips.get(region.track_id, ""))

    def set_boxes_visible(self, visible: bool) -> None:
        for item in self._boxes:
            item.setVisible(visible)

    def set_overlays(self, pieces: Sequence[OverlayPiece], opacity: float) -> None:
        for item in self._overlays:
            self.scene().removeItem(item)
        self._overlays = []
        for piece in pieces:
            item = QGraphicsPixmapItem(QPixmap.fromImage(piece.image))
            item.setPos(piece.box[0], piece.box[1])
            if piece.image.width() and piece.image.width() != piece.box[2]:
                item.setScale(piece.box[2] / piece.image.width())  # coloured smaller than the box
            item.setOpacity(opacity)
            item.setZValue(1)
            self.scene().addItem(item)
            self._overlays.append(item)
        self._update_smoothing()

    def set_map(self, image: QImage | None, opacity: float = 1.0) -> None:
        """Lay a forensic map over the frame (stretched to it if it was made smaller), or none."""
        if image is None or self.image is None or image.isNull():
            self.map_item.setVisible(False)
            self.map_item.setPixmap(QPixmap())
            self.map_key = None
            return
        key = image.cacheKey()
        if self.map_key != key:  # a new map: a new pixmap; else only the opacity
            self.map_item.setPixmap(QPixmap.fromImage(image))
            self.map_key = key
            self.map_item.setScale(self.image.width() / image.width() if image.width() else 1.0)
        self.map_item.setOpacity(opacity)
        self.map_item.setVisible(True)
        self._update_smoothing()

    def set_opacity(self, opacity: float) -> None:
        for item in self._overlays:
            item.setOpacity(opacity)

    # -- zoom and pan -----------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def fit(self) -> None:
        self.fitted = True
        if self.image is not None:
            self.fitInView(self.pixmap_item, Qt.AspectRatioMode.KeepAspectRatio)
        self._changed()

    def actual_size(self) -> None:
        self.set_zoom(1.0)

    def zoom_by(self, factor: float) -> None:
        self.set_zoom(self.zoom * factor)

    def set_zoom(self, zoom: float) -> None:
        zoom = min(MAX_SCALE, max(MIN_SCALE, zoom))
        self.fitted = False
        self.resetTransform()
        self.scale(zoom, zoom)
        self._changed()

    def state(self) -> tuple[float, QPointF]:
        return self.zoom, self.mapToScene(self.viewport().rect().center())

    def apply_state(self, state: tuple[float, QPointF]) -> None:
        """Take another view's zoom and centre, without echoing it back."""
        self._syncing = True
        try:
            zoom, centre = state
            self.fitted = False
            self.resetTransform()
            self.scale(zoom, zoom)
            self.centerOn(centre)
            self._update_smoothing()
        finally:
            self._syncing = False

    def _update_smoothing(self) -> None:
        sharp = self.zoom > 1.0
        mode = Qt.TransformationMode.FastTransformation if sharp else Qt.TransformationMode.SmoothTransformation
        self.pixmap_item.setTransformationMode(mode)
        self.map_item.setTransformationMode(mode)
        for item in self._overlays:
            item.setTransformationMode(mode)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, not sharp)

    def _changed(self) -> None:
        self._update_smoothing()
        if not self._syncing:
            self.view_changed.emit()

    def _moved(self) -> None:
        if not self._syncing:
            self.view_changed.emit()

    # -- events -----------------------------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.25 ** steps)
        event.accept()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.fitted:
            self.fit()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        super().mouseMoveEvent(event)
        point = self.mapToScene(event.position().toPoint())
        x, y = int(point.x()), int(point.y())
        inside = self.image is not None and 0 <= x < self.image.width() and 0 <= y < self.image.height()
        self.hovered.emit(x if inside else -1, y if inside else -1)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.fitted:
            self.actual_size()
        else:
            self.fit()

    def contextMenuEvent(self, event) -> None:  # noqa: ANN001 - QContextMenuEvent
        point = self.mapToScene(event.pos())
        for item, region in self._regions.items():
            if item.contains(item.mapFromScene(point)):
                self.box_menu.emit(region, event.globalPos())
                return
