"""The metadata checks of one image held in memory, per container format.

JPEG and PNG are walked by this program's own bounded parsers (jpeg_markers, png_chunks);
WebP, TIFF and GIF are opened lazily by Pillow for their EXIF and XMP, headers only. Every
source then goes through the same checks: XMP hints, EXIF software and parameters, camera
fields, dates, the EXIF thumbnail, and the cross-check of a named camera against libjpeg's
tables. Each check runs on its own, so one that breaks on a hostile file is recorded as
failed and the others still run.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from engine.forensics.dates import check_dates
from engine.forensics.exif_facts import (
    MAKE,
    MODEL,
    ExifFacts,
    camera_fields,
    exif_of_other,
    read_exif,
    thumbnail_bytes,
)
from engine.forensics.hints import exif_hints, png_hints, software_hint, xmp_hints
from engine.forensics.jpeg_facts import jpeg_facts
from engine.forensics.jpeg_markers import parse_jpeg
from engine.forensics.png_chunks import parse_png
from engine.forensics.records import CheckRecord, CheckState, Found, JpegFacts, Severity
from engine.forensics.thumbnail import compare_thumbnail
from engine.forensics.tools import finding, pillow_quiet
from engine.forensics.xmp import XmpFacts, parse_xmp

log = logging.getLogger(__name__)


@dataclass
class Sources:
    """What one container gave up: the raw blocks the checks read."""

    exif: ExifFacts | None = None
    xmp: XmpFacts | None = None
    jpeg: JpegFacts | None = None
    size: tuple[int, int] | None = None


def guarded(name: str, found: Found, step: Callable[[], None]) -> None:
    """Run one check; whatever it raises becomes a failed check, never a failed inspection."""
    try:
        step()
    except MemoryError:
        found.checks.append(CheckRecord(name, CheckState.FAILED, "not enough memory for this check"))
    except Exception as exc:  # a parser bug or a file damaged in a way no check foresaw
        log.warning("provenance check %s failed", name, exc_info=True)
        found.checks.append(CheckRecord(name, CheckState.FAILED, f"{type(exc).__name__}: {str(exc)[:160]}"))


def metadata_checks(data: bytes, file_format: str, max_pixels: int, found: Found,
                    now: datetime | None = None, recompression: bool = True) -> Sources:
    sources = Sources()
    if file_format == "jpeg":
        guarded("jpeg", found, lambda: _jpeg(data, max_pixels, sources, found, recompression))
    elif file_format == "png":
        guarded("png", found, lambda: _png(data, sources, found))
    else:
        guarded("exif", found, lambda: _other(data, sources, found))
        found.checks.append(CheckRecord("jpeg.tables", CheckState.NOT_APPLICABLE, f"a {file_format} file"))
    _size_finding(sources.size, max_pixels, found)
    _xmp_checks(sources.xmp, found)
    exif = sources.exif
    if exif is None:
        found.checks.append(CheckRecord("exif", CheckState.NOT_APPLICABLE, "no EXIF in the file"))
    elif exif.error:
        found.checks.append(CheckRecord("exif", CheckState.FAILED, exif.error))
        found.findings.append(finding("exif", Severity.NOTEWORTHY, f"damaged metadata: {exif.error}", "EXIF"))
    else:
        found.checks.append(CheckRecord("exif", CheckState.DONE, exif.damaged or ""))
        if exif.damaged:
            found.findings.append(finding("exif", Severity.NOTEWORTHY, f"damaged metadata: {exif.damaged}", "EXIF"))
        guarded("exif.hints", found, lambda: exif_hints(exif, found))
        guarded("exif.camera_fields", found, lambda: camera_fields(exif, found))
        guarded("exif.thumbnail", found, lambda: _thumbnail(exif, data, max_pixels, found))
        guarded("cross.camera_tables", found, lambda: _camera_tables(exif, sources.jpeg, found))
    guarded("dates", found, lambda: check_dates(exif if exif and not exif.error else None, sources.xmp, found, now))
    return sources


def _jpeg(data: bytes, max_pixels: int, sources: Sources, found: Found, recompression: bool) -> None:
    layout = parse_jpeg(data)
    if layout.frame is not None:
        sources.size = (layout.frame.width, layout.frame.height)
    sources.exif = read_exif(layout.exif) if layout.exif else None
    sources.xmp = parse_xmp(layout.xmp) if layout.xmp else None
    for comment in layout.comments[:8]:
        text = comment.decode("utf-8", "replace").strip("\x00 ")
        if text:
            software_hint(text, "JPEG COM segment", found)
    sources.jpeg, jpeg_found = jpeg_facts(data, layout, max_pixels, recompression)
    found.findings.extend(jpeg_found.findings)
    found.checks.extend(jpeg_found.checks)


def _png(data: bytes, sources: Sources, found: Found) -> None:
    layout = parse_png(data)
    if layout.width is not None and layout.height is not None:
        sources.size = (layout.width, layout.height)
    sources.exif = read_exif(layout.exif) if layout.exif else None
    sources.xmp = parse_xmp(layout.xmp) if layout.xmp else None
    for problem in layout.problems:
        found.findings.append(finding("png.structure", Severity.NOTEWORTHY, f"damaged or unusual file: {problem}",
                                      "PNG chunk structure"))
    png_hints(layout, found)
    found.checks.append(CheckRecord("png.text", CheckState.DONE, f"{len(layout.texts)} text chunk(s) read"))
    found.checks.append(CheckRecord("jpeg.tables", CheckState.NOT_APPLICABLE, "a PNG file"))


def _other(data: bytes, sources: Sources, found: Found) -> None:
    from PIL import Image  # noqa: PLC0415

    sources.exif = exif_of_other(data)
    with pillow_quiet(), Image.open(io.BytesIO(data)) as image:  # lazy: the header only
        sources.size = image.size
        raw = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
        tag = getattr(image, "tag_v2", None)
        if raw is None and tag is not None:
            raw = tag.get(700)  # TIFF keeps XMP in a tag
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "replace")
    if isinstance(raw, tuple):
        raw = bytes(raw)
    sources.xmp = parse_xmp(raw) if isinstance(raw, bytes) and raw else None


def _size_finding(size: tuple[int, int] | None, max_pixels: int, found: Found) -> None:
    if size is None:
        return
    width, height = size
    if width <= 0 or height <= 0 or width * height > max_pixels:
        found.findings.append(finding(
            "image.size", Severity.NOTEWORTHY,
            f"the header declares {width}×{height} pixels, impossible or beyond the {max_pixels:,}-pixel limit: "
            "the picture is not decoded (a damaged or hostile file)", "image header", value=f"{width}x{height}"))


def _xmp_checks(xmp: XmpFacts | None, found: Found) -> None:
    if xmp is None:
        found.checks.append(CheckRecord("xmp", CheckState.NOT_APPLICABLE, "no XMP in the file"))
        return
    if xmp.error:
        found.checks.append(CheckRecord("xmp", CheckState.FAILED, xmp.error))
        found.findings.append(finding("xmp", Severity.NOTEWORTHY, f"damaged or hostile metadata: {xmp.error}", "XMP packet"))
        return
    found.checks.append(CheckRecord("xmp", CheckState.DONE, "walk stopped at the element limit" if xmp.truncated else ""))
    xmp_hints(xmp, found)


def _thumbnail(exif: ExifFacts, data: bytes, max_pixels: int, found: Found) -> None:
    thumb = thumbnail_bytes(exif)
    if thumb is None:
        found.checks.append(CheckRecord("exif.thumbnail", CheckState.NOT_APPLICABLE, "no EXIF thumbnail"))
        return
    compare_thumbnail(thumb, data, max_pixels, found)
    found.checks.append(CheckRecord("exif.thumbnail", CheckState.DONE))


def _camera_tables(exif: ExifFacts, jpeg: JpegFacts | None, found: Found) -> None:
    named = " ".join(v for v in (exif.text(MAKE), exif.text(MODEL)) if v)
    if not named or jpeg is None or not jpeg.standard_tables:
        return
    quality = jpeg.tables[0].standard_quality if jpeg.tables else None
    found.findings.append(finding(
        "cross.camera_tables", Severity.NOTEWORTHY,
        f"EXIF names a camera ({named}) but the file carries libjpeg's standard tables at quality {quality}: most "
        "cameras write their own tables (some phones do not), so this is consistent with a re-encode by software "
        "after the camera (an editor, an app, an upload)", "EXIF Make/Model and JPEG DQT",
        value=named))
