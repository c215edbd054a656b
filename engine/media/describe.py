"""What an examiner wants to know about an evidence file before analysing it, as a dict.

Images: format, size, mode, EXIF orientation and the metadata that matters (camera,
software, dates, GPS present, XMP). Videos: container, codec, size, rotation, fps, frame
count (and whether it is an estimate), duration. A file that cannot be described still gets
a dict, holding the reason, because describing is not a reason to refuse evidence.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import Any

from engine.errors import EngineError
from engine.media.image import read_image_metadata
from engine.media.video import probe


def describe_evidence(path: str | os.PathLike, media_kind: str | None) -> dict[str, Any]:
    try:
        if media_kind == "image":
            return {"image": read_image_metadata(path)}
        if media_kind == "video":
            return {"video": asdict(probe(path))}
    except EngineError as exc:
        return {"describe_error": str(exc)}
    except Exception as exc:  # a metadata parser bug must not block adding evidence
        return {"describe_error": f"unexpected {type(exc).__name__}: {exc}"}
    return {"describe_error": f"not an image or a video ({media_kind or 'unknown type'})"}
