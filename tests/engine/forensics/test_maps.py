"""Forensic maps on pictures whose answer is known: a pasted region, an upsampled picture, a
spliced region with other noise."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import SettingsError
from engine.forensics.maps import (
    KINDS,
    PARAMETERS,
    MapCache,
    checked_params,
    forensic_map,
)
from engine.forensics.service import SHARED_CACHE, map_of_evidence
from tests.engine.forensics.scenes import decoded, jpeg_bytes, texture

# The region every test plants, on the 8×8 grid; "inside" and "outside" keep one block clear of its edge.
TOP, LEFT, BOTTOM, RIGHT = 128, 192, 320, 384


def _inside_outside(values: np.ndarray, margin: int = 8) -> tuple[np.ndarray, np.ndarray]:
    inside = values[TOP + margin: BOTTOM - margin, LEFT + margin: RIGHT - margin]
    mask = np.ones(values.shape, bool)
    mask[TOP - margin: BOTTOM + margin, LEFT - margin: RIGHT + margin] = False
    return inside, values[mask]


def test_ela_shows_a_region_pasted_from_a_jpeg_of_another_quality():
    background = decoded(jpeg_bytes(texture(512, 512, 1), 70))
    pasted = decoded(jpeg_bytes(texture(512, 512, 2), 95))
    composite = background.copy()
    composite[TOP:BOTTOM, LEFT:RIGHT] = pasted[TOP:BOTTOM, LEFT:RIGHT]
    evidence = decoded(jpeg_bytes(composite, 95))  # the forgery, saved once more as a whole
    made = forensic_map(evidence, "ela", quality=75)
    inside, outside = _inside_outside(made.values)
    assert inside.mean() >= 2.0 * outside.mean(), (inside.mean(), outside.mean())
    assert made.params == {"quality": 75, "ceiling": 0.0} and made.aligned
    assert "quality 75" in made.legend and "cannot" in made.statement
    untouched = forensic_map(decoded(jpeg_bytes(background, 95)), "ela", quality=75)
    inside, outside = _inside_outside(untouched.values)
    assert 0.7 <= inside.mean() / outside.mean() <= 1.4  # no region stands out in the unedited picture


def test_the_spectrum_finds_the_peak_of_a_2x_nearest_neighbour_upsampling():
    small = texture(384, 384, 4)
    upsampled = np.repeat(np.repeat(small, 2, axis=0), 2, axis=1)
    made = forensic_map(upsampled, "spectrum")
    assert made.peaks and not made.aligned and made.values.shape == (256, 256)
    best = made.peaks[0]
    assert abs(abs(best.fx) - 0.5) < 0.01 and abs(best.fy) < 0.01 or abs(abs(best.fy) - 0.5) < 0.01 and abs(best.fx) < 0.01
    assert best.ratio >= 100 and "period 2 pixels" in best.note
    assert made.figures["peak_score"] >= 100
    camera_like = forensic_map(texture(768, 768, 5), "spectrum")
    assert camera_like.figures["peak_score"] == 0.0 and not camera_like.peaks


def test_the_spectrum_names_the_jpeg_grid_as_such():
    made = forensic_map(decoded(jpeg_bytes(texture(768, 768, 6), 60)), "spectrum")
    assert made.peaks and all(p.note.startswith("on the 8×8 JPEG grid") for p in made.peaks)
    assert made.figures["peak_score"] == 0.0  # explained by the grid, not scored as upsampling


def test_the_noise_map_separates_a_region_with_another_noise_level():
    rng = np.random.default_rng(9)
    scene = texture(512, 512, 3, grain=0.0).astype(np.float32)
    quiet = np.clip(scene + rng.standard_normal(scene.shape) * 2, 0, 255).astype(np.uint8)
    noisy = np.clip(scene + rng.standard_normal(scene.shape) * 6, 0, 255).astype(np.uint8)
    spliced = quiet.copy()
    spliced[TOP:BOTTOM, LEFT:RIGHT] = noisy[TOP:BOTTOM, LEFT:RIGHT]
    made = forensic_map(spliced, "noise", block=16)
    inside, outside = _inside_outside(made.values, margin=16)
    assert made.values.shape == spliced.shape[:2]
    assert inside.min() > outside.max()  # every block inside above every block outside
    assert inside.mean() >= 2.0 * outside.mean()


def test_every_kind_returns_a_displayable_map():
    picture = texture(300, 260, 8)
    for kind in KINDS:
        made = forensic_map(picture, kind)
        assert made.values.dtype == np.float32 and 0.0 <= made.values.min() and made.values.max() <= 1.0
        assert made.rgb.dtype == np.uint8 and made.rgb.shape == (*made.values.shape, 3)
        assert made.aligned == (made.values.shape == picture.shape[:2])
        assert made.legend and made.statement and set(made.params) == set(PARAMETERS[kind])
        assert not made.values.flags.writeable and not made.rgb.flags.writeable
        assert made.png_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("kind, params, words", [
    ("ela", {"quality": 0}, "between 1 and 100"), ("ela", {"quality": 90.5}, "whole number"),
    ("ela", {"blur": 3}, "takes no parameter blur"), ("noise", {"block": 2}, "between 4"),
    ("spectrum", {"source": "phase"}, "one of gradient, image"), ("sobel", {}, "unknown map kind"),
    ("ela", {"quality": True}, "whole number")])
def test_wrong_parameters_are_one_line_settings_errors(kind, params, words):
    with pytest.raises(SettingsError, match=words):
        checked_params(kind, params)


def test_a_picture_smaller_than_a_tile_is_a_settings_error():
    with pytest.raises(SettingsError, match="smaller tile"):
        forensic_map(texture(64, 64, 1), "spectrum", tile=256)


def test_the_cache_is_keyed_by_hash_frame_kind_and_parameters():
    picture = texture(128, 128, 2)
    calls = []

    def source() -> np.ndarray:
        calls.append(1)
        return picture

    first = map_of_evidence(source, "a" * 64, 0, "ela", quality=80)
    assert map_of_evidence(source, "a" * 64, 0, "ela", quality=80) is first and len(calls) == 1
    assert map_of_evidence(source, "a" * 64, 0, "ela") is not first  # other parameters
    assert map_of_evidence(source, "b" * 64, 0, "ela", quality=80) is not first  # other evidence
    assert len(calls) == 3 and len(SHARED_CACHE) >= 3


def test_the_cache_keeps_to_its_byte_budget():
    picture = texture(128, 128, 3)
    one = forensic_map(picture, "ela")
    cache = MapCache(budget_bytes=3 * (one.values.nbytes + one.rgb.nbytes))
    for n in range(6):
        cache.put(MapCache.key(str(n), 0, "ela", one.params), one)
    assert len(cache) == 3 and cache.get(MapCache.key("0", 0, "ela", one.params)) is None
    assert cache.get(MapCache.key("5", 0, "ela", one.params)) is one
