"""Aggregation rules: how many per-frame scores become one score for a track, a clip or a case.

A rule is a small pure function `rule(scores, **params) -> float` over per-frame
p_manipulated values in frame order, registered by name in `RULES` with its default
parameters. Evidence is scored per face track first and then takes the score of its most
suspicious track ("a clip is as suspicious as its most suspicious person"). Every rule returns
a number in [0, 1] that is compared with the same threshold as a single frame, so a verdict can
always be "score ≥ threshold" whatever rule made it; the rule name and its complete parameters
(defaults filled in) are stored with each verdict so the score can be recomputed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterable, Mapping, Sequence

from engine.errors import EngineError
from engine.vocab import VerdictLabel



class AggregationError(EngineError):
    """An unknown rule or an unusable rule parameter."""


def _mean(scores: Sequence[float]) -> float:
    return math.fsum(scores) / len(scores)


def _max(scores: Sequence[float]) -> float:
    return max(scores)


def _topk_mean(scores: Sequence[float], k: int = 3) -> float:
    """Mean of the k highest scores (all of them when there are fewer than k)."""
    top = sorted(scores, reverse=True)[:k]
    return math.fsum(top) / len(top)


def _fraction_over(scores: Sequence[float], threshold: float = 0.5) -> float:
    """Share of frames scoring at or above `threshold` (0.0 to 1.0)."""
    return sum(1 for s in scores if s >= threshold) / len(scores)


def _consecutive_over(scores: Sequence[float], k: int = 3, threshold: float = 0.5) -> float:
    """Highest score that k consecutive frames all reach: max over windows of the window minimum.

    The result is ≥ t exactly when some run of k consecutive frames all score ≥ t, so a
    verdict threshold reads as "k frames in a row at least this suspicious". `threshold`
    is not used in the number itself; it is kept so the stored parameters say which
    per-frame threshold the examiner had in mind. A clip shorter than k frames must be
    suspicious throughout: its score is its minimum.
    """
    del threshold
    if len(scores) <= k:
        return min(scores)
    return max(min(scores[i : i + k]) for i in range(len(scores) - k + 1))


@dataclass(frozen=True)
class Rule:
    name: str
    function: Callable[..., float]
    defaults: Mapping[str, Any]
    description: str


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule("mean", _mean, {}, "mean of the frame scores"),
        Rule("max", _max, {}, "highest frame score"),
        Rule("topk_mean", _topk_mean, {"k": 3}, "mean of the k highest frame scores"),
        Rule(
            "fraction_over",
            _fraction_over,
            {"threshold": 0.5},
            "share of frames scoring at or above the threshold",
        ),
        Rule(
            "consecutive_over",
            _consecutive_over,
            {"k": 3, "threshold": 0.5},
            "highest score reached by k consecutive frames",
        ),
    )
}


def rule_params(rule: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The complete parameters of `rule` (defaults filled in), checked; what a verdict stores."""
    if rule not in RULES:
        raise AggregationError(f"unknown aggregation rule {rule!r}; known rules: {', '.join(RULES)}")
    spec = RULES[rule]
    given = dict(params or {})
    unknown = set(given) - set(spec.defaults)
    if unknown:
        raise AggregationError(f"aggregation rule {rule!r} takes no parameter {', '.join(sorted(unknown))}")
    full = {**spec.defaults, **given}
    if "k" in full:
        k = full["k"]
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise AggregationError(f"aggregation rule {rule!r}: k must be a whole number ≥ 1, got {k!r}")
    if "threshold" in full:
        t = full["threshold"]
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0.0 <= t <= 1.0:
            raise AggregationError(f"aggregation rule {rule!r}: threshold must be between 0 and 1, got {t!r}")
        full["threshold"] = float(t)
    return full


def _clean(scores: Iterable[float | None]) -> list[float]:
    # Frames without a score (no face, a failed crop) carry None or NaN: they do not count.
    return [float(s) for s in scores if s is not None and not math.isnan(float(s))]


def aggregate(scores: Iterable[float | None], rule: str = "mean", **params: Any) -> float | None:
    """One score from per-frame scores in frame order; None when no frame has a score."""
    full = rule_params(rule, params)
    values = _clean(scores)
    if not values:
        return None
    return float(RULES[rule].function(values, **full))


def aggregate_tracks(
    scores_by_track: Mapping[Hashable, Iterable[float | None]],
    rule: str = "mean",
    params: Mapping[str, Any] | None = None,
) -> tuple[float | None, Hashable | None]:
    """Score each face track with `rule`, then take the most suspicious track.

    Returns (score, worst_track); (None, None) when no track has any score. Ties go to the
    first track in iteration order, so callers pass tracks in a stable order.
    """
    full = rule_params(rule, params)
    best: tuple[float | None, Hashable | None] = (None, None)
    for track, scores in scores_by_track.items():
        score = aggregate(scores, rule, **full)
        if score is not None and (best[0] is None or score > best[0]):
            best = (score, track)
    return best


def verdict_label(score: float | None, threshold: float = 0.5, margin: float = 0.0) -> VerdictLabel:
    """Label for a score: at/above threshold+margin → likely manipulated; at/below
    threshold−margin → no indication; in between → inconclusive; no score → not applicable.

    With margin 0 there is no inconclusive band and a score equal to the threshold counts
    as manipulated, matching the per-frame "score ≥ threshold" convention.
    """
    if score is None or math.isnan(score):
        return VerdictLabel.NOT_APPLICABLE
    if margin < 0:
        raise AggregationError(f"verdict margin must not be negative, got {margin}")
    if score >= threshold + margin:
        return VerdictLabel.LIKELY_MANIPULATED
    if score <= threshold - margin:
        return VerdictLabel.NO_INDICATION
    return VerdictLabel.INCONCLUSIVE
