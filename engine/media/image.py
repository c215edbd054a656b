"""Still-image evidence: decode to the RGB picture the detectors see, and say how it was made.

The picture handed to models must be exactly what the reference pipeline (transformers'
`load_image`) produces: `ImageOps.exif_transpose` followed by `Image.convert("RGB")`. That
conversion is lossy for some modes, and this module keeps it that way on purpose but records
what happened: 16-bit and 32-bit integer images (I;16, I) and float images (F) are clipped to
0-255 (floats are truncated, not rounded), alpha channels (LA, PA, RGBA) are dropped without
compositing, and only the first frame of an animated GIF/WebP or multi-page TIFF is analysed.
The evidence file is opened read-only; the image size is checked against a pixel limit from the
header, before any pixel is decoded.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from engine.errors import MediaError
from engine.media.metadata import read_image_metadata
from engine.media.sniff import sniff_evidence

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "SUPPORTED_IMAGE_FORMATS",
    "LoadedImage",
    "image_from_bgr",
    "load_image",
    "read_image_metadata",
]

# 150 megapixels: larger than any camera sensor in common use, far below what would exhaust
# memory once converted to RGB (about 450 MB).
DEFAULT_MAX_PIXELS = 150_000_000

SUPPORTED_IMAGE_FORMATS = ("jpeg", "png", "webp", "bmp", "tiff", "gif")

_ORIENTATION_TAG = 0x0112

_LOSSY_MODE_NOTES = {
    "I;16": "16-bit values clipped to 0-255 by RGB conversion",
    "I;16B": "16-bit values clipped to 0-255 by RGB conversion",
    "I;16L": "16-bit values clipped to 0-255 by RGB conversion",
    "I": "32-bit integer values clipped to 0-255 by RGB conversion",
    "F": "floating-point values truncated and clipped to 0-255 by RGB conversion",
    "LA": "alpha channel dropped by RGB conversion",
    "PA": "alpha channel dropped by RGB conversion",
    "RGBA": "alpha channel dropped by RGB conversion",
    "La": "alpha channel dropped by RGB conversion",
    "RGBa": "alpha channel dropped by RGB conversion",
}


@dataclass(frozen=True)
class LoadedImage:
    rgb: Image.Image  # mode RGB, EXIF orientation applied
    original_mode: str
    original_size: tuple[int, int]  # (width, height) as stored, before orientation
    orientation: int | None  # EXIF Orientation tag value, None when absent
    format: str  # "jpeg", "png", ...
    first_frame_of: int | None  # frame count when only the first of several was used
    notes: tuple[str, ...] = ()


def _check_pixels(name: str, size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise MediaError(f"Image header gives an impossible size {width}x{height}: {name}")
    if width * height > max_pixels:
        raise MediaError(
            f"Image is too large to decode safely ({width}x{height} = {width * height:,} pixels; "
            f"limit {max_pixels:,}): {name}"
        )


def _frame_count(image: Image.Image) -> int:
    try:
        return int(getattr(image, "n_frames", 1))
    except (OSError, ValueError, EOFError):
        return 1  # a damaged later frame must not stop analysis of the first one


@contextlib.contextmanager
def _quiet_bomb_warning() -> Iterator[None]:
    # Pillow warns just above its limit; the pixel check below turns the same case into an error.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def load_image(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """Decode an image file read-only into RGB the way the reference pipeline does."""
    name = os.fspath(path)
    found = sniff_evidence(name)
    if found.kind != "image" or found.format not in SUPPORTED_IMAGE_FORMATS:
        raise MediaError(f"Unsupported image format: the file is {found.description}: {name}")
    # Pillow refuses images above its own global limit before ours can speak; raise its limit
    # (never lower it) so that the configured limit is the one that decides.
    if Image.MAX_IMAGE_PIXELS is not None and max_pixels > Image.MAX_IMAGE_PIXELS:
        Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with open(name, "rb") as handle, _quiet_bomb_warning(), Image.open(handle) as image:
            _check_pixels(name, image.size, max_pixels)
            return _decode(name, image, found.format)
    except MediaError:
        raise
    except Image.DecompressionBombError as exc:
        # Pillow's own message quotes its internal limit, not the one this program applies.
        raise MediaError(f"Image is too large to decode safely (over {max_pixels:,} pixels): {name}") from exc
    except UnidentifiedImageError as exc:
        raise MediaError(f"Image cannot be decoded; it is damaged or not really {found.description}: {name}") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        detail = str(exc).strip().rstrip(".") or type(exc).__name__
        raise MediaError(f"Image is truncated or corrupt ({detail}): {name}") from exc
    except MemoryError as exc:
        raise MediaError(f"Not enough memory to decode image: {name}") from exc


def _decode(name: str, image: Image.Image, fmt: str) -> LoadedImage:
    notes: list[str] = []
    frames = _frame_count(image)
    first_frame_of = frames if frames > 1 else None
    if first_frame_of is not None:
        image.seek(0)
        notes.append(f"{fmt.upper()} with {frames} frames: first frame analysed")
    image.load()
    orientation_value = image.getexif().get(_ORIENTATION_TAG)
    orientation = int(orientation_value) if isinstance(orientation_value, int) else None
    original_mode = image.mode
    original_size = image.size
    transposed = ImageOps.exif_transpose(image)
    rgb = transposed.convert("RGB")
    if orientation not in (None, 1):
        notes.append(f"EXIF orientation {orientation} applied")
    if original_mode in _LOSSY_MODE_NOTES:
        notes.append(f"mode {original_mode}: {_LOSSY_MODE_NOTES[original_mode]}")
    return LoadedImage(
        rgb=rgb,
        original_mode=original_mode,
        original_size=original_size,
        orientation=orientation,
        format=fmt,
        first_frame_of=first_frame_of,
        notes=tuple(notes),
    )


def image_from_bgr(frame: np.ndarray) -> Image.Image:
    """An OpenCV BGR (or grey) uint8 frame as a PIL RGB image."""
    if frame.dtype != np.uint8:
        raise MediaError(f"Video frame has pixel type {frame.dtype}, expected uint8")
    # cv2.cvtColor swaps channels in one vectorised pass; numpy's reversed view plus a
    # contiguous copy costs about four times as much on a 1080p frame.
    if frame.ndim == 2:
        return Image.fromarray(frame, "L").convert("RGB")
    if frame.ndim == 3 and frame.shape[2] == 3:
        return Image.fromarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), "RGB")
    if frame.ndim == 3 and frame.shape[2] == 4:
        return Image.fromarray(cv2.cvtColor(frame, cv2.COLOR_BGRA2RGB), "RGB")
    raise MediaError(f"Video frame has an unexpected shape {frame.shape}")
