"""A double-compression hint from the DCT coefficient histograms of a JPEG's luminance.

A JPEG compressed once has, for each low-frequency DCT mode, a smooth histogram of quantised
values. Compressed first with step q1 and again with a different step q2, the values come
from round(round(x / q1) · q1 / q2): some bins stay empty or fill periodically. Following
Lukáš and Fridrich ("Estimation of primary quantization matrix in double compressed JPEG
images", 2003), the histogram of the unquantised coefficients is estimated from the decoded
picture cropped by 4 pixels (off the 8×8 grid, where the old quantisation is invisible), each
candidate q1 is simulated, and the candidate that fits the observed histogram best wins.
When that candidate is not q2 itself and fits far better than single compression does, the
mode supports double compression.

What it can show: an earlier compression at a different quality, aligned to the same 8×8
grid, in the picture as a whole. What it cannot: a resave at the same quality, an earlier
compression followed by cropping off the grid or resizing, a first quality much higher than
the last (steps q1 < q2 leave little trace), or where in the picture a change was made. It is
a hint about the file's history, never about its content.
"""

from __future__ import annotations

import io

import numpy as np

from engine.forensics.jpeg_markers import ZIGZAG
from engine.forensics.jpeg_tables import quality_from_steps
from engine.forensics.records import DoubleCompression
from engine.forensics.tools import pillow_quiet

MODES = ZIGZAG[1:10]  # the first nine AC modes: enough non-zero values in ordinary photos
MAX_BLOCKS = 60_000
MIN_VALUES = 500  # non-zero quantised values a mode needs before its histogram means anything
BINS = 30
SUPPORT_RATIO = 0.5  # the best candidate fits at least twice as well as single compression

_DCT = np.array([[np.sqrt((1 if k == 0 else 2) / 8) * np.cos((2 * n + 1) * k * np.pi / 16) for n in range(8)]
                 for k in range(8)])
_BASIS = np.stack([np.outer(_DCT[m // 8], _DCT[m % 8]).ravel() for m in MODES]).T.astype(np.float32)


def _blocks(y: np.ndarray, offset: int, stride: int) -> np.ndarray:
    """(N, 64) blocks of every `stride`-th block row on the grid shifted by `offset`, unsaturated."""
    y = y[offset:, offset:]
    rows, cols = y.shape[0] // 8, y.shape[1] // 8
    picked = y[: rows * 8, : cols * 8].reshape(rows, 8, cols, 8)[::stride]
    blocks = picked.transpose(0, 2, 1, 3).reshape(-1, 64)
    # Clipped pixels (0 or 255) break the rounding model the estimate rests on.
    keep = (blocks.min(axis=1) > 0) & (blocks.max(axis=1) < 255)
    return blocks[keep].astype(np.float32) - 128.0


def _histogram(values: np.ndarray) -> np.ndarray:
    counts = np.bincount(np.minimum(np.abs(values), BINS), minlength=BINS + 1).astype(np.float64)
    return counts / max(1.0, counts.sum())


def _mode_estimate(observed: np.ndarray, estimate: np.ndarray, q2: int) -> tuple[int, float] | None:
    """(best q1, its misfit over single compression's) for one mode, or None when too sparse."""
    quantised = np.rint(observed / q2).astype(np.int64)
    if np.count_nonzero(quantised) < MIN_VALUES:
        return None
    seen = _histogram(quantised)
    misfit = {}
    for q1 in range(1, min(64, max(24, 4 * q2)) + 1):
        simulated = np.rint(np.rint(estimate / q1) * q1 / q2).astype(np.int64)
        misfit[q1] = float(((seen - _histogram(simulated)) ** 2).sum())
    single = misfit[q2]
    best = min(misfit, key=lambda q: (misfit[q], q != q2))  # a tie goes to single compression
    return best, (misfit[best] / single if single > 0 else 1.0)


def double_compression_hint(data: bytes, luminance_table: tuple[int, ...] | None) -> DoubleCompression:
    """Judge the luminance histograms of a JPEG held in `data` (its bytes); the caller has
    checked the frame size against the pixel limit before this decodes anything."""
    from PIL import Image  # noqa: PLC0415

    if luminance_table is None:
        return DoubleCompression("not possible", "the file has no usable luminance quantisation table")
    try:
        with pillow_quiet(), Image.open(io.BytesIO(data)) as image:
            if image.format != "JPEG" or image.mode not in ("L", "RGB", "YCbCr"):
                return DoubleCompression("not possible", f"colour model {image.mode} is not judged (only grey and YCbCr)")
            image.draft("L", image.size)  # the decoder's own Y plane, without colour conversion
            y = np.asarray(image.convert("L"), dtype=np.float32)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        return DoubleCompression("not possible", f"the image data cannot be decoded ({str(exc)[:120]})")
    total = (y.shape[0] // 8) * (y.shape[1] // 8)
    if total < 256:
        return DoubleCompression("not possible", "the picture has too few 8×8 blocks to judge")
    stride = max(1, int(np.ceil(total / MAX_BLOCKS)))
    observed = _blocks(y, 0, stride) @ _BASIS
    estimate = _blocks(y, 4, stride) @ _BASIS
    steps: list[tuple[int, int, int]] = []
    tested = 0
    for k, mode in enumerate(MODES):
        q2 = int(luminance_table[mode])
        result = _mode_estimate(observed[:, k], estimate[:, k], q2) if len(estimate) else None
        if result is None:
            continue
        tested += 1
        q1, ratio = result
        if q1 != q2 and ratio < SUPPORT_RATIO:
            steps.append((ZIGZAG.index(mode), q2, q1))
    return _verdict(tested, steps)


def _verdict(tested: int, steps: list[tuple[int, int, int]]) -> DoubleCompression:
    if tested < 3:
        return DoubleCompression("not possible", "too few low-frequency coefficients are non-zero to judge "
                                 "(a flat or very strongly compressed picture)", tested)
    supporting = len(steps)
    if supporting >= max(3, (tested + 1) // 2):
        primary = quality_from_steps({ZIGZAG[mode]: q1 for mode, _q2, q1 in steps})
        return DoubleCompression(
            "hint", f"{supporting} of {tested} DCT modes show the periodic histogram artefacts of an earlier "
            f"compression with other steps (about libjpeg quality {primary}); it does not say where or why",
            tested, supporting, tuple(steps), primary)
    return DoubleCompression(
        "no hint", f"{supporting} of {tested} DCT modes show artefacts of an earlier compression: no hint; this "
        "does not rule out a resave at the same quality, or one followed by cropping or resizing",
        tested, supporting, tuple(steps))
