"""The ensemble: one score per region from the authenticity models of a run.

A region is one (frame, face track) pair: a face crop, or the whole frame (track None). Its
ensemble score is the weighted mean of the p(manipulated) each authenticity model gave it
(weight 1 unless the run says otherwise); models that judge something else never take part.
Verdicts aggregate these per track, reports rank and chart them, the timeline draws them:
all through `ensemble_regions`, so they cannot disagree on what "the ensemble" scored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Protocol, Sequence

from engine.vocab import Judges


class ScoredRegion(Protocol):
    """What the ensemble reads of a stored frame result (engine.case.records.FrameResult)."""

    @property
    def model(self) -> str: ...
    @property
    def frame_index(self) -> int | None: ...
    @property
    def timestamp(self) -> float | None: ...
    @property
    def track_id(self) -> int | None: ...
    @property
    def box(self) -> list[float] | None: ...
    @property
    def p_manipulated(self) -> float | None: ...


@dataclass(frozen=True)
class EnsembleRegion:
    """One region's ensemble score and the model scores it was made from."""

    frame_index: int | None
    timestamp: float | None
    track_id: int | None
    box: list[float] | None
    scores: Mapping[str, float]  # model → p(manipulated)
    score: float  # weighted mean of `scores`


def authenticity_models(run_models: Iterable[Mapping[str, Any]]) -> list[str]:
    """The models of a run record that judge authenticity: those that enter the ensemble."""
    return [str(m.get("name")) for m in run_models
            if (m.get("meaning") or {}).get("judges", Judges.AUTHENTICITY) == Judges.AUTHENTICITY]


def usable(p: float | None) -> bool:
    """A stored p(manipulated) that counts: present and a number."""
    return p is not None and not math.isnan(p)


def ensemble_regions(rows: Iterable[ScoredRegion], authenticity: Sequence[str],
                     weights: Mapping[str, float] | None = None) -> list[EnsembleRegion]:
    """Ensemble scores of every region some authenticity model scored, in frame order.

    Regions are taken in the order the models' rows first name them (model by model, as
    `authenticity` lists them) and then sorted by frame index, stably; so tracks appear in the
    same order for every caller, which is the order ties between equally suspicious tracks
    are broken in.
    """
    weights = weights or {}
    chosen = list(authenticity)
    by_model: dict[str, list[ScoredRegion]] = {name: [] for name in chosen}
    for row in rows:
        if row.model in by_model and usable(row.p_manipulated):
            by_model[row.model].append(row)
    regions: dict[tuple[int | None, int | None], tuple[ScoredRegion, dict[str, float]]] = {}
    for name in chosen:
        for row in by_model[name]:
            key = (row.frame_index, row.track_id)
            first, scores = regions.setdefault(key, (row, {}))
            scores[name] = float(row.p_manipulated)  # type: ignore[arg-type]
    out = []
    for (frame_index, track_id), (first, scores) in sorted(regions.items(), key=lambda item: item[0][0] or 0):
        weight = {name: float(weights.get(name, 1.0)) for name in scores}
        total = sum(weight.values())
        if total <= 0:
            continue
        mean = sum(scores[name] * weight[name] for name in scores) / total
        out.append(EnsembleRegion(frame_index, first.timestamp, track_id, first.box, dict(scores), mean))
    return out
