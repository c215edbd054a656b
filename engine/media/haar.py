"""The built-in face detector: OpenCV's frontal-face Haar cascade, with a confidence floor and
cheap checks, because the raw cascade takes textured cloth for faces.

The cascade ships inside the OpenCV 4.x wheels (`cv2.data.haarcascades`; the 5.0 wheels no
longer carry it, hence the `<5` pin). Its confidence is the level weight of
`detectMultiScale3(..., outputRejectLevels=True)`: the sum of the last stage's weak
classifiers, unbounded, higher for a clearer face. Each candidate must also pass two cheap checks.
All three were measured on bench/bench_faces.py (150 frames of 1280×720, seed 11: 139 faces
from scikit-image photographs over textures, 118 orange sleeve-like fabric patches, hands,
coins, a cat, non-face patches), and each kept because it measurably helped:

    raw cascade                      precision 0.556  recall 0.957  (29 false faces on sleeves)
    floor 3 alone                              0.677         0.950  (11)
    skin check alone                           0.700         0.957  (0)
    eye check alone                            0.846         0.871  (2)
    floor 3 + eye + skin (default)             0.945         0.863  (0)

- the floor `HAAR_MIN_CONFIDENCE`: false boxes on fabric, gravel and coins weigh low;
- the skin check: saturated dyed cloth fails it, while skin of every tone on the bench passes
  and colourless (grey) footage is not judged by colour at all, so it cost no face;
- the eye check (OpenCV's `haarcascade_eye.xml` must find an eye in the box's upper part):
  the largest gain in precision, for about a tenth of the faces (small or blurred ones).
A track whose faces are all refused never reaches a verdict; one that slips through in a
frame or two is kept from deciding one on its own by the verdict rule (verdicts.py).
Haar boxes are always square (the cascade's window is), so a proportions check adds nothing.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from engine.media.face_checks import EYE_FILE, cascade_path, has_an_eye, load_cascade, skin_share
from engine.media.facebox import BELOW_FLOOR, FaceBox, FaceScreening, as_bgr, largest_first
from engine.util.hashing import sha256_file

__all__ = ["HAAR_FILE", "HAAR_MIN_CONFIDENCE", "HaarFaceDetector"]

HAAR_FILE = "haarcascade_frontalface_default.xml"
# Level weight below which a cascade box is refused. On the bench, the raw cascade's boxes on
# fabric, gravel and coins weigh -1..4 (most under 3), real faces 1.5..10 (LFW faces median
# 7.5, the astronaut 5.8, the generated test faces 8..11).
HAAR_MIN_CONFIDENCE = 3.0
DEFAULT_EYE_CHECK = True
DEFAULT_SKIN_CHECK = True
MIN_SKIN_SHARE = 0.2
NO_EYE = "no eye found in it"
NOT_SKIN = "not skin-coloured"


class HaarFaceDetector:
    """OpenCV's frontal-face Haar cascade, shipped with opencv-python 4.x."""

    kind = "haar"

    def __init__(self, min_size: int = 40, min_neighbors: int = 5, scale_factor: float = 1.1,
                 min_confidence: float | None = HAAR_MIN_CONFIDENCE, eye_check: bool = DEFAULT_EYE_CHECK,
                 skin_check: bool = DEFAULT_SKIN_CHECK) -> None:
        self._path = cascade_path(HAAR_FILE)
        self._cascade = load_cascade(HAAR_FILE)
        self._eyes = load_cascade(EYE_FILE) if eye_check else None
        self._min_size = min_size
        self._min_neighbors = min_neighbors
        self._scale_factor = scale_factor
        self.min_confidence = min_confidence
        self.eye_check, self.skin_check = eye_check, skin_check
        self.name = f"opencv-haar-frontalface-default {cv2.__version__}"

    def candidates(self, image_bgr: np.ndarray) -> list[FaceBox]:
        """Every box the cascade finds, with its level weight, before the floor and the checks."""
        frame = as_bgr(image_bgr)
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
        return largest_first(found)

    def screen(self, image_bgr: np.ndarray) -> FaceScreening:
        frame = as_bgr(image_bgr)
        grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        accepted: list[FaceBox] = []
        rejected: dict[str, int] = {}
        for box in self.candidates(frame):
            reason = self.refusal(frame, box, grey)
            if reason is None:
                accepted.append(box)
            else:
                rejected[reason] = rejected.get(reason, 0) + 1
        return FaceScreening(accepted, rejected)

    def refusal(self, frame: np.ndarray, box: FaceBox, grey: np.ndarray | None = None) -> str | None:
        """Why this candidate is not taken as a face (None: it is); `grey` saves a conversion."""
        if grey is None:
            grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        if self.min_confidence is not None and box.score < self.min_confidence:
            return BELOW_FLOOR
        if self._eyes is not None and not has_an_eye(grey, box, self._eyes):
            return NO_EYE
        if self.skin_check:
            share = skin_share(frame, box)
            if share is not None and share < MIN_SKIN_SHARE:
                return NOT_SKIN
        return None

    def detect(self, image_bgr: np.ndarray) -> list[FaceBox]:
        return self.screen(image_bgr).accepted

    def record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "kind": self.kind, "name": self.name, "source": "built in (opencv-python-headless)",
            "file": HAAR_FILE, "sha256": sha256_file(self._path),
            "confidence": "level weight of detectMultiScale3 (unbounded; higher is clearer)",
            "thresholds": {"min_confidence": self.min_confidence, "min_neighbors": self._min_neighbors,
                           "scale_factor": self._scale_factor, "min_size": self._min_size,
                           "eye_check": self.eye_check, "skin_check": self.skin_check},
        }
        if self.eye_check:
            record["eye_file"], record["eye_sha256"] = EYE_FILE, sha256_file(cascade_path(EYE_FILE))
        if self.skin_check:
            record["thresholds"]["min_skin_share"] = MIN_SKIN_SHARE
        return record
