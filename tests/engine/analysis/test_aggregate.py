"""Aggregation rules, checked against numbers worked out by hand."""

from __future__ import annotations

import math

import pytest

from engine.analysis.aggregate import (
    RULES,
    AggregationError,
    aggregate,
    aggregate_tracks,
    rule_params,
    verdict_label,
)
from engine.errors import EngineError
from engine.vocab import VerdictLabel

SCORES = [0.1, 0.9, 0.8, 0.2, 0.7, 0.6, 0.65]


def test_mean_and_max():
    # (0.1+0.9+0.8+0.2+0.7+0.6+0.65) = 3.95; / 7 = 0.5642857...
    assert aggregate(SCORES, "mean") == pytest.approx(3.95 / 7)
    assert aggregate(SCORES, "max") == pytest.approx(0.9)


def test_topk_mean():
    # top 3: 0.9, 0.8, 0.7 → 2.4 / 3 = 0.8
    assert aggregate(SCORES, "topk_mean", k=3) == pytest.approx(0.8)
    # top 2: 0.9, 0.8 → 0.85
    assert aggregate(SCORES, "topk_mean", k=2) == pytest.approx(0.85)
    # k larger than the clip: mean of everything
    assert aggregate([0.2, 0.4], "topk_mean", k=5) == pytest.approx(0.3)


def test_fraction_over():
    # at or above 0.6: 0.9, 0.8, 0.7, 0.6, 0.65 → 5 of 7
    assert aggregate(SCORES, "fraction_over", threshold=0.6) == pytest.approx(5 / 7)
    assert aggregate(SCORES, "fraction_over", threshold=0.95) == 0.0


def test_consecutive_over():
    # windows of 3: [.1,.9,.8]→.1 [.9,.8,.2]→.2 [.8,.2,.7]→.2 [.2,.7,.6]→.2 [.7,.6,.65]→.6
    assert aggregate(SCORES, "consecutive_over", k=3) == pytest.approx(0.6)
    # windows of 2: best is [.9,.8] → .8
    assert aggregate(SCORES, "consecutive_over", k=2) == pytest.approx(0.8)
    # shorter than k: the minimum of the whole clip
    assert aggregate([0.9, 0.7], "consecutive_over", k=3) == pytest.approx(0.7)
    # a single spike never makes three in a row
    spike = [0.0, 0.0, 1.0, 0.0, 0.0]
    assert aggregate(spike, "consecutive_over", k=3) == 0.0
    assert aggregate(spike, "max") == 1.0


def test_missing_scores_are_ignored_and_empty_is_none():
    assert aggregate([None, 0.4, float("nan"), 0.8], "mean") == pytest.approx(0.6)
    assert aggregate([], "max") is None
    assert aggregate([None, float("nan")], "mean") is None


def test_unknown_rule_and_bad_params():
    with pytest.raises(AggregationError, match="unknown aggregation rule"):
        aggregate([0.5], "median")
    with pytest.raises(AggregationError, match="k must be"):
        aggregate([0.5], "topk_mean", k=0)
    with pytest.raises(AggregationError, match="no parameter"):
        aggregate([0.5], "mean", k=2)
    with pytest.raises(AggregationError, match="threshold"):
        aggregate([0.5], "fraction_over", threshold=1.5)
    assert issubclass(AggregationError, EngineError)


def test_rule_params_fill_defaults():
    assert rule_params("consecutive_over", {"k": 5}) == {"k": 5, "threshold": 0.5}
    assert rule_params("mean") == {}
    assert set(RULES) == {"mean", "max", "topk_mean", "fraction_over", "consecutive_over"}


def test_aggregate_tracks_takes_most_suspicious_person():
    tracks = {
        0: [0.1, 0.2, 0.3],  # mean 0.2
        1: [0.9, 0.5, 0.7],  # mean 0.7
        2: [None],  # no score at all
    }
    score, worst = aggregate_tracks(tracks, "mean")
    assert worst == 1
    assert score == pytest.approx(0.7)
    score, worst = aggregate_tracks(tracks, "topk_mean", {"k": 1})
    assert (worst, score) == (1, pytest.approx(0.9))
    assert aggregate_tracks({0: [], 1: [None]}, "max") == (None, None)


def test_verdict_label_bands():
    assert verdict_label(0.8, 0.5, 0.1) == VerdictLabel.LIKELY_MANIPULATED
    assert verdict_label(0.6, 0.5, 0.1) == VerdictLabel.LIKELY_MANIPULATED  # exactly threshold + margin
    assert verdict_label(0.55, 0.5, 0.1) == VerdictLabel.INCONCLUSIVE
    assert verdict_label(0.45, 0.5, 0.1) == VerdictLabel.INCONCLUSIVE
    assert verdict_label(0.4, 0.5, 0.1) == VerdictLabel.NO_INDICATION
    assert verdict_label(0.5, 0.5, 0.0) == VerdictLabel.LIKELY_MANIPULATED
    assert verdict_label(0.4999, 0.5, 0.0) == VerdictLabel.NO_INDICATION
    assert verdict_label(None, 0.5, 0.1) == VerdictLabel.NOT_APPLICABLE
    assert verdict_label(math.nan, 0.5) == VerdictLabel.NOT_APPLICABLE
