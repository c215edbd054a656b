"""What an analysis run is asked to do: `AnalysisJob`, a frozen value built on the caller's thread.

The GUI and the CLI both build one and hand it to `Case.analyze`, which runs it on the case's
own open store. Models are `ModelChoice` pairs (a store name or a path, and an optional
variant such as "int8"); only the CLI parses `NAME:VARIANT`. A run records `settings()` and a
resume rebuilds the job from them with `restored()`, so a resumed run continues exactly as it
started. `check()` refuses out-of-range settings before a run exists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, NamedTuple, Sequence

from engine.analysis.aggregate import rule_params
from engine.errors import SettingsError
from engine.analysis.verdicts import VerdictSettings
from engine.vocab import FaceMode


class ModelChoice(NamedTuple):
    """A model for a run: an imported model's name (or a model folder / .onnx path) and the
    variant to run (None: the model's default file)."""

    name: str
    variant: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name}:{self.variant}" if self.variant else self.name


@dataclass(frozen=True)
class AnalysisJob:
    """Everything a run needs, fixed before it starts (built on the caller's thread)."""

    models: tuple[ModelChoice, ...] = ()
    evidence_ids: tuple[int, ...] = ()  # empty: every evidence item in the case
    frames_per_clip: int = 16
    face_mode: str = FaceMode.AUTO
    explain: bool = False
    discard_ratio: float = 0.0  # attention rollout: share of weakest attention links dropped
    occlusion_top_k: int = 3  # occlusion maps for this many most suspicious regions per item
    provider: str = "auto"
    batch_size: int = 8
    verdict: VerdictSettings = field(default_factory=VerdictSettings)
    yunet_path: str | None = None
    face_margin: float = 1.3
    resume: bool = False
    allow_test_fixtures: bool = False

    def __post_init__(self) -> None:
        # Plain strings are taken as model names with their default variant.
        object.__setattr__(self, "models", tuple(
            m if isinstance(m, ModelChoice) else ModelChoice(*m) if isinstance(m, tuple) else ModelChoice(str(m))
            for m in self.models))

    def settings(self) -> dict[str, Any]:
        """What the run records, and what a resume restores."""
        return {"frames_per_clip": self.frames_per_clip, "face_mode": self.face_mode, "explain": self.explain,
                "discard_ratio": self.discard_ratio, "occlusion_top_k": self.occlusion_top_k,
                "batch_size": self.batch_size, "verdict": self.verdict.to_dict(), "face_margin": self.face_margin,
                "yunet_path": self.yunet_path, "provider_preference": self.provider}

    def restored(self, settings: Mapping[str, Any], models: tuple[ModelChoice, ...]) -> "AnalysisJob":
        """This job with a recorded run's settings, for resuming it exactly as it started."""
        return replace(
            self, models=models, frames_per_clip=int(settings.get("frames_per_clip", self.frames_per_clip)),
            face_mode=settings.get("face_mode", self.face_mode), explain=bool(settings.get("explain", False)),
            discard_ratio=float(settings.get("discard_ratio", 0.0)),
            occlusion_top_k=int(settings.get("occlusion_top_k", self.occlusion_top_k)),
            batch_size=int(settings.get("batch_size", self.batch_size)),
            face_margin=float(settings.get("face_margin", self.face_margin)), yunet_path=settings.get("yunet_path"),
            verdict=VerdictSettings.from_dict(settings.get("verdict", {})), allow_test_fixtures=True,
        )

    def check(self, models: Sequence[str]) -> None:
        """Refuse settings that cannot make a sound run, before anything is recorded.

        A run stores its settings and a resume restores them, so a bad value caught only
        mid-run (a zero batch size spins forever, a negative margin fails at the first
        verdict) would be replayed by every resume. `models` are the names results will
        carry, for checking ensemble weights.
        """
        _whole("frames per clip", self.frames_per_clip, 1)
        _whole("batch size", self.batch_size, 1)
        _whole("occlusion top-k", self.occlusion_top_k, 0)
        if self.face_mode not in {mode.value for mode in FaceMode}:
            raise SettingsError(f"face mode must be one of auto, only, off; got {self.face_mode!r}")
        _number("discard ratio", self.discard_ratio, 0.0, 0.99)
        _number("face margin", self.face_margin, 1.0, 10.0)
        verdict = self.verdict
        rule_params(verdict.rule, verdict.params)
        _number("verdict threshold", verdict.threshold, 0.0, 1.0)
        _number("verdict margin", verdict.margin, 0.0, 0.5)
        for name, weight in verdict.weights.items():
            if name not in models:
                raise SettingsError(f"ensemble weight given for {name!r}, which is not a model of this run "
                                    f"({', '.join(models)})")
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) \
                    or weight <= 0:
                raise SettingsError(f"ensemble weight of {name!r} must be a positive number, got {weight!r}")


def _whole(what: str, value: Any, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise SettingsError(f"{what} must be a whole number ≥ {least}, got {value!r}")


def _number(what: str, value: Any, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        # NaN fails the comparison too.
        raise SettingsError(f"{what} must be between {low:g} and {high:g}, got {value!r}")
