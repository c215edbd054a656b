"""Face detection on frames and square face crops, with the detector named in every result.

Three detectors, each in its own module and each giving a confidence per box, refusing boxes
under its documented floor and saying what it refused (facebox.py): OpenCV's frontal-face Haar
cascade with an eye check (haar.py, built in), and CenterFace (centerface.py) or YuNet
(yunet.py) from an ONNX file the analyst imported (face_store.py) or, for YuNet, named with
`--yunet FILE`. Boxes are in the coordinates of the frame they were found in. Finding no face is
an ordinary outcome (an empty list), never an error; `FaceMode` says what the pipeline analyses then.
"""

from __future__ import annotations

import os

import numpy as np

from engine.errors import MediaError
from engine.media.centerface import CenterFaceDetector
from engine.media.facebox import FaceBox, FaceDetector, FaceScreening
from engine.media.haar import HaarFaceDetector
from engine.media.yunet import YuNetFaceDetector
from engine.vocab import FaceMode

__all__ = [
    "DEFAULT_MARGIN",
    "CenterFaceDetector",
    "FaceBox",
    "FaceDetector",
    "FaceMode",
    "FaceScreening",
    "HaarFaceDetector",
    "YuNetFaceDetector",
    "make_face_detector",
    "square_crop",
]

DEFAULT_MARGIN = 1.3


def make_face_detector(yunet_path: str | os.PathLike[str] | None) -> FaceDetector:
    """YuNet when a model file is given, the built-in Haar cascade otherwise (an imported
    detector is opened through face_store.py, by name)."""
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
