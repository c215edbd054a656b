"""Colour maps, blending, and the stored Overlay payload."""

from __future__ import annotations

import numpy as np
import pytest

from engine.case import CaseStore
from engine.errors import ModelError
from engine.explain.colormap import blend_overlay, colorize, colorize_rgba, colour_table
from engine.explain.overlay import CAVEAT, Overlay
from engine.util.hashing import sha256_bytes
from engine.models.preprocess import recipe_from_timm

RECIPE = recipe_from_timm({"input_size": [3, 96, 96], "crop_pct": 0.875})


def _overlay(**changes) -> Overlay:
    grid = np.linspace(0, 1, 36, dtype=np.float32).reshape(6, 6)
    values = dict(method="attention-rollout", model="timm_vit", model_sha256="ab" * 32, grid=grid,
                  box=(10, 20, 200, 100), recipe=RECIPE, frame_size=(320, 240), params={"discard_ratio": 0.5})
    values.update(changes)
    return Overlay(**values)


def test_colorize_shapes_dtype_and_nan():
    values = np.array([[0.0, 1.0], [np.nan, 0.5]], dtype=np.float32)
    rgb = colorize(values)
    assert rgb.shape == (2, 2, 3) and rgb.dtype == np.uint8
    assert np.array_equal(rgb[0, 0], colour_table()[0]) and np.array_equal(rgb[0, 1], colour_table()[255])
    assert np.array_equal(rgb[1, 0], [0, 0, 0])
    # Inferno runs from near-black to a light yellow.
    assert colour_table()[0].sum() < 20 and colour_table()[255].sum() > 600
    rgba = colorize_rgba(values)
    assert rgba.shape == (2, 2, 4) and rgba[1, 0, 3] == 0 and rgba[0, 0, 3] == 255


def test_blend_changes_only_the_seen_part_of_the_box():
    frame = np.full((240, 320, 3), 100, dtype=np.uint8)
    region = np.ones((100, 200), dtype=np.float32)
    region[:, :50] = np.nan
    out = blend_overlay(frame, region, (10, 20, 200, 100), alpha=0.5)
    assert out.shape == frame.shape and out.dtype == np.uint8
    assert np.array_equal(frame, np.full((240, 320, 3), 100, dtype=np.uint8))  # input untouched
    expected = np.rint(0.5 * 100 + 0.5 * colour_table()[255].astype(np.float32)).astype(np.uint8)
    assert np.array_equal(out[50, 100], expected)
    assert np.array_equal(out[50, 30], [100, 100, 100])  # NaN part
    assert np.array_equal(out[5, 5], [100, 100, 100]) and np.array_equal(out[130, 250], [100, 100, 100])
    assert np.array_equal(blend_overlay(frame, region, (10, 20, 200, 100), alpha=0.0), frame)
    # A box hanging over the frame edge, and a map at another resolution, are fitted and clipped.
    clipped = blend_overlay(frame, np.ones((10, 10), dtype=np.float32), (300, 230, 50, 50))
    assert not np.array_equal(clipped[235, 310], frame[235, 310])
    with pytest.raises(ModelError):
        blend_overlay(frame.astype(np.float32), region, (0, 0, 200, 100))


def test_overlay_payload_is_deterministic_and_round_trips():
    first, second = _overlay(), _overlay()
    assert first.to_npz_bytes() == second.to_npz_bytes()
    assert first.sha256 == sha256_bytes(first.payload) == second.sha256
    assert _overlay(params={"discard_ratio": 0.0}).sha256 != first.sha256
    back = Overlay.from_npz_bytes(first.payload)
    assert np.array_equal(back.grid, first.grid) and back.box == first.box and back.recipe == RECIPE
    assert back.meta() == first.meta() and back.sha256 == first.sha256
    assert first.meta()["caveat"] == CAVEAT == "Shows where the model looked, not proof of manipulation."
    assert first.meta()["model_sha256"] == "ab" * 32 and first.meta()["method"] == "attention-rollout"
    with pytest.raises(ModelError):
        Overlay.from_npz_bytes(b"garbage")
    with pytest.raises(ModelError):
        _overlay(method="saliency")


def test_overlay_renders_region_map_rgba_and_blend():
    overlay = _overlay()
    region = overlay.region_map()
    assert region.shape == (100, 200)
    assert np.isnan(region[:, 0]).all() and np.isfinite(region[50, 100])
    rgba = overlay.region_rgba()
    assert rgba.shape == (100, 200, 4) and rgba.dtype == np.uint8
    assert rgba[50, 0, 3] == 0 and rgba[50, 100, 3] == 255  # transparent where the model did not see
    frame = np.zeros((240, 320, 3), dtype=np.uint8)
    assert overlay.blend(frame)[70, 110].any() and not overlay.blend(frame)[0, 0].any()


def test_overlay_goes_into_a_case(tmp_path):
    evidence = tmp_path / "frame.png"
    evidence.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    store = CaseStore.create(str(tmp_path / "c.dfwcase"), "Case", "Examiner")
    try:
        item = store.add_evidence(evidence)
        run_id = store.start_run([{"name": "timm_vit"}], {}, "CPU", [item.id])
        overlay = _overlay()
        digest = store.add_overlay(run_id, item.id, 0, **overlay.case_fields())
        assert digest == overlay.sha256
        listed = store.overlays(run_id)[0]
        assert listed.method == "attention-rollout" and listed.meta["caveat"] == CAVEAT
        assert Overlay.from_npz_bytes(store.get_overlay(listed.id)).sha256 == digest
    finally:
        store.close()


def test_a_scaled_down_rgba_matches_the_full_one_where_it_is_smooth():
    overlay = _overlay()
    full = overlay.region_rgba()
    small = overlay.region_rgba(max_side=50)
    assert small.shape == (25, 50, 4) and full.shape == (100, 200, 4)
    # Every small pixel samples the full map near the same place: colours agree to a few levels.
    sampled = full[2::4, 2::4]
    seen = (small[..., 3] == 255) & (sampled[..., 3] == 255)
    assert seen.mean() > 0.3  # the model saw the middle of the box (a centre crop)
    assert np.abs(small[seen][:, :3].astype(int) - sampled[seen][:, :3].astype(int)).mean() < 12
