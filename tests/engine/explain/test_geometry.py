"""Heatmaps land on the right pixels of the region and the frame, for both kinds of preprocessing."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.explain.geometry import heatmap_to_region, input_window
from engine.models.preprocess import recipe_from_hf, recipe_from_timm, resize_and_crop

EXACT = recipe_from_hf({"size": {"height": 224, "width": 224}, "resample": 2})
TIMM = recipe_from_timm({"input_size": [3, 96, 96], "crop_pct": 0.875, "interpolation": "bilinear"})
HF_CROP = recipe_from_hf({"size": {"shortest_edge": 128}, "do_center_crop": True, "crop_size": 112})


def _hot_cell_for_spot(recipe, region_size, spot, grid):
    """Push a white spot through the real preprocessing and find the grid cell it lands in."""
    w, h = region_size
    image = np.zeros((h, w, 3), dtype=np.uint8)
    x, y = spot
    image[y - 2:y + 3, x - 2:x + 3] = 255
    prepared = np.asarray(resize_and_crop(Image.fromarray(image), recipe)).sum(axis=2).astype(np.float64)
    ys, xs = np.indices(prepared.shape)
    # Centroid of the resampled spot (pixel centres at +0.5), in input pixels.
    v = ((ys + 0.5) * prepared).sum() / prepared.sum()
    u = ((xs + 0.5) * prepared).sum() / prepared.sum()
    rows, cols = grid
    return int(v * rows // prepared.shape[0]), int(u * cols // prepared.shape[1])


@pytest.mark.parametrize("recipe,grid", [(EXACT, (14, 14)), (TIMM, (6, 6)), (HF_CROP, (7, 7))])
@pytest.mark.parametrize("region_size,spot", [((400, 300), (310, 70)), ((200, 100), (120, 55)), ((90, 160), (40, 100))])
def test_single_hot_cell_maps_back_onto_the_spot(recipe, grid, region_size, spot):
    cell = _hot_cell_for_spot(recipe, region_size, spot, grid)
    heat = np.zeros(grid, dtype=np.float32)
    heat[cell] = 1.0
    region = heatmap_to_region(heat, recipe, region_size, interpolation="nearest")
    assert region.shape == (region_size[1], region_size[0]) and region.dtype == np.float32
    assert region[spot[1], spot[0]] == 1.0
    hot_y, hot_x = np.nonzero(region == 1.0)
    # The hot area is one cell wide: the input window divided by the grid.
    x0, y0, x1, y1 = input_window(recipe, region_size)
    assert hot_x.max() - hot_x.min() + 1 <= np.ceil((x1 - x0) / grid[1]) + 1
    assert hot_y.max() - hot_y.min() + 1 <= np.ceil((y1 - y0) / grid[0]) + 1
    # With linear interpolation the peak stays on the same cell.
    smooth = heatmap_to_region(heat, recipe, region_size)
    peak_y, peak_x = np.unravel_index(np.nanargmax(smooth), smooth.shape)
    assert hot_x.min() <= peak_x <= hot_x.max() and hot_y.min() <= peak_y <= hot_y.max()


def test_exact_resize_covers_the_whole_region():
    assert input_window(EXACT, (400, 300)) == (0.0, 0.0, 400.0, 300.0)
    region = heatmap_to_region(np.ones((14, 14)), EXACT, (400, 300))
    assert not np.isnan(region).any()


def test_centre_crop_leaves_the_cut_off_sides_nan():
    # 200×100 → shorter side 109 → 218×109 → crop 96 at left round(61) = 61, top round(6.5) = 6.
    x0, y0, x1, y1 = input_window(TIMM, (200, 100))
    assert (x0, x1) == pytest.approx((61 * 200 / 218, 157 * 200 / 218))
    assert (y0, y1) == pytest.approx((6 * 100 / 109, 102 * 100 / 109))
    region = heatmap_to_region(np.ones((6, 6)), TIMM, (200, 100))
    seen_cols = np.nonzero(~np.isnan(region[50]))[0]
    assert seen_cols.min() == int(np.ceil(x0 - 0.5)) and seen_cols.max() == int(np.ceil(x1 - 0.5)) - 1
    assert np.isnan(region[:, :50]).all() and np.isnan(region[:, 150:]).all()
    assert np.isnan(region[0]).all() and not np.isnan(region[10, 100])
