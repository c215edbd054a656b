"""Does the EXIF thumbnail show the same picture as the file?

A camera writes a small preview into EXIF when it takes the picture. Many editors change
the picture and carry the old EXIF over untouched, so a thumbnail that shows another scene
(or the same scene with a region different) says the picture is not what the camera wrote
with that EXIF. Both are reduced to a common small grey picture (letterbox bars cropped,
contrast normalised) and compared globally (correlation) and locally (the worst 8×8 cell).
A matching thumbnail proves little: editors that rewrite the thumbnail make it match.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from engine.forensics.records import Found, Severity
from engine.forensics.tools import PILLOW, finding, pillow_quiet

MAX_THUMB_PIXELS = 4_000_000
SIDE = 64
SOURCE = "EXIF IFD1 thumbnail (JPEGInterchangeFormat)"


def _grey(image: Image.Image, size: tuple[int, int]) -> np.ndarray:
    small = image.convert("L").resize(size, Image.Resampling.BOX)
    values = np.asarray(small, dtype=np.float64)
    return (values - values.mean()) / (values.std() + 1e-6)


def _crop_bars(picture: np.ndarray) -> tuple[slice, slice]:
    """Rows and columns of a thumbnail without the black bars a camera pads it with."""
    rows = np.flatnonzero(picture.max(axis=1) > 16)
    cols = np.flatnonzero(picture.max(axis=0) > 16)
    if rows.size < 4 or cols.size < 4:
        return slice(None), slice(None)
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def compare_thumbnail(thumb_bytes: bytes, data: bytes, max_pixels: int, found: Found) -> None:
    try:
        with pillow_quiet(), Image.open(io.BytesIO(thumb_bytes)) as thumb_file:
            if thumb_file.width * thumb_file.height > MAX_THUMB_PIXELS:
                raise ValueError("the thumbnail declares an unreasonable size")
            thumb = thumb_file.convert("RGB")
    except Exception as exc:  # a damaged thumbnail is a fact about the file, not a failure of ours
        found.findings.append(finding("exif.thumbnail", Severity.NOTEWORTHY,
                                      f"the EXIF thumbnail cannot be decoded ({str(exc)[:100]})", SOURCE, PILLOW))
        return
    with pillow_quiet(), Image.open(io.BytesIO(data)) as main_file:
        if main_file.width * main_file.height > max_pixels:
            found.findings.append(finding("exif.thumbnail", Severity.INFORMATIVE,
                                          "the picture is too large to compare with its thumbnail", SOURCE, PILLOW))
            return
        if main_file.format == "JPEG":
            main_file.draft("RGB", (thumb.width * 2, thumb.height * 2))  # a reduced decode is plenty
        main = main_file.convert("RGB")
    raw = np.asarray(thumb.convert("L"))
    rows, cols = _crop_bars(raw)
    thumb = thumb.crop((cols.start or 0, rows.start or 0, cols.stop or thumb.width, rows.stop or thumb.height))
    aspect = thumb.height / max(1, thumb.width)
    size = (SIDE, max(8, round(SIDE * aspect)))
    a, b = _grey(thumb, size), _grey(main, size)
    correlation = float((a * b).mean())
    cells = np.abs(a - b)[: size[1] // 8 * 8, :].reshape(size[1] // 8, 8, SIDE // 8, 8).mean(axis=(1, 3))
    worst = float(cells.max())
    shape_note = ""
    main_aspect = main.height / max(1, main.width)
    if abs(main_aspect - aspect) > 0.05 * max(aspect, main_aspect):
        shape_note = f"; its shape ({thumb.width}×{thumb.height}) differs from the picture's ({main.width}×{main.height})"
    _judge(correlation, worst, shape_note, found)


def _judge(correlation: float, worst: float, shape_note: str, found: Found) -> None:
    value = f"correlation {correlation:.2f}, worst 8×8 cell difference {worst:.2f} (in standard deviations)"
    if correlation < 0.5:
        found.findings.append(finding(
            "exif.thumbnail", Severity.STRONG,
            f"the EXIF thumbnail shows a different picture{shape_note}: the picture was replaced or changed after "
            "the thumbnail was written", SOURCE, PILLOW, value))
    elif correlation < 0.85 or worst > 1.2:
        found.findings.append(finding(
            "exif.thumbnail", Severity.NOTEWORTHY,
            f"the EXIF thumbnail differs from the picture in part{shape_note}: a local edit, a crop or a tonal "
            "change after the thumbnail was written", SOURCE, PILLOW, value))
    else:
        found.findings.append(finding(
            "exif.thumbnail", Severity.INFORMATIVE,
            f"the EXIF thumbnail matches the picture{shape_note} (an editor that rewrites thumbnails makes it match)",
            SOURCE, PILLOW, value))
