"""How the models of a run agree on one item: frames each puts over the threshold, and how
their frame scores move together. Shown beside the verdicts so an analyst sees at once when
detectors disagree, and why the ensemble can sit below every single model."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations
from typing import Mapping

from engine.analysis.timeline import Timeline

WHY_LOWER = ("The ensemble averages the models per region (each face, and the whole frame) before the rule, "
             "then takes the most suspicious track: where the models find different regions most suspicious, "
             "it can sit below every single model.")


@dataclass(frozen=True)
class ModelAgreement:
    models: tuple[str, ...]  # the authenticity models of the run
    frames: int  # sampled frames with results
    over_threshold: Mapping[str, int] = field(default_factory=dict)  # model → frames its line reaches the threshold
    correlation: Mapping[tuple[str, str], float | None] = field(default_factory=dict)  # Pearson, frames both scored
    why_lower: str = WHY_LOWER


def pearson(xs: list[float], ys: list[float]) -> float | None:
    """Pearson correlation; None with fewer than three pairs or a constant series."""
    if len(xs) < 3 or len(xs) != len(ys):
        return None
    mx, my = math.fsum(xs) / len(xs), math.fsum(ys) / len(ys)
    sx = math.sqrt(math.fsum((x - mx) ** 2 for x in xs))
    sy = math.sqrt(math.fsum((y - my) ** 2 for y in ys))
    if sx == 0 or sy == 0:
        return None
    return math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys)) / (sx * sy)


def model_agreement(timeline: Timeline) -> ModelAgreement:
    lines = {name: {p.frame_index: p.score for p in line.points}
             for name in timeline.authenticity if (line := timeline.line(name)) is not None}
    threshold = timeline.threshold
    over = {name: sum(1 for score in scores.values() if threshold is not None and score >= threshold)
            for name, scores in lines.items()}
    correlation: dict[tuple[str, str], float | None] = {}
    for a, b in combinations(lines, 2):
        common = sorted(set(lines[a]) & set(lines[b]))
        correlation[(a, b)] = pearson([lines[a][f] for f in common], [lines[b][f] for f in common])
    return ModelAgreement(timeline.authenticity, len(timeline.frames), over, correlation)
