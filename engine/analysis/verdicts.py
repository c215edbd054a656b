"""Stored frame results → verdicts per evidence item, per model and for the ensemble.

Verdicts are always computed from what the case holds (not from memory), so a resumed run
reaches exactly the verdict an uninterrupted one would. Per model: frame scores are grouped
by face track (whole frames form their own track), each track is aggregated with the run's
rule, and the item takes its most suspicious track. The ensemble first averages the
authenticity models' p(manipulated) per region (weights configurable), then aggregates the
same way. Models that judge something else (deepfake quality graders) get "not applicable"
and never enter the ensemble.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from engine.analysis.aggregate import NOT_APPLICABLE, aggregate_tracks, rule_params, verdict_label
from engine.case.records import ENSEMBLE


@dataclass(frozen=True)
class VerdictSettings:
    rule: str = "topk_mean"
    params: Mapping[str, Any] = field(default_factory=dict)
    threshold: float = 0.5
    margin: float = 0.1
    weights: Mapping[str, float] = field(default_factory=dict)  # model name → ensemble weight (default 1)

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "params": rule_params(self.rule, self.params), "threshold": self.threshold,
                "margin": self.margin, "weights": dict(self.weights)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "VerdictSettings":
        return cls(rule=data.get("rule", "topk_mean"), params=dict(data.get("params", {})),
                   threshold=float(data.get("threshold", 0.5)), margin=float(data.get("margin", 0.1)),
                   weights=dict(data.get("weights", {})))


@dataclass(frozen=True)
class VerdictRecord:
    model: str
    score: float | None
    label: str
    details: dict[str, Any]


def _track_key(row: Mapping[str, Any]) -> str:
    return "whole frame" if row.get("track_id") is None else f"face track {row['track_id']}"


def _model_verdict(name: str, rows: Sequence[Mapping[str, Any]], judges: str,
                   settings: VerdictSettings, context: Mapping[str, Any]) -> VerdictRecord:
    details: dict[str, Any] = {"regions": len(rows), **context}
    if judges != "authenticity":
        sums: dict[str, float] = {}
        for row in rows:
            for label, value in row["probabilities"].items():
                sums[label] = sums.get(label, 0.0) + value
        details["judges"] = judges
        details["mean_probabilities"] = {label: total / len(rows) for label, total in sums.items()} if rows else {}
        details["reason"] = "this model does not judge authenticity; it is shown, never part of a verdict"
        return VerdictRecord(name, None, NOT_APPLICABLE, details)
    tracks: dict[str, list[float]] = {}
    for row in sorted(rows, key=lambda r: (r.get("frame_index") or 0)):
        tracks.setdefault(_track_key(row), []).append(row["p_manipulated"])
    score, worst = aggregate_tracks(tracks, settings.rule, settings.params)
    details["tracks"] = {key: len(values) for key, values in tracks.items()}
    details["worst_track"] = worst
    if score is None:
        details["reason"] = context.get("empty_reason", "nothing was scored")
    return VerdictRecord(name, score, verdict_label(score, settings.threshold, settings.margin), details)


def compute_verdicts(rows: Sequence[Mapping[str, Any]], judges_by_model: Mapping[str, str],
                     settings: VerdictSettings, context: Mapping[str, Any] | None = None) -> list[VerdictRecord]:
    """Verdicts of one evidence item from its stored result rows (all models of one run)."""
    context = dict(context or {})
    by_model: dict[str, list[Mapping[str, Any]]] = {name: [] for name in judges_by_model}
    for row in rows:
        by_model.setdefault(row["model"], []).append(row)
    verdicts = [_model_verdict(name, by_model[name], judges_by_model.get(name, "authenticity"), settings, context)
                for name in judges_by_model]
    authenticity = [name for name, judges in judges_by_model.items() if judges == "authenticity"]
    if not authenticity:
        return verdicts
    regions: dict[tuple[Any, Any], dict[str, float]] = {}
    for name in authenticity:
        for row in by_model[name]:
            if row["p_manipulated"] is not None and not math.isnan(row["p_manipulated"]):
                regions.setdefault((row.get("frame_index"), row.get("track_id")), {})[name] = row["p_manipulated"]
    tracks: dict[str, list[float]] = {}
    for (frame_index, track_id), scores in sorted(regions.items(), key=lambda item: (item[0][0] or 0)):
        weights = {name: float(settings.weights.get(name, 1.0)) for name in scores}
        total = sum(weights.values())
        if total <= 0:
            continue
        mean = sum(scores[name] * weights[name] for name in scores) / total
        tracks.setdefault(_track_key({"track_id": track_id}), []).append(mean)
    score, worst = aggregate_tracks(tracks, settings.rule, settings.params)
    details = {
        "models": authenticity,
        "weights": {name: float(settings.weights.get(name, 1.0)) for name in authenticity},
        "combination": "weighted mean of p_manipulated per region, then the rule per track, then the worst track",
        "tracks": {key: len(values) for key, values in tracks.items()},
        "worst_track": worst,
        **context,
    }
    missing = [name for name in authenticity if not by_model[name]]
    if missing:
        details["models_without_results"] = missing
    if score is None:
        details["reason"] = context.get("empty_reason", "nothing was scored")
    verdicts.append(VerdictRecord(ENSEMBLE, score, verdict_label(score, settings.threshold, settings.margin), details))
    return verdicts
