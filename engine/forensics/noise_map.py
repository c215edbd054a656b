"""Noise residual and local noise level of a picture.

The residual is the picture filtered with Immerkær's kernel (the difference of two
Laplacians, "Fast noise variance estimation", 1996), which cancels smooth content and keeps
sensor noise. The local level is Immerkær's estimate σ = √(π/2) / 6 · mean |residual|, per
square block. A region from another camera, another ISO, or a generator's or denoiser's
output tends to carry a different level than its surroundings.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

LEVEL_STATEMENT = ("Local noise level (Immerkær's σ per block): a region pasted from another camera or exposure, or "
                   "generated or denoised, often has a level unlike its surroundings. Texture and edges read as noise "
                   "and flat or saturated areas as clean, and recompression, resizing or added grain even levels out; "
                   "a difference is a place to look, not a finding.")
RESIDUAL_STATEMENT = ("Noise residual (the picture less its smooth content): shows structure the eye misses, such as "
                      "a pasted region's different grain, resampling patterns or repeated texture. Edges and texture "
                      "always show; it proves nothing on its own.")
_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
_SIGMA = math.sqrt(math.pi / 2) / 6


def grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)


def residual(rgb: np.ndarray) -> np.ndarray:
    """(H, W) float32 |residual| (the border rows and columns are reflected)."""
    return np.abs(cv2.filter2D(grey(rgb), cv2.CV_32F, _KERNEL, borderType=cv2.BORDER_REFLECT))


def block_levels(rgb: np.ndarray, block: int) -> np.ndarray:
    """(H // block, W // block) float32 σ estimates (grey levels) of whole blocks."""
    magnitude = residual(rgb)
    rows, cols = magnitude.shape[0] // block, magnitude.shape[1] // block
    if rows == 0 or cols == 0:
        return np.zeros((max(rows, 1), max(cols, 1)), dtype=np.float32)
    cropped = magnitude[: rows * block, : cols * block]
    # INTER_AREA at an integer factor is the block mean, in one vectorised pass.
    means = cv2.resize(cropped, (cols, rows), interpolation=cv2.INTER_AREA)
    return (means * _SIGMA).astype(np.float32)


def _to_picture(small: np.ndarray, shape: tuple[int, int], block: int) -> np.ndarray:
    """Block values spread back over the picture's pixels (the ragged edge repeats the last block)."""
    rows, cols = small.shape
    full = cv2.resize(small, (cols * block, rows * block), interpolation=cv2.INTER_NEAREST)
    pad_y, pad_x = shape[0] - full.shape[0], shape[1] - full.shape[1]
    if pad_y > 0 or pad_x > 0:
        full = cv2.copyMakeBorder(full, 0, max(0, pad_y), 0, max(0, pad_x), cv2.BORDER_REPLICATE)
    return full[: shape[0], : shape[1]]


def noise_level_map(rgb: np.ndarray, block: int) -> tuple[np.ndarray, dict[str, float]]:
    levels = block_levels(rgb, block)
    top = max(float(np.percentile(levels, 99.0)), 1e-3)
    values = np.minimum(levels / top, 1.0).astype(np.float32)
    figures = {"ceiling_sigma": top, "median_sigma": float(np.median(levels)),
               "p05_sigma": float(np.percentile(levels, 5)), "p95_sigma": float(np.percentile(levels, 95))}
    return _to_picture(values, rgb.shape[:2], block), figures


def residual_map(rgb: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
    magnitude = residual(rgb)
    sample = magnitude[::4, ::4]
    top = max(float(np.percentile(sample, 99.5)), 1e-3)
    values = magnitude * np.float32(1.0 / top)
    np.minimum(values, 1.0, out=values)
    return values, {"ceiling": top, "mean": float(cv2.mean(magnitude)[0])}
