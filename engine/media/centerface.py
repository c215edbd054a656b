"""CenterFace (Xu et al. 2019, "CenterFace: joint face detection and alignment using face as
point") run with onnxruntime from an ONNX file the analyst imported.

The network sees an RGB image (0..255, no normalisation) whose sides are multiples of 32 and
answers on a grid four times coarser: a heatmap of face centres (0..1, the confidence), the
log of each face's height and width in grid cells, the sub-cell offset of the centre, and ten
landmark channels (unused here). A face is a heatmap cell at or above the floor; its box is
centred at (cell + offset + 0.5) × 4 with sides exp(scale) × 4, and overlapping boxes are
reduced by non-maximum suppression. The published file has a fixed 32×32 input, so the graph's
image dimensions are made symbolic in memory before the session is built; the file itself is
hashed from the same bytes that are parsed, so what ran is what was checked.
"""

from __future__ import annotations

import math
import os
from typing import Any

import cv2
import numpy as np

from engine.errors import MediaError
from engine.media.facebox import (
    BELOW_FLOOR, FaceBox, FaceScreening, as_bgr, clipped, largest_first, nms, read_checked_model_file,
)

__all__ = ["CENTERFACE_MIN_CONFIDENCE", "CenterFaceDetector"]

# The heatmap value a face needs: 0.5, the operating point CenterFace's authors publish. On
# bench/bench_faces.py (150 frames of 1280×720, seed 11) it kept 135 of 139 faces with no false
# face, none on the sleeve-like cloth; 0.3 found 138 with 3 false, 0.7 only 120. A proportions
# check (face_checks.face_proportions) changed nothing there, so CenterFace applies no other check.
CENTERFACE_MIN_CONFIDENCE = 0.5
_CANDIDATE_LEVEL = 0.2  # cells from here up are candidates, so refusals below the floor can be counted
_NMS_IOU = 0.3
_STRIDE = 4
# Frames are scaled so that their longer side is at most this before detection. On the bench's
# 1080p frames, scaling to 960 lost a tenth of the faces (recall 0.875 against 0.953 unscaled, at
# the same precision) and saved 60 % of the time; unscaled, 1080p costs about what the Haar
# cascade does (0.47 s a frame on two cores), so only frames larger than 1080p are scaled.
DEFAULT_MAX_SIDE = 1920


def _session(data: bytes, path: str) -> tuple[Any, str]:
    """An onnxruntime session for a CenterFace graph with free image dimensions, and its input name."""
    import onnx  # noqa: PLC0415 - only when a CenterFace file is used
    import onnxruntime as ort  # noqa: PLC0415

    try:
        model = onnx.load_from_string(data)
    except Exception as exc:  # protobuf's own decode errors
        raise MediaError(f"the CenterFace file is not an ONNX model ({type(exc).__name__}): {path}") from None
    initialisers = {init.name for init in model.graph.initializer}
    inputs = [value for value in model.graph.input if value.name not in initialisers]
    outputs = list(model.graph.output)
    channels = [_dims(value)[1] if len(_dims(value)) == 4 else None for value in outputs]
    if len(inputs) != 1 or len(_dims(inputs[0])) != 4 or _dims(inputs[0])[1] != 3 or channels != [1, 2, 2, 10]:
        raise MediaError(f"{os.path.basename(path)} is not a CenterFace model (it needs one image input and four "
                         f"outputs of 1, 2, 2 and 10 channels; it has {len(inputs)} input(s) and outputs of "
                         f"{channels} channels)")
    for value in (*inputs, *outputs):
        dims = value.type.tensor_type.shape.dim
        for index, symbol in ((0, "batch"), (2, "height"), (3, "width")):
            dims[index].ClearField("dim_value")
            dims[index].dim_param = symbol
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = max(1, min(4, os.cpu_count() or 1))
    try:
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's own error types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MediaError(f"onnxruntime cannot run the CenterFace file ({first[:200]}): {path}") from None
    return session, inputs[0].name


def _dims(value: Any) -> list[int | None]:
    return [d.dim_value if d.HasField("dim_value") else None for d in value.type.tensor_type.shape.dim]


class CenterFaceDetector:
    """CenterFace from an ONNX file; `expected_sha256` refuses a file that is not the one imported."""

    kind = "centerface"

    def __init__(self, onnx_path: str | os.PathLike[str], *, expected_sha256: str | None = None,
                 min_confidence: float = CENTERFACE_MIN_CONFIDENCE, max_side: int = DEFAULT_MAX_SIDE,
                 label: str | None = None) -> None:
        path = os.fspath(onnx_path)
        data, self.sha256 = read_checked_model_file(path, "CenterFace face model", expected_sha256)
        self._session, self._input = _session(data, path)
        self.min_confidence, self.max_side = float(min_confidence), int(max_side)
        self.label = label  # the face detector store's name for it, when it came from there
        self.name = f"centerface:{self.sha256[:12]}"

    def candidates(self, image_bgr: np.ndarray) -> list[FaceBox]:
        """Boxes from every heatmap peak at or above the candidate level, after NMS."""
        frame = as_bgr(image_bgr)
        rgb = cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB if frame.ndim == 2 else cv2.COLOR_BGR2RGB)
        height, width = rgb.shape[:2]
        shrink = min(1.0, self.max_side / max(height, width))
        side_w = max(32, int(math.ceil(width * shrink / 32.0)) * 32)
        side_h = max(32, int(math.ceil(height * shrink / 32.0)) * 32)
        resized = cv2.resize(rgb, (side_w, side_h), interpolation=cv2.INTER_AREA if shrink < 1 else cv2.INTER_LINEAR)
        tensor = np.ascontiguousarray(resized.transpose(2, 0, 1)[None].astype(np.float32))
        heat, scale, offset, _landmarks = self._session.run(None, {self._input: tensor})
        boxes = _decode(heat[0, 0], scale[0], offset[0], _CANDIDATE_LEVEL)
        sx, sy = width / side_w, height / side_h
        found = [clipped(x * sx, y * sy, w * sx, h * sy, width, height, score) for x, y, w, h, score in boxes]
        return nms([box for box in found if box is not None], _NMS_IOU)

    def screen(self, image_bgr: np.ndarray) -> FaceScreening:
        accepted: list[FaceBox] = []
        rejected: dict[str, int] = {}
        for box in self.candidates(image_bgr):
            reason = self.refusal(box)
            if reason is None:
                accepted.append(box)
            else:
                rejected[reason] = rejected.get(reason, 0) + 1
        return FaceScreening(largest_first(accepted), rejected)

    def refusal(self, box: FaceBox) -> str | None:
        """Why this candidate is not taken as a face (None: it is)."""
        return BELOW_FLOOR if box.score < self.min_confidence else None

    def detect(self, image_bgr: np.ndarray) -> list[FaceBox]:
        return self.screen(image_bgr).accepted

    def record(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "source": "imported" if self.label else "file",
                "stored_as": self.label, "sha256": self.sha256, "confidence": "heatmap value at the face centre (0..1)",
                "thresholds": {"min_confidence": self.min_confidence, "nms_iou": _NMS_IOU, "max_side": self.max_side}}


def _decode(heat: np.ndarray, scale: np.ndarray, offset: np.ndarray,
            level: float) -> list[tuple[float, float, float, float, float]]:
    """(x, y, w, h, score) in network-input pixels for every heatmap cell at or above `level`."""
    rows, cols = np.nonzero(heat >= level)
    if rows.size == 0:
        return []
    tall = np.exp(scale[0, rows, cols]) * _STRIDE
    wide = np.exp(scale[1, rows, cols]) * _STRIDE
    centre_y = (rows + offset[0, rows, cols] + 0.5) * _STRIDE
    centre_x = (cols + offset[1, rows, cols] + 0.5) * _STRIDE
    scores = heat[rows, cols]
    return [(float(cx - w / 2), float(cy - h / 2), float(w), float(h), float(s))
            for cx, cy, w, h, s in zip(centre_x, centre_y, wide, tall, scores)]
