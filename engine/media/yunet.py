"""YuNet (OpenCV's `FaceDetectorYN`) running a YuNet ONNX file the analyst supplied.

The file is read once, hashed, and the network is built from those same bytes, so the
SHA-256 a run records is that of the weights that ran. FaceDetectorYN filters by score itself;
it is asked for candidates from `_CANDIDATE_LEVEL` up so that the boxes refused by the floor
can be counted, and the floor is applied here.
"""

from __future__ import annotations

import os
from typing import Any

import cv2
import numpy as np

from engine.errors import MediaError
from engine.media.facebox import BELOW_FLOOR, FaceBox, FaceScreening, as_bgr, clipped, largest_first, read_checked_model_file

__all__ = ["YUNET_MIN_CONFIDENCE", "YuNetFaceDetector"]

# The score a face needs (0..1); 0.8 is what this program has always used with YuNet, a little
# under the 0.9 of OpenCV's demo so that faces turned slightly away are kept.
YUNET_MIN_CONFIDENCE = 0.8
_CANDIDATE_LEVEL = 0.5
_NMS_IOU = 0.3


class YuNetFaceDetector:
    """OpenCV's FaceDetectorYN running a user-supplied YuNet ONNX file."""

    kind = "yunet"

    def __init__(self, onnx_path: str | os.PathLike[str], score_threshold: float = YUNET_MIN_CONFIDENCE,
                 nms_threshold: float = _NMS_IOU, *, expected_sha256: str | None = None,
                 label: str | None = None) -> None:
        path = os.fspath(onnx_path)
        data, self.sha256 = read_checked_model_file(path, "YuNet face model", expected_sha256)
        self.min_confidence, self._nms = float(score_threshold), float(nms_threshold)
        candidate_level = min(_CANDIDATE_LEVEL, self.min_confidence)
        try:
            self._detector = cv2.FaceDetectorYN.create("onnx", np.frombuffer(data, np.uint8), np.empty(0, np.uint8),
                                                       (320, 320), candidate_level, self._nms, 5000)
        except cv2.error as exc:
            why = str(exc).strip().splitlines()[-1]
            raise MediaError(f"YuNet face model cannot be loaded ({why}): {path}") from exc
        self.label = label
        self.name = f"yunet:{self.sha256[:12]}"

    def candidates(self, image_bgr: np.ndarray) -> list[FaceBox]:
        frame = as_bgr(image_bgr)
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        height, width = frame.shape[:2]
        try:
            self._detector.setInputSize((width, height))
            _ok, faces = self._detector.detect(frame)
        except cv2.error as exc:
            raise MediaError(f"the YuNet face model cannot run ({str(exc).strip().splitlines()[-1][:160]}); "
                             "is it a YuNet file?") from None
        if faces is None:
            return []
        found = [clipped(float(row[0]), float(row[1]), float(row[2]), float(row[3]), width, height, float(row[-1]))
                 for row in np.asarray(faces).reshape(-1, faces.shape[-1])]
        return largest_first([box for box in found if box is not None])

    def screen(self, image_bgr: np.ndarray) -> FaceScreening:
        boxes = self.candidates(image_bgr)
        accepted = [box for box in boxes if box.score >= self.min_confidence]
        refused = len(boxes) - len(accepted)
        return FaceScreening(accepted, {BELOW_FLOOR: refused} if refused else {})

    def detect(self, image_bgr: np.ndarray) -> list[FaceBox]:
        return self.screen(image_bgr).accepted

    def record(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "source": "imported" if self.label else "file",
                "stored_as": self.label, "sha256": self.sha256, "confidence": "FaceDetectorYN score (0..1)",
                "thresholds": {"min_confidence": self.min_confidence, "nms_iou": self._nms}}
