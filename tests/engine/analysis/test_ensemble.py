"""The one ensemble function: weighted mean per region, authenticity models only, frame order."""

from __future__ import annotations

import math

import pytest

from engine.analysis.ensemble import ensemble_regions
from engine.case.records import FrameResult


def row(model, frame, track, p, timestamp=None):
    return FrameResult(0, 1, 1, model, frame, timestamp, track, [0, 0, 10, 10], {}, p)


def test_weighted_mean_per_region_in_frame_order():
    rows = [row("a", 1, None, 0.2, 0.5), row("a", 0, None, 0.4, 0.0), row("a", 0, 3, 0.9, 0.0),
            row("b", 1, None, 0.6, 0.5), row("b", 0, None, 0.0, 0.0), row("b", 0, 3, None, 0.0),
            row("q", 0, None, 1.0), row("b", 2, None, math.nan)]
    regions = ensemble_regions(rows, ["a", "b"], {"a": 3.0})
    assert [(r.frame_index, r.track_id) for r in regions] == [(0, None), (0, 3), (1, None)]
    assert regions[0].score == pytest.approx((3 * 0.4 + 0.0) / 4)
    assert regions[1].score == pytest.approx(0.9) and dict(regions[1].scores) == {"a": 0.9}  # b had no score there
    assert regions[2].score == pytest.approx((3 * 0.2 + 0.6) / 4) and regions[2].timestamp == 0.5
    assert all("q" not in r.scores for r in regions)  # not an authenticity model of the run


def test_no_authenticity_rows_no_regions():
    assert ensemble_regions([row("q", 0, None, None)], ["a"]) == []
