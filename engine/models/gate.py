"""The gate a variant passes before it is kept, measured on a split of the calibration images,
and the making of a made variant: all-INT8 first, then agreement-driven mixed precision.

The calibration images are split (mixed.held_back_split): the tuning part chooses which nodes
stay in fp32, the held-back part only judges. A variant passes when both parts meet the
thresholds; the figures of both, of every attempt and of the whole set are recorded.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from engine.models.mixed import Attempt, Split, held_back_split, node_groups, search, weight_matmuls
from engine.models.pixelset import PixelSet
from engine.models.runtime import build_lane_session
from engine.models.spec import ModelSpec
from engine.util.progress import IsCancelled

# Dynamic quantization scales activations per batch, so outputs depend slightly on what shares
# a batch. On the CPU every image runs alone (one per core, engine/models/lanes.py), so the gate
# measures each image alone too: the figures are those of the scores a run stores.
VALIDATION_BATCH = 1


@dataclass(frozen=True)
class GateResult:
    whole: Any  # quantize.Agreement over every image
    tune: Any
    held_back: Any
    split: Split
    kept_fp32: tuple[str, ...] = ()
    attempts: list[dict[str, Any]] = field(default_factory=list)
    method: str = "dynamic"  # for a made variant: "dynamic" or "static"
    choice: dict[str, Any] = field(default_factory=dict)  # each method tried: passed, speed, nodes kept fp32

    def passes(self, thresholds: Any) -> bool:
        if not self.held_back.images:  # a single calibration image: nothing could be held back
            return bool(self.whole.passes(thresholds))
        return bool(self.tune.passes(thresholds) and self.held_back.passes(thresholds))

    def figures(self) -> dict[str, Any]:
        def part(agreement: Any) -> dict[str, Any]:
            return {"images": agreement.images, "top1_agreement": agreement.top1_agreement,
                    "max_abs_delta_p": agreement.max_abs_delta_p}

        return {"split": {"tune": len(self.split.tune), "held_back": len(self.split.held_back),
                          "rule": "every third calibration image held back; only the others choose"},
                "tune": part(self.tune), "held_back": part(self.held_back), "kept_fp32": list(self.kept_fp32),
                "attempts": self.attempts, "quantization_method": self.method, "choice": self.choice}


Compare = Callable[[ModelSpec, np.ndarray, np.ndarray], Any]


def judge(spec: ModelSpec, reference: np.ndarray, candidate: np.ndarray, split: Split, compare: Compare,
          kept: Sequence[str] = (), attempts: Sequence[dict[str, Any]] = ()) -> GateResult:
    tune, held = list(split.tune), list(split.held_back)
    return GateResult(compare(spec, reference, candidate), compare(spec, reference[tune], candidate[tune]),
                      compare(spec, reference[held], candidate[held]), split, tuple(kept), list(attempts))


class VariantCheck:
    """One calibration set, preprocessed once, against which variants of one model are measured."""

    def __init__(self, spec: ModelSpec, pixels: PixelSet, compare: Compare, threads: int | None = None,
                 is_cancelled: IsCancelled | None = None) -> None:
        self.spec, self.pixels, self.compare, self.threads, self.is_cancelled = (
            spec, pixels, compare, threads, is_cancelled)
        self.split = held_back_split(pixels.count)
        self.reference = self.measure(spec.onnx_path)

    def measure(self, candidate: str | Path) -> np.ndarray:
        """The candidate's logits for every image, each run alone, as a CPU run scores them."""
        session, info = build_lane_session(candidate, "cpu", threads=self.threads)
        return self.pixels.logits(session, VALIDATION_BATCH, self.is_cancelled, lanes=info.lanes)

    def judge(self, candidate: str | Path, kept: Sequence[str] = (),
              attempts: Sequence[dict[str, Any]] = ()) -> GateResult:
        return judge(self.spec, self.reference, self.measure(candidate), self.split, self.compare, kept, attempts)


def _attempt_record(attempt: Attempt) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(attempt).items()}


def make_variant(check: VariantCheck, target: Path, quantize: Callable[[Path, Sequence[str]], Path],
                 thresholds: Any, mixed: bool = True, note: Callable[[str], None] | None = None) -> GateResult:
    """Quantize `check.spec` into `target`: every weight MatMul first; when that fails on the
    tuning images and `mixed`, the most sensitive node groups are kept in fp32 (mixed.search).
    `target` ends up holding the passing variant, or the one closest to passing."""
    spec = check.spec
    trial = target.with_name(target.name + ".trial")
    tune = list(check.split.tune)

    measured: dict[tuple[str, ...], np.ndarray] = {}  # logits of each attempt, by the nodes it kept fp32

    def measure(kept: Sequence[str], path: Path = trial) -> Attempt:
        quantize(path, kept)
        logits = measured[tuple(kept)] = check.measure(path)
        agreement = check.compare(spec, check.reference[tune], logits[tune])
        return Attempt(tuple(kept), agreement.max_abs_delta_p, agreement.top1_agreement,
                       bool(agreement.passes(thresholds)))

    try:
        first = measure((), target)
        attempts = [first]
        if not first.passed_tune and mixed:
            groups = node_groups(weight_matmuls(spec.onnx_path))
            attempts += search(groups, measure, first, note)
        chosen = next((a for a in attempts if a.passed_tune), min(attempts, key=lambda a: a.tune_delta))
        if chosen is attempts[-1] and chosen is not first:
            os.replace(trial, target)  # the trial file holds the last attempt: the one chosen
        elif chosen is not first:
            quantize(target, chosen.kept_fp32)  # made again: the same nodes give the same file
    finally:
        trial.unlink(missing_ok=True)
    logits = measured[chosen.kept_fp32]
    return judge(spec, check.reference, logits, check.split, check.compare, chosen.kept_fp32,
                 [_attempt_record(a) for a in attempts])
