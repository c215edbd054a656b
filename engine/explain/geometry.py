"""Map a heatmap on the model input back onto the analysed region and the frame.

The model saw the region (a face crop or the whole frame) after its preprocessing: resized to
an exact size (aspect not kept), or shorter side resized then centre-cropped (Hugging Face
floors the crop offset, timm rounds it; both pad when the crop is larger). This module
undoes that geometry: `input_window` gives the rectangle of the region, in region pixels,
that the model input covers, and `heatmap_to_region` resamples a map that covers the model
input uniformly onto the region's own pixels. Region pixels the model never saw (cut off by
the centre crop) are NaN, which the blender leaves uncoloured. Boxes are (x, y, w, h) in
frame pixels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.errors import ModelError
from engine.models.preprocess import PreprocessRecipe, crop_start, shorter_side_size

Box = tuple[int, int, int, int]


def as_box(box: Any) -> Box:
    """(x, y, w, h) from a tuple or anything with x, y, w, h attributes (FaceBox)."""
    if hasattr(box, "w") and hasattr(box, "h"):
        values = (box.x, box.y, box.w, box.h)
    else:
        values = tuple(box)
    if len(values) != 4:
        raise ModelError(f"a box is (x, y, w, h); got {box!r}")
    x, y, w, h = (int(round(float(v))) for v in values)
    if w <= 0 or h <= 0:
        raise ModelError(f"a box needs a positive size; got {w}×{h}")
    return (x, y, w, h)


def input_window(recipe: PreprocessRecipe, region_size: tuple[int, int]) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) in region pixels of the area the model input shows."""
    width, height = region_size
    if width <= 0 or height <= 0:
        raise ModelError(f"a region needs a positive size; got {width}×{height}")
    resized_w, resized_h = width, height
    if recipe.do_resize and recipe.resize_to is not None:
        resized_h, resized_w = recipe.resize_to
    elif recipe.do_resize and recipe.shortest_edge is not None:
        resized_w, resized_h = shorter_side_size(width, height, recipe.shortest_edge)
    if recipe.crop is not None:
        crop_h, crop_w = recipe.crop
        left, top = float(crop_start(resized_w, crop_w, recipe.family)), float(crop_start(resized_h, crop_h, recipe.family))
    else:
        crop_w, crop_h, left, top = resized_w, resized_h, 0.0, 0.0
    sx, sy = width / resized_w, height / resized_h
    return (left * sx, top * sy, (left + crop_w) * sx, (top + crop_h) * sy)


def _axis_weights(pixels: int, start: float, end: float, cells: int, interpolation: str):
    """Per output pixel: two source cells, the weight of the second, and whether it was seen."""
    centres = np.arange(pixels, dtype=np.float64) + 0.5
    relative = (centres - start) / (end - start)
    valid = (relative >= 0.0) & (relative < 1.0)
    if interpolation == "nearest":
        index = np.clip(np.floor(relative * cells), 0, cells - 1).astype(np.intp)
        return index, index, np.zeros(pixels), valid
    position = np.clip(relative * cells - 0.5, 0.0, cells - 1)
    first = np.floor(position).astype(np.intp)
    second = np.minimum(first + 1, cells - 1)
    return first, second, position - first, valid


def heatmap_to_region(grid: np.ndarray, recipe: PreprocessRecipe, region_size: tuple[int, int],
                      interpolation: str = "linear") -> np.ndarray:
    """The map at region resolution (h, w) float32; NaN where the model did not see the region.

    `grid` (rows, cols) covers the model input uniformly (a patch grid or an occlusion map);
    `region_size` is (width, height); interpolation "linear" (cell centres) or "nearest".
    """
    values = np.asarray(grid, dtype=np.float64)
    if values.ndim != 2 or values.size == 0:
        raise ModelError(f"a heatmap is a 2-D grid; got shape {values.shape}")
    if interpolation not in ("linear", "nearest"):
        raise ModelError(f"unknown interpolation {interpolation!r}: linear or nearest")
    width, height = region_size
    x0, y0, x1, y1 = input_window(recipe, region_size)
    ya, yb, fy, valid_y = _axis_weights(height, y0, y1, values.shape[0], interpolation)
    xa, xb, fx, valid_x = _axis_weights(width, x0, x1, values.shape[1], interpolation)
    rows = (1.0 - fy)[:, None] * values[ya] + fy[:, None] * values[yb]
    region = (1.0 - fx)[None, :] * rows[:, xa] + fx[None, :] * rows[:, xb]
    region = region.astype(np.float32)
    region[~valid_y, :] = np.nan
    region[:, ~valid_x] = np.nan
    return region
