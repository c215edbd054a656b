"""Face detection on frames and square face crops, with the detector named in every result.

Two detectors: OpenCV's YuNet (`FaceDetectorYN`) when the user has configured a YuNet ONNX
file, otherwise the frontal-face Haar cascade shipped inside the OpenCV 4.x wheels
(`cv2.data.haarcascades`; the 5.0 wheels no longer carry it, hence the `<5` pin). Boxes are in
the coordinates of the frame they were found in. Finding no face is an ordinary outcome (an
empty list), never an error; `FaceMode` says what the pipeline analyses then.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from engine.errors import MediaError
from engine.util.hashing import sha256_file
from engine.vocab import FaceMode

__all__ = [
    "DEFAULT_MARGIN",
    "FaceBox",
    "FaceDetector",
    "FaceMode",
    "HaarFaceDetector",
    "YuNetFaceDetector",
    "make_face_detector",
    "square_crop",
]

DEFAULT_MARGIN = 1.3
_HAAR_FILE = "haarcascade_frontalface_default.xml"


@dataclass(frozen=True)
class FaceBox:
    x: int
    y: int
    w: int
    h: int
    score: float  # detector confidence; Haar gives its stage-level weight, YuNet 0..1

    @property
    def area(self) -> int:
        return self.w * self.h

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2.0, self.y + self.h / 2.0


@runtime_checkable
class FaceDetector(Protocol):
    name: str

    def detect(self, image_bgr: np.ndarray) -> list[FaceBox]: ...


def _check_frame(image_bgr: np.ndarray) -> np.ndarray:
    if not isinstance(image_bgr, np.ndarray) or image_bgr.dtype != np.uint8 or image_bgr.ndim not in (2, 3):
        raise MediaError("Face detection needs an 8-bit image")
    if image_bgr.ndim == 3 and image_bgr.shape[2] == 4:
        return cv2.cvtColor(image_bgr, cv2.COLOR_BGRA2BGR)
    return image_bgr


class HaarFaceDetector:
    """OpenCV's frontal-face Haar cascade, shipped with opencv-python 4.x."""

    def __init__(self, min_size: int = 40, min_neighbors: int = 5, scale_factor: float = 1.1) -> None:
        folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
        cascade_path = os.path.join(folder, _HAAR_FILE) if folder else None
        if not cascade_path or not os.path.isfile(cascade_path):
            raise MediaError(
                "The installed OpenCV does not ship the Haar face cascade; configure a YuNet ONNX file"
            )
        self._cascade = cv2.CascadeClassifier(cascade_path)
        if self._cascade.empty():
            raise MediaError(f"The Haar face cascade cannot be loaded: {cascade_path}")
        self._min_size = min_size
        self._min_neighbors = min_neighbors
        self._scale_factor = scale_factor
        self.name = f"opencv-haar-frontalface-default {cv2.__version__}"

    def detect(self, image_bgr: np.ndarray) -> list[FaceBox]:
        frame = _check_frame(image_bgr)
        grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        boxes, _levels, weights = self._cascade.detectMultiScale3(
            grey,
            scaleFactor=self._scale_factor,
            minNeighbors=self._min_neighbors,
            minSize=(self._min_size, self._min_size),
            outputRejectLevels=True,
        )
        found = [
            FaceBox(int(x), int(y), int(w), int(h), float(score))
            for (x, y, w, h), score in zip(np.asarray(boxes).reshape(-1, 4), np.asarray(weights).reshape(-1))
        ]
        return sorted(found, key=lambda box: -box.area)


class YuNetFaceDetector:
    """OpenCV's FaceDetectorYN running a user-supplied YuNet ONNX file."""

    def __init__(self, onnx_path: str | os.PathLike, score_threshold: float = 0.8, nms_threshold: float = 0.3) -> None:
        path = os.fspath(onnx_path)
        if not os.path.exists(path):
            raise MediaError(f"YuNet face model not found: {path}")
        if not os.path.isfile(path):
            raise MediaError(f"YuNet face model is not a regular file (a folder, device or pipe): {path}")
        try:
            self._detector = cv2.FaceDetectorYN.create(path, "", (320, 320), score_threshold, nms_threshold, 5000)
        except cv2.error as exc:
            raise MediaError(f"YuNet face model cannot be loaded ({str(exc).strip().splitlines()[-1]}): {path}") from exc
        self.name = f"yunet:{sha256_file(path)[:12]}"

    def detect(self, image_bgr: np.ndarray) -> list[FaceBox]:
        frame = _check_frame(image_bgr)
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        h, w = frame.shape[:2]
        self._detector.setInputSize((w, h))
        _ok, faces = self._detector.detect(frame)
        if faces is None:
            return []
        found = []
        for row in np.asarray(faces).reshape(-1, faces.shape[-1]):
            x, y, bw, bh = (int(round(v)) for v in row[:4])
            x0, y0 = max(0, x), max(0, y)
            x1, y1 = min(w, x + bw), min(h, y + bh)
            if x1 > x0 and y1 > y0:
                found.append(FaceBox(x0, y0, x1 - x0, y1 - y0, float(row[-1])))
        return sorted(found, key=lambda box: -box.area)


def make_face_detector(yunet_path: str | os.PathLike | None) -> FaceDetector:
    """YuNet when a model file is configured, the shipped Haar cascade otherwise."""
    if yunet_path:
        return YuNetFaceDetector(yunet_path)
    return HaarFaceDetector()


def square_crop(image: np.ndarray, box: FaceBox, margin: float = DEFAULT_MARGIN) -> tuple[np.ndarray, FaceBox]:
    """A square crop of side margin * max(w, h) around the box centre, clipped to the frame.

    Returns the crop (a copy) and its box in frame coordinates; near an edge the clipped crop
    is no longer square, which is kept rather than padded so that no invented pixels are scored.
    """
    if margin <= 0:
        raise MediaError(f"Face crop margin must be positive, got {margin}")
    h, w = image.shape[:2]
    side = max(1, int(round(max(box.w, box.h) * margin)))
    cx, cy = box.centre
    x0 = int(round(cx - side / 2.0))
    y0 = int(round(cy - side / 2.0))
    x1, y1 = x0 + side, y0 + side
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(w, x1), min(h, y1)
    if x1 <= x0 or y1 <= y0:
        raise MediaError(f"Face box {box.x},{box.y},{box.w}x{box.h} lies outside the {w}x{h} frame")
    crop = image[y0:y1, x0:x1].copy()
    return crop, FaceBox(x0, y0, x1 - x0, y1 - y0, box.score)
