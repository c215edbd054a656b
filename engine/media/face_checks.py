"""Cheap checks that a candidate face box holds a face: an eye inside it, skin-like colour, a
face's proportions. Each takes the frame and one box and answers True (plausible) or False.

Which detector applies which check, and why, is decided in that detector's module from what
bench/bench_faces.py measured; these functions only say what each check looks at.
"""

from __future__ import annotations

import os

import cv2
import numpy as np

from engine.errors import MediaError
from engine.media.facebox import FaceBox

EYE_FILE = "haarcascade_eye.xml"
_EYE_WIDTH = 120  # the face's upper part is scaled to this width, so one eye size range fits every face
# Median saturation (0..255) under which a patch is taken as colourless (grey footage, a
# black-and-white photo): colour then says nothing, and the skin check does not refuse it.
_COLOURLESS = 40


def cascade_path(filename: str) -> str:
    """Where the OpenCV 4.x wheel keeps a Haar cascade file; MediaError when it does not."""
    folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
    path = os.path.join(folder, filename) if folder else None
    if not path or not os.path.isfile(path):
        raise MediaError(f"The installed OpenCV does not ship the Haar cascade {filename}; "
                         "import a CenterFace or YuNet face detector instead")
    return path


def load_cascade(filename: str) -> cv2.CascadeClassifier:
    path = cascade_path(filename)
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise MediaError(f"The Haar cascade cannot be loaded: {path}")
    return cascade


def has_an_eye(grey: np.ndarray, box: FaceBox, eyes: cv2.CascadeClassifier) -> bool:
    """Whether OpenCV's eye cascade finds an eye in the upper part of the box, where a frontal
    face's eyes are (the Haar face box runs from the brows to the mouth)."""
    top = grey[box.y + box.h // 10: box.y + (box.h * 6) // 10, box.x: box.x + box.w]
    if top.size == 0:
        return False
    scale = _EYE_WIDTH / max(1, top.shape[1])
    top = cv2.resize(top, (_EYE_WIDTH, max(1, int(round(top.shape[0] * scale)))),
                     interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    found = eyes.detectMultiScale(top, scaleFactor=1.1, minNeighbors=3, minSize=(14, 14), maxSize=(60, 60))
    return len(found) > 0


def skin_share(frame_bgr: np.ndarray, box: FaceBox) -> float | None:
    """Share of skin-coloured pixels in the middle of the box (cheeks, nose), or None when the
    patch is colourless and colour cannot tell.

    Skin of every tone sits in a narrow chroma band (YCrCb Cr 133..180, Cb 77..135) whatever its
    brightness; a saturation limit keeps out dyed fabric that shares skin's hue (orange, tan).
    """
    if frame_bgr.ndim == 2:
        return None
    x0, x1 = box.x + box.w // 5, box.x + (box.w * 4) // 5
    y0, y1 = box.y + box.h // 4, box.y + (box.h * 17) // 20
    patch = frame_bgr[y0:y1, x0:x1]
    if patch.size == 0:
        return None
    hsv = cv2.cvtColor(patch, cv2.COLOR_BGR2HSV)
    if float(np.median(hsv[:, :, 1])) < _COLOURLESS:
        return None
    ycrcb = cv2.cvtColor(patch, cv2.COLOR_BGR2YCrCb)
    cr, cb, sat = ycrcb[:, :, 1], ycrcb[:, :, 2], hsv[:, :, 1]
    skin = (cr >= 133) & (cr <= 180) & (cb >= 77) & (cb <= 135) & (sat <= 190)
    return float(skin.mean())


def face_proportions(box: FaceBox) -> bool:
    """A face box is about as tall as wide or taller (0.8..2.0): a long strip is no face."""
    ratio = box.h / max(1, box.w)
    return 0.8 <= ratio <= 2.0
