"""The verdict chip: a rounded, coloured label drawn by a delegate in the evidence table.

Sizes come from the font, so the chip scales with the screen and the user's font; colours
come from present.CHIP_COLOURS, chosen to read on light and dark palettes alike; "not
analysed" is drawn as an outline in the palette's own text colour.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from gui.item_models.evidence import CHIP_ROLE
from gui.present import CHIP_COLOURS


def paint_chip(painter: QPainter, rect: QRectF, text: str, option: QStyleOptionViewItem) -> None:
    metrics = option.fontMetrics
    pad = metrics.height() * 0.45
    width = min(rect.width() - 2, metrics.horizontalAdvance(text) + 2 * pad)
    height = min(rect.height() - 2, metrics.height() * 1.25)
    chip = QRectF(rect.left() + 2, rect.center().y() - height / 2, width, height)
    background, foreground = CHIP_COLOURS.get(text, CHIP_COLOURS["not analysed"])
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if background:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(background))
        text_colour = QColor(foreground)
    else:
        text_colour = option.palette.color(option.palette.ColorRole.Text)
        outline = QColor(text_colour)
        outline.setAlpha(110)
        painter.setPen(QPen(outline, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRoundedRect(chip, height / 2, height / 2)
    painter.setPen(text_colour)
    painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, metrics.elidedText(text, Qt.TextElideMode.ElideRight,
                                                                         int(chip.width() - pad)))
    painter.restore()


class ChipDelegate(QStyledItemDelegate):
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        text = index.data(CHIP_ROLE)
        if not text:
            super().paint(painter, option, index)
            return
        style = option.widget.style() if option.widget else None
        if style is not None:  # selection and focus background as for any cell
            plain = QStyleOptionViewItem(option)
            self.initStyleOption(plain, index)
            plain.text = ""
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, plain, painter, option.widget)
        paint_chip(painter, QRectF(option.rect), str(text), option)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        text = str(index.data(CHIP_ROLE) or "")
        metrics = option.fontMetrics
        return QSize(int(metrics.horizontalAdvance(text) + metrics.height() * 1.4), int(metrics.height() * 1.6))
