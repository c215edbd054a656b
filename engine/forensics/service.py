"""The forensics calls engine.api makes: inspect a file, map a picture, describe at intake.

Maps of case evidence are cached process-wide by content (evidence SHA-256, frame index,
kind, parameters), so two views of one case, or two cases holding the same file, share
them; a map is frozen, so sharing it across threads is safe. Maps of a loose file (the
`maps` command) are computed once and not cached.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from engine.errors import EngineError, MediaError
from engine.forensics.maps import ForensicMap, MapCache, checked_params, forensic_map
from engine.forensics.provenance import inspect_file
from engine.forensics.records import ProvenanceReport
from engine.media.frames import read_frame
from engine.media.image import load_image
from engine.media.sniff import sniff_evidence

log = logging.getLogger(__name__)
SHARED_CACHE = MapCache()


def picture_of_file(path: str | os.PathLike[str], frame_index: int = 0) -> np.ndarray:
    """uint8 RGB of an image (orientation applied, as the viewer shows it) or of a video's frame."""
    name = os.fspath(path)
    found = sniff_evidence(name)
    if found.kind == "image":
        if frame_index != 0:
            raise MediaError(f"an image has one frame (0), not frame {frame_index}")
        return np.ascontiguousarray(np.asarray(load_image(name).rgb))
    if found.kind == "video":
        return np.ascontiguousarray(cv2.cvtColor(read_frame(name, frame_index), cv2.COLOR_BGR2RGB))
    raise MediaError(f"{name} is {found.description}, not an image or a video")


def map_of_file(path: str | os.PathLike[str], kind: str, frame_index: int = 0, **params: Any) -> ForensicMap:
    checked_params(kind, params)  # a wrong parameter is said before anything is decoded
    return forensic_map(picture_of_file(path, frame_index), kind, **params)


def map_of_evidence(picture: Callable[[], np.ndarray], sha256: str, frame_index: int, kind: str,
                    **params: Any) -> ForensicMap:
    """A map of frame `frame_index` of evidence `sha256`: from the shared cache when it was made
    before, else of `picture()` (called only then, so a cached map costs no decoding)."""
    key = MapCache.key(sha256, frame_index, kind, checked_params(kind, params))
    cached = SHARED_CACHE.get(key)
    if cached is not None:
        return cached
    made = forensic_map(picture(), kind, **params)
    SHARED_CACHE.put(key, made)
    return made


def provenance_metadata(path: str | os.PathLike[str], sha256: str, *, recompression: bool = False) -> dict[str, Any]:
    """For intake: {"provenance": report as JSON} or {"provenance_error": why}; never raises,
    since describing evidence is never a reason to refuse it. The double-compression hint is
    skipped unless asked for: it decodes the picture, most of the cost on a large JPEG."""
    try:
        report: ProvenanceReport = inspect_file(path, expected_sha256=sha256, recompression=recompression)
        return {"provenance": report.to_dict()}
    except EngineError as exc:
        return {"provenance_error": str(exc)}
    except Exception as exc:  # a bug in a check must not block adding evidence
        log.warning("provenance of %s failed", path, exc_info=True)
        return {"provenance_error": f"unexpected {type(exc).__name__}: {str(exc)[:200]}"}
