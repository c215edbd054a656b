"""Colour maps and alpha-blended overlays as plain uint8 RGB arrays (the viewer only draws them).

The colour map is OpenCV's perceptual "inferno" read once into a 256-entry RGB table, so
colouring is a table lookup. NaN marks pixels with no value (outside what the model saw):
they stay black in `colorize`, transparent in `colorize_rgba`, and untouched by the blender.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from engine.errors import ModelError
from engine.explain.geometry import as_box

DEFAULT_ALPHA = 0.45


@lru_cache(maxsize=4)
def colour_table(name: str = "inferno") -> np.ndarray:
    """(256, 3) uint8 RGB table of an OpenCV colour map."""
    import cv2

    codes = {"inferno": cv2.COLORMAP_INFERNO, "jet": cv2.COLORMAP_JET, "viridis": cv2.COLORMAP_VIRIDIS}
    if name not in codes:
        raise ModelError(f"unknown colour map {name!r}: {', '.join(codes)}")
    ramp = np.arange(256, dtype=np.uint8).reshape(256, 1)
    table = cv2.applyColorMap(ramp, codes[name]).reshape(256, 3)[:, ::-1]  # BGR → RGB
    table = np.ascontiguousarray(table)
    table.setflags(write=False)
    return table


def _levels(map01: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(map01, dtype=np.float32)
    if values.ndim != 2:
        raise ModelError(f"a heatmap is a 2-D array; got shape {values.shape}")
    seen = np.isfinite(values)
    levels = np.rint(np.clip(np.where(seen, values, 0.0), 0.0, 1.0) * 255.0).astype(np.uint8)
    return levels, seen


def colorize(map01: np.ndarray, name: str = "inferno") -> np.ndarray:
    """(H, W) values in [0, 1] → (H, W, 3) uint8 RGB; NaN pixels are black."""
    levels, seen = _levels(map01)
    rgb = colour_table(name)[levels]
    rgb[~seen] = 0
    return rgb


def colorize_rgba(map01: np.ndarray, name: str = "inferno") -> np.ndarray:
    """(H, W, 4) uint8 RGBA; NaN pixels fully transparent."""
    levels, seen = _levels(map01)
    rgba = np.empty((*levels.shape, 4), dtype=np.uint8)
    rgba[..., :3] = colour_table(name)[levels]
    rgba[..., 3] = np.where(seen, 255, 0)
    return rgba


def _fit(region_map: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a map (with NaN holes) to (w, h): values bilinear, holes nearest."""
    import cv2

    w, h = size
    if region_map.shape == (h, w):
        return region_map
    seen = np.isfinite(region_map)
    values = cv2.resize(np.where(seen, region_map, 0.0).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    mask = cv2.resize(seen.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
    return np.where(mask, values, np.nan).astype(np.float32)


def blend_overlay(frame_rgb: np.ndarray, region_map: np.ndarray, box: Any, alpha: float = DEFAULT_ALPHA,
                  name: str = "inferno") -> np.ndarray:
    """A new uint8 RGB frame with the coloured map blended inside `box` (x, y, w, h).

    `region_map` is the map at region resolution (resized to the box when it is not); parts of
    the box outside the frame are cut off; NaN pixels keep the frame's colour.
    """
    frame = np.asarray(frame_rgb)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ModelError(f"a frame is (H, W, 3) uint8 RGB; got {frame.shape} {frame.dtype}")
    if not 0.0 <= alpha <= 1.0:
        raise ModelError(f"alpha must be in [0, 1]; got {alpha}")
    x, y, w, h = as_box(box)
    fitted = _fit(np.asarray(region_map, dtype=np.float32), (w, h))
    out = frame.copy()
    frame_h, frame_w = frame.shape[:2]
    fx0, fy0, fx1, fy1 = max(x, 0), max(y, 0), min(x + w, frame_w), min(y + h, frame_h)
    if fx0 >= fx1 or fy0 >= fy1:
        return out
    part = fitted[fy0 - y:fy1 - y, fx0 - x:fx1 - x]
    levels, seen = _levels(part)
    colour = colour_table(name)[levels].astype(np.float32)
    under = out[fy0:fy1, fx0:fx1].astype(np.float32)
    mixed = np.rint((1.0 - alpha) * under + alpha * colour).astype(np.uint8)
    out[fy0:fy1, fx0:fx1] = np.where(seen[..., None], mixed, out[fy0:fy1, fx0:fx1])
    return out
