"""EXIF as the provenance checks need it: the main, EXIF and thumbnail directories, plainly.

Pillow parses the TIFF structure (from a JPEG's APP1, a PNG's eXIf chunk, or a WebP/TIFF it
opens lazily, headers only); this module keeps the three directories as dicts of simple
values and judges one thing itself: a camera named in Make/Model without the exposure
fields every camera writes, which is what EXIF composed by software (or a generator
imitating a camera) tends to look like.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from typing import Any

from engine.forensics.records import Found, Severity
from engine.forensics.tools import PILLOW, finding, pillow_quiet

IFD_EXIF = 0x8769
IFD1 = -1  # Pillow's key for the thumbnail directory
MAKE, MODEL, SOFTWARE, DATETIME = 0x010F, 0x0110, 0x0131, 0x0132
DATETIME_ORIGINAL, DATETIME_DIGITIZED, USER_COMMENT = 0x9003, 0x9004, 0x9286
OFFSET_TIME_ORIGINAL = 0x9011
THUMB_OFFSET, THUMB_LENGTH = 0x0201, 0x0202
# What a camera's own EXIF carries: exposure time, f-number, ISO, focal length, capture time.
CAMERA_FIELDS = {0x829A: "ExposureTime", 0x829D: "FNumber", 0x8827: "ISOSpeedRatings", 0x920A: "FocalLength",
                 DATETIME_ORIGINAL: "DateTimeOriginal"}


@dataclass
class ExifFacts:
    main: dict[int, Any] = field(default_factory=dict)
    exif: dict[int, Any] = field(default_factory=dict)
    thumbnail_ifd: dict[int, Any] = field(default_factory=dict)
    tiff: bytes = b""  # the raw TIFF structure, for the thumbnail's bytes
    error: str | None = None  # nothing could be read
    damaged: str | None = None  # read in part: Pillow skipped what it could not make sense of

    def text(self, tag: int, where: str = "main") -> str | None:
        value = (self.main if where == "main" else self.exif).get(tag)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if value is None:
            return None
        text = str(value).replace("\x00", "").strip()
        return text or None


def read_exif(tiff: bytes) -> ExifFacts:
    """Parse a TIFF-structured EXIF block (without or with its "Exif\\0\\0" prefix)."""
    from PIL import Image  # noqa: PLC0415

    facts = ExifFacts(tiff=tiff[6:] if tiff.startswith(b"Exif\x00\x00") else tiff)
    with warnings.catch_warnings(record=True) as heard:
        warnings.simplefilter("always")  # Pillow warns, and reads on, when a directory is corrupt
        try:
            exif = Image.Exif()
            exif.load(tiff)
            facts.main = dict(exif)
            facts.exif = dict(exif.get_ifd(IFD_EXIF))
            facts.thumbnail_ifd = dict(exif.get_ifd(IFD1))
        except Exception as exc:  # Pillow's TIFF reader on a hostile block: many ways to fail, one message
            facts.error = f"the EXIF block cannot be read ({type(exc).__name__}: {str(exc)[:120]})"
    complaints = [str(w.message).strip() for w in heard if issubclass(w.category, UserWarning)]
    if complaints and facts.error is None:
        facts.damaged = f"the EXIF block is damaged ({complaints[0][:120]}); what could be read was kept"
    return facts


def exif_of_other(data: bytes) -> ExifFacts | None:
    """EXIF of a WebP or TIFF (Pillow opens it lazily: headers only, no pixels)."""
    from PIL import Image  # noqa: PLC0415

    try:
        with pillow_quiet(), Image.open(io.BytesIO(data)) as image:
            raw = image.info.get("exif")
            if isinstance(raw, bytes):
                return read_exif(raw)
            exif = image.getexif()
            return ExifFacts(main=dict(exif), exif=dict(exif.get_ifd(IFD_EXIF))) if len(exif) else None
    except Exception as exc:
        return ExifFacts(error=f"the EXIF cannot be read ({type(exc).__name__}: {str(exc)[:120]})")


def camera_fields(facts: ExifFacts, found: Found) -> None:
    """A camera named without the fields a camera writes."""
    make, model = facts.text(MAKE), facts.text(MODEL)
    if not make and not model:
        return
    named = " ".join(v for v in (make, model) if v)
    missing = [name for tag, name in CAMERA_FIELDS.items() if tag not in facts.exif]
    if len(missing) >= 3:
        found.findings.append(finding(
            "exif.camera_fields", Severity.NOTEWORTHY,
            f"EXIF names a camera ({named}) but lacks {', '.join(missing)}: cameras write these, so the EXIF was "
            "probably written or rewritten by software", "EXIF IFD0 Make/Model and the EXIF directory",
            PILLOW, value=named))
    elif missing:
        found.findings.append(finding(
            "exif.camera_fields", Severity.INFORMATIVE,
            f"EXIF names a camera ({named}); missing: {', '.join(missing)} (some apps strip single fields)",
            "EXIF IFD0 Make/Model and the EXIF directory", PILLOW, value=named))
    else:
        found.findings.append(finding(
            "exif.camera_fields", Severity.INFORMATIVE,
            f"EXIF names a camera ({named}) with the exposure fields a camera writes (software can write them too)",
            "EXIF IFD0 Make/Model and the EXIF directory", PILLOW, value=named))


def thumbnail_bytes(facts: ExifFacts, limit: int = 1 << 20) -> bytes | None:
    """The embedded JPEG thumbnail (IFD1), if its offset and length point inside the block."""
    offset, length = facts.thumbnail_ifd.get(THUMB_OFFSET), facts.thumbnail_ifd.get(THUMB_LENGTH)
    if not isinstance(offset, int) or not isinstance(length, int) or length <= 0 or length > limit:
        return None
    if offset < 8 or offset + length > len(facts.tiff):
        return None
    return facts.tiff[offset: offset + length]
