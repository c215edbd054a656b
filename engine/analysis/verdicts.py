"""Stored frame results → verdicts per evidence item, per model and for the ensemble.

Verdicts are always computed from what the case holds (not from memory), so a resumed run
reaches exactly the verdict an uninterrupted one would. Per model: frame scores are grouped
by face track (whole frames form their own track), each track is aggregated with the run's
rule, and the item takes its most suspicious track. The ensemble first averages the
authenticity models' p(manipulated) per region (weights configurable), then aggregates the
same way. Models that judge something else (deepfake quality graders) get "not applicable"
and never enter the ensemble.

A face track of a clip seen in fewer than `min_track_frames` sampled frames is weak: a
detector's passing mistake (a sleeve taken for a face in a frame or two) must not decide an
item, so a weak track is the worst track only when no other track has a score, and the
verdict then says that it rests on weak tracks alone. A still image is one frame, so its
faces are never weak by this rule (its rows carry no timestamp, clips' rows always do);
detections under the detector's confidence floor never become regions at all (facebox.py).
Everything the rule reads is in the stored rows and the run's settings, so `verify` judges
it again the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Iterable, Mapping, Protocol, Sequence

from engine.analysis.aggregate import RULES, aggregate_tracks, rule_params, verdict_label
from engine.analysis.ensemble import ScoredRegion, ensemble_regions, usable
from engine.errors import SettingsError
from engine.vocab import ENSEMBLE, Judges, VerdictLabel

DEFAULT_MIN_TRACK_FRAMES = 3
# Runs recorded before the rule existed judged every track alike: read back, they still do.
LEGACY_MIN_TRACK_FRAMES = 1

@dataclass(frozen=True)
class VerdictSettings:
    rule: str = "topk_mean"
    params: Mapping[str, Any] = field(default_factory=dict)
    threshold: float = 0.5
    margin: float = 0.1
    weights: Mapping[str, float] = field(default_factory=dict)  # model name → ensemble weight (default 1)
    min_track_frames: int = DEFAULT_MIN_TRACK_FRAMES  # sampled frames a clip's face track needs to decide alone

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "params": rule_params(self.rule, self.params), "threshold": self.threshold,
                "margin": self.margin, "weights": dict(self.weights), "min_track_frames": self.min_track_frames}

    @classmethod
    def from_dict(cls, data: Any) -> "VerdictSettings":
        """Settings as a run recorded them. A case may have been edited, so every shape is
        checked: SettingsError (one line) for anything this program never records."""
        if not isinstance(data, Mapping):
            raise SettingsError(f"the recorded verdict settings are not an object: {str(data)[:60]!r}")
        rule = data.get("rule", "topk_mean")
        if not isinstance(rule, str) or rule not in RULES:
            raise SettingsError(f"the recorded verdict rule {str(rule)[:60]!r} is not a known rule ({', '.join(RULES)})")
        parts = {key: data.get(key, {}) for key in ("params", "weights")}
        for key, value in parts.items():
            if not isinstance(value, Mapping) or not all(isinstance(name, str) for name in value):
                raise SettingsError(f"the recorded verdict {key} are not an object of names: {str(value)[:60]!r}")
        numbers = {key: data.get(key, default) for key, default in (("threshold", 0.5), ("margin", 0.1))}
        for key, value in numbers.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise SettingsError(f"the recorded verdict {key} is not a number: {str(value)[:60]!r}")
        frames = data.get("min_track_frames", LEGACY_MIN_TRACK_FRAMES)
        if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
            raise SettingsError("the recorded frames a face track needs are not a whole number ≥ 1: "
                                f"{str(frames)[:60]!r}")
        return cls(rule=rule, params=dict(parts["params"]), threshold=float(numbers["threshold"]),
                   margin=float(numbers["margin"]), weights=dict(parts["weights"]), min_track_frames=frames)


@dataclass(frozen=True)
class VerdictRecord:
    model: str
    score: float | None
    label: str
    details: dict[str, Any]


def track_key(track_id: int | None) -> str:
    """How verdict details and reports name a track."""
    return "whole frame" if track_id is None else f"face track {track_id}"


class StoredResult(ScoredRegion, Protocol):
    @property
    def probabilities(self) -> Mapping[str, float]: ...


def _model_verdict(name: str, rows: Sequence[StoredResult], judges: str,
                   settings: VerdictSettings, context: Mapping[str, Any]) -> VerdictRecord:
    details: dict[str, Any] = {"regions": len(rows), **context}
    if judges != Judges.AUTHENTICITY:
        sums: dict[str, float] = {}
        for row in rows:
            for label, value in row.probabilities.items():
                sums[label] = sums.get(label, 0.0) + value
        details["judges"] = judges
        details["mean_probabilities"] = {label: total / len(rows) for label, total in sums.items()} if rows else {}
        details["reason"] = "this model does not judge authenticity; it is shown, never part of a verdict"
        return VerdictRecord(name, None, VerdictLabel.NOT_APPLICABLE, details)
    score, decision = _decide(_tracks(sorted(rows, key=lambda r: r.frame_index or 0), lambda r: r.p_manipulated),
                              settings)
    details.update(decision)
    if score is None:
        details["reason"] = context.get("empty_reason", "nothing was scored")
    return VerdictRecord(name, score, verdict_label(score, settings.threshold, settings.margin), details)


@dataclass
class _Track:
    scores: list[float | None] = field(default_factory=list)
    frames: set[int | None] = field(default_factory=set)
    weak_kind: bool = False  # a face track of a clip: weak when seen in too few frames


def _tracks(regions: Iterable[Any], score_of: Callable[[Any], float | None]) -> dict[Hashable, _Track]:
    """Regions (stored rows or ensemble regions) grouped by track, in the order given."""
    tracks: dict[Hashable, _Track] = {}
    for region in regions:
        track = tracks.setdefault(track_key(region.track_id), _Track())
        track.scores.append(score_of(region))
        track.frames.add(region.frame_index)
        track.weak_kind = track.weak_kind or (region.track_id is not None and region.timestamp is not None)
    return tracks


def _decide(tracks: Mapping[Hashable, _Track], settings: VerdictSettings) -> tuple[float | None, dict[str, Any]]:
    """The item's score from its most suspicious track that may decide, and the details saying so."""
    weak = [key for key, track in tracks.items() if track.weak_kind and len(track.frames) < settings.min_track_frames]
    strong = {key: track.scores for key, track in tracks.items() if key not in weak}
    score, worst = aggregate_tracks(strong, settings.rule, settings.params)
    details: dict[str, Any] = {"tracks": {str(key): len(track.scores) for key, track in tracks.items()},
                               "min_track_frames": settings.min_track_frames}
    if weak:
        details["weak_tracks"] = [str(key) for key in weak]
    if score is None and weak:
        score, worst = aggregate_tracks({key: tracks[key].scores for key in weak}, settings.rule, settings.params)
        if score is not None:
            details["rests_on_weak_tracks"] = True
            details["caution"] = (f"only face tracks seen in fewer than {settings.min_track_frames} sampled frames "
                                  "were scored; this verdict rests on them alone")
    details["worst_track"] = worst
    if worst is not None:
        details["worst_track_detections"] = sum(1 for value in tracks[worst].scores if usable(value))
    return score, details


def compute_verdicts(rows: Sequence[StoredResult], judges_by_model: Mapping[str, str],
                     settings: VerdictSettings, context: Mapping[str, Any] | None = None) -> list[VerdictRecord]:
    """Verdicts of one evidence item from its stored results (all models of one run)."""
    context = dict(context or {})
    by_model: dict[str, list[StoredResult]] = {name: [] for name in judges_by_model}
    for row in rows:
        by_model.setdefault(row.model, []).append(row)
    verdicts = [_model_verdict(name, by_model[name], judges_by_model.get(name, Judges.AUTHENTICITY), settings, context)
                for name in judges_by_model]
    authenticity = [name for name, judges in judges_by_model.items() if judges == Judges.AUTHENTICITY]
    if not authenticity:
        return verdicts
    score, decision = _decide(_tracks(ensemble_regions(rows, authenticity, settings.weights), lambda r: r.score),
                              settings)
    details = {
        "models": authenticity,
        "weights": {name: float(settings.weights.get(name, 1.0)) for name in authenticity},
        "combination": "weighted mean of p_manipulated per region, then the rule per track, then the worst track",
        **decision,
        **context,
    }
    missing = [name for name in authenticity if not by_model[name]]
    if missing:
        details["models_without_results"] = missing
    if score is None:
        details["reason"] = context.get("empty_reason", "nothing was scored")
    verdicts.append(VerdictRecord(ENSEMBLE, score, verdict_label(score, settings.threshold, settings.margin), details))
    return verdicts


def verdict_note(details: Mapping[str, Any]) -> str | None:
    """What a verdict rests on, in one line: why there is no score, or the track that decided
    it and how many detections that track had, with the caution of a verdict resting on face
    tracks seen in too few frames to decide alone."""
    if details.get("reason"):
        return str(details["reason"])
    worst = details.get("worst_track")
    if not worst:
        return None
    count = details.get("worst_track_detections")
    unit = "detection(s)" if str(worst).startswith("face") else "frame(s) scored"  # the whole frame is no detection
    note = f"most suspicious: {worst}" + (f" ({count} {unit})" if isinstance(count, int) else "")
    caution = details.get("caution")
    return f"{note}; caution: {caution}" if isinstance(caution, str) and caution else note
