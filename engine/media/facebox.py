"""What every face detector hands back: boxes with a confidence, what it refused, and what it is.

A detector finds candidate boxes, keeps those whose confidence reaches its documented floor
and that pass its plausibility checks, and says how many it refused and why, so an item's
outcome can show that a sleeve was looked at and turned down. `record()` is its provenance:
the kind, the name results carry, the SHA-256 of the file it ran (a model or a cascade) and
every threshold it applied; a run stores it in its settings and each item's outcome.
Confidences are on each detector's own scale (Haar: a stage weight; CenterFace, YuNet: 0..1),
so a floor is always recorded beside the detector it belongs to.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, runtime_checkable

import cv2
import numpy as np

from engine.errors import MediaError
from engine.util.hashing import sha256_bytes

__all__ = ["FaceBox", "FaceDetector", "FaceScreening", "as_bgr", "nms", "read_model_file"]

BELOW_FLOOR = "below the confidence floor"
_MAX_BYTES = 512 << 20  # no face detector comes near this; a bigger "model" is something else


@dataclass(frozen=True)
class FaceBox:
    x: int
    y: int
    w: int
    h: int
    score: float  # detector confidence on the detector's own scale (see its record's thresholds)

    @property
    def area(self) -> int:
        return self.w * self.h

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2.0, self.y + self.h / 2.0


@dataclass(frozen=True)
class FaceScreening:
    """One frame's faces: those accepted (largest first) and how many candidates each check refused."""

    accepted: list[FaceBox]
    rejected: Mapping[str, int] = field(default_factory=dict)  # reason → candidates refused for it


@runtime_checkable
class FaceDetector(Protocol):
    name: str

    def screen(self, image_bgr: np.ndarray) -> FaceScreening: ...

    def detect(self, image_bgr: np.ndarray) -> list[FaceBox]: ...

    def record(self) -> dict[str, Any]: ...


def as_bgr(image_bgr: np.ndarray) -> np.ndarray:
    """An 8-bit BGR (or grey) frame; BGRA is dropped to BGR, anything else refused."""
    if not isinstance(image_bgr, np.ndarray) or image_bgr.dtype != np.uint8 or image_bgr.ndim not in (2, 3):
        raise MediaError("Face detection needs an 8-bit image")
    if image_bgr.ndim == 3 and image_bgr.shape[2] == 4:
        return cv2.cvtColor(image_bgr, cv2.COLOR_BGRA2BGR)
    return image_bgr


def clipped(x: float, y: float, w: float, h: float, width: int, height: int, score: float) -> FaceBox | None:
    """A box rounded to pixels and clipped to the frame, or None when nothing of it is inside."""
    x0, y0 = max(0, int(round(x))), max(0, int(round(y)))
    x1, y1 = min(width, int(round(x + w))), min(height, int(round(y + h)))
    if x1 <= x0 or y1 <= y0:
        return None
    return FaceBox(x0, y0, x1 - x0, y1 - y0, float(score))


def nms(boxes: list[FaceBox], iou_limit: float) -> list[FaceBox]:
    """Greedy non-maximum suppression: the most confident box of every overlapping group."""
    kept: list[FaceBox] = []
    for box in sorted(boxes, key=lambda b: -b.score):
        if all(iou(box, other) <= iou_limit for other in kept):
            kept.append(box)
    return kept


def iou(a: FaceBox, b: FaceBox) -> float:
    """Intersection over union of two boxes (0 when they do not meet)."""
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.x + a.w, b.x + b.w), min(a.y + a.h, b.y + b.h)
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


def largest_first(boxes: list[FaceBox]) -> list[FaceBox]:
    return sorted(boxes, key=lambda box: -box.area)


def read_model_file(path: str | os.PathLike[str], what: str) -> bytes:
    """The bytes of a face model file (refusing folders, devices, pipes and absurd sizes)."""
    name = os.fspath(path)
    if not os.path.exists(name):
        raise MediaError(f"{what} not found: {name}")
    if not os.path.isfile(name):
        raise MediaError(f"{what} is not a regular file (a folder, device or pipe): {name}")
    try:
        with open(name, "rb") as handle:
            data = handle.read(_MAX_BYTES + 1)
    except OSError as exc:
        raise MediaError(f"cannot read the {what} {name}: {exc.strerror or exc}") from None
    if len(data) > _MAX_BYTES:
        raise MediaError(f"{what} is larger than {_MAX_BYTES >> 20} MiB; not a face detector: {name}")
    return data


def read_checked_model_file(path: str | os.PathLike[str], what: str,
                            expected_sha256: str | None) -> tuple[bytes, str]:
    """The bytes of a face model file and their SHA-256, refused when they are not the bytes
    imported (`expected_sha256`); the detector is built from these very bytes, so what was
    hashed is what runs."""
    data = read_model_file(path, what)
    digest = sha256_bytes(data)
    if expected_sha256 is not None and digest != expected_sha256:
        raise MediaError(f"the {what.replace(' face model', '')} file {os.path.basename(os.fspath(path))} changed "
                         f"since it was imported (SHA-256 {digest[:12]}…, imported as {expected_sha256[:12]}…); "
                         "import it again")
    return data, digest
