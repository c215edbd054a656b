"""Image metadata an examiner looks at first: camera, software, dates, GPS, XMP, ICC.

Only headers are read (no pixel decoding), from a read-only handle. Values are plain strings,
ints and bools so that the dict can be stored in the case file and printed in reports as is.
Absent fields are None rather than missing, so every report shows the same rows.
"""

from __future__ import annotations

import os
import re
from typing import Any

from PIL import Image, UnidentifiedImageError

from engine.errors import MediaError
from engine.media.sniff import sniff_evidence

_IFD0 = {"make": 0x010F, "model": 0x0110, "software": 0x0131, "datetime_modified": 0x0132,
         "orientation": 0x0112, "artist": 0x013B}
_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_EXIF_FIELDS = {"datetime_original": 0x9003, "datetime_digitized": 0x9004,
                "lens_model": 0xA434, "body_serial": 0xA431}
_XMP_TIFF_TAG = 700

_CREATOR_TOOL = re.compile(
    rb"CreatorTool(?:=\"([^\"]*)\"|>([^<]*)<)", re.IGNORECASE
)


def _text(value: Any) -> str | int | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, int):
        return value
    text = str(value).replace("\x00", "").strip()
    return text or None


def _xmp_bytes(image: Image.Image) -> bytes | None:
    raw = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    if raw is None and hasattr(image, "tag_v2"):
        raw = image.tag_v2.get(_XMP_TIFF_TAG)  # TIFF keeps XMP in a tag, not in info
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "replace")
    if isinstance(raw, tuple):  # some TIFF writers store it as a byte tuple
        raw = bytes(raw)
    return raw or None


def read_image_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """Camera/software/dates/GPS-present/XMP/ICC facts from an image file's headers."""
    name = os.fspath(path)
    found = sniff_evidence(name)
    if found.kind != "image":
        raise MediaError(f"Unsupported image format: the file is {found.description}: {name}")
    try:
        with open(name, "rb") as handle, Image.open(handle) as image:
            exif = image.getexif()
            result: dict[str, Any] = {
                "format": found.format,
                "width": image.size[0],
                "height": image.size[1],
                "mode": image.mode,
            }
            for key, tag in _IFD0.items():
                result[key] = _text(exif.get(tag))
            exif_ifd = exif.get_ifd(_EXIF_IFD)
            for key, tag in _EXIF_FIELDS.items():
                result[key] = _text(exif_ifd.get(tag))
            gps = exif.get_ifd(_GPS_IFD)
            # Presence only: coordinates are personal data and belong in the examiner's own
            # tools, not in an automatically shared report.
            result["gps_present"] = bool(gps)
            xmp = _xmp_bytes(image)
            result["xmp_present"] = xmp is not None
            creator = _CREATOR_TOOL.search(xmp) if xmp else None
            result["xmp_creator_tool"] = (
                _text(creator.group(1) or creator.group(2)) if creator else None
            )
            result["icc_profile_present"] = bool(image.info.get("icc_profile"))
            return result
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise MediaError(f"Image metadata cannot be read ({exc}): {name}") from exc
    except Image.DecompressionBombError as exc:
        raise MediaError(f"Image header gives an unsafe size ({exc}): {name}") from exc
