"""Evidence thumbnails, made off the GUI thread and cached.

The table asks `ThumbnailCache.get(summary)`: a pixmap when one is ready, otherwise None
while a worker on its own QThread decodes the file (the image, or a clip's middle frame,
through the engine API) and hands back a QImage. QImages may be made on any thread;
pixmaps are made on the GUI thread when the image arrives. A file that cannot be decoded
gets a neutral placeholder once and is not tried again.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import OrderedDict

import numpy as np
from PySide6.QtCore import QObject, QThread, Qt, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap

from engine.api import EvidenceSummary, thumbnail
from engine.errors import EngineError

log = logging.getLogger(__name__)
CACHE_LIMIT = 2000
Key = tuple[int, str, int]  # evidence id, SHA-256, size in pixels


def image_from_rgb(pixels: np.ndarray) -> QImage:
    """A QImage owning a copy of uint8 RGB pixels (H, W, 3)."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    height, width = pixels.shape[:2]
    return QImage(pixels.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


class _Maker(QObject):
    made = Signal(object, object)  # key, QImage or None

    def __init__(self, jobs: "queue.Queue[tuple[Key, str, str | None] | None]") -> None:
        super().__init__()
        self._jobs = jobs

    @Slot()
    def work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                break
            key, path, kind = job
            try:
                image: QImage | None = image_from_rgb(thumbnail(path, kind, key[2]))
            except EngineError:
                image = None
            except Exception:  # a decoder bug must not end the thumbnails
                log.exception("thumbnail of %s", path)
                image = None
            self.made.emit(key, image)
        # quit() is thread-safe; called here, not through a signal to the GUI thread, which may
        # be waiting for this thread to end.
        thread = QThread.currentThread()
        if thread is not None:
            thread.quit()


class ThumbnailCache(QObject):
    ready = Signal(int)  # evidence id

    def __init__(self, size: int, parent: QObject | None = None, pixel_ratio: float = 1.0) -> None:
        super().__init__(parent)
        self.size = size  # in device pixels
        self.pixel_ratio = pixel_ratio  # device pixels per logical pixel, so a 2× screen gets sharp thumbnails
        self._pixmaps: OrderedDict[Key, QPixmap] = OrderedDict()
        self._asked: set[Key] = set()
        self._jobs: "queue.Queue[tuple[Key, str, str | None] | None]" = queue.Queue()
        self._lock = threading.Lock()
        self.thread = QThread()
        self.thread.setObjectName("dfw-thumbnails")
        self._maker = _Maker(self._jobs)
        self._maker.moveToThread(self.thread)
        self.thread.started.connect(self._maker.work)
        self._maker.made.connect(self._made)
        self.thread.start()

    def resize(self, size: int) -> None:
        """New thumbnails at another size; the old ones are dropped as they are no longer asked for."""
        self.size = size

    def get(self, summary: EvidenceSummary) -> QPixmap | None:
        evidence = summary.evidence
        key = (evidence.id, evidence.sha256, self.size)
        pixmap = self._pixmaps.get(key)
        if pixmap is not None:
            self._pixmaps.move_to_end(key)
            return pixmap
        if key not in self._asked:
            self._asked.add(key)
            self._jobs.put((key, evidence.path_resolved, evidence.media_kind))
        return None

    @Slot(object, object)
    def _made(self, key: Key, image: QImage | None) -> None:
        pixmap = QPixmap.fromImage(image) if image is not None else self._placeholder()
        pixmap.setDevicePixelRatio(self.pixel_ratio)
        self._pixmaps[key] = pixmap
        while len(self._pixmaps) > CACHE_LIMIT:
            old, _ = self._pixmaps.popitem(last=False)
            self._asked.discard(old)
        self.ready.emit(key[0])

    def _placeholder(self) -> QPixmap:
        pixmap = QPixmap(self.size, self.size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setPen(QColor("#9e9e9e"))
        painter.drawRect(1, 1, self.size - 3, self.size - 3)
        painter.drawLine(1, 1, self.size - 2, self.size - 2)
        painter.end()
        return pixmap

    def stop(self, timeout_ms: int = 10000) -> bool:
        if not self.thread.isRunning():
            return True
        # Unstarted thumbnails are dropped; the one being made finishes first.
        while True:
            try:
                self._jobs.get_nowait()
            except queue.Empty:
                break
        self._jobs.put(None)
        return self.thread.wait(timeout_ms)
