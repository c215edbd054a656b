"""What an analysis run is asked to do: `AnalysisJob`, a frozen value built on the caller's thread.

The GUI and the CLI both build one and hand it to `Case.analyze`, which runs it on the case's
own open store. Models are `ModelChoice` pairs (a store name or a path, and an optional
variant such as "int8"); only the CLI parses `NAME:VARIANT`. A run records `settings()` and a
resume rebuilds the job from them with `restored()`, so a resumed run continues exactly as it
started; the recorded settings come from a case (untrusted), so `restored()` takes only the
known fields and checks their types, and `check()` refuses out-of-range values and unknown
names before a run exists or is resumed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, NamedTuple, Sequence

from engine.analysis.aggregate import RULES, rule_params
from engine.errors import SettingsError
from engine.analysis.verdicts import LEGACY_MIN_TRACK_FRAMES, VerdictSettings
from engine.media.face_store import is_detector_name
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
    yunet_sha256: str | None = None  # of the YuNet file, filled in when a run starts (planning.py)
    face_detector: str | None = None  # an imported face detector's name (models import-face-detector)
    face_detector_sha256: str | None = None  # its file's SHA-256, filled in when a run starts (planning.py)
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
                "yunet_path": self.yunet_path, "yunet_sha256": self.yunet_sha256,
                "face_detector": self.face_detector, "face_detector_sha256": self.face_detector_sha256,
                "provider_preference": self.provider}

    def restored(self, settings: Any, models: tuple[ModelChoice, ...]) -> "AnalysisJob":
        """This job with a recorded run's settings, for resuming it exactly as it started.

        Only the fields below are taken, each as recorded (a missing one keeps this job's
        value); their types are checked here and their ranges by `check()`, which the caller
        runs next. The provider, the YuNet file and the permission to run test fixtures stay
        this job's own: a case cannot choose them. The imported face detector, like the models,
        is taken by its recorded name from the store and its recorded SHA-256 (resume.py).
        """
        if not isinstance(settings, Mapping):
            raise SettingsError(f"the settings are a JSON {_json_kind(settings)}, not an object")
        values = {key: settings[key] for key in _RESTORED if key in settings}
        if not isinstance(values.get("explain", False), bool):
            raise SettingsError(f"explain must be true or false, got {values['explain']!r}")
        return replace(self, models=models, verdict=_recorded_verdict(settings.get("verdict", {})), **values)

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
        if not isinstance(self.face_mode, str) or self.face_mode not in {mode.value for mode in FaceMode}:
            raise SettingsError(f"face mode must be one of auto, only, off; got {self.face_mode!r}")
        _number("discard ratio", self.discard_ratio, 0.0, 0.99)
        _number("face margin", self.face_margin, 1.0, 10.0)
        if not isinstance(self.yunet_path, (str, type(None))):
            raise SettingsError(f"the YuNet face model must be a file name, got {self.yunet_path!r}")
        if self.face_detector is not None:
            if not is_detector_name(self.face_detector):
                raise SettingsError(f"the face detector must be the name of an imported one, got "
                                    f"{str(self.face_detector)[:60]!r}")
            if self.yunet_path:
                raise SettingsError("choose one face detector: an imported one (--face-detector) or a YuNet file "
                                    "(--yunet), not both")
        verdict = self.verdict
        if not isinstance(verdict.rule, str):
            raise SettingsError(f"verdict rule must be a rule name, got {verdict.rule!r}")
        rule_params(verdict.rule, verdict.params)
        _number("verdict threshold", verdict.threshold, 0.0, 1.0)
        _number("verdict margin", verdict.margin, 0.0, 0.5)
        _whole("frames a face track needs to decide a verdict", verdict.min_track_frames, 1)
        for name, weight in verdict.weights.items():
            if name not in models:
                raise SettingsError(f"ensemble weight given for {name!r}, which is not a model of this run "
                                    f"({', '.join(models)})")
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) \
                    or weight <= 0:
                raise SettingsError(f"ensemble weight of {name!r} must be a positive number, got {weight!r}")


_RESTORED = ("frames_per_clip", "face_mode", "explain", "discard_ratio", "occlusion_top_k", "batch_size",
             "face_margin")


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "boolean" if isinstance(value, bool) else "number" if isinstance(value, (int, float)) else "value"


def _recorded_verdict(data: Any) -> VerdictSettings:
    """Verdict settings as a run recorded them, with their shapes checked (values by `check()`)."""
    if not isinstance(data, Mapping):
        raise SettingsError(f"verdict settings are a JSON {_json_kind(data)}, not an object")
    rule = data.get("rule", "topk_mean")
    if not isinstance(rule, str):
        raise SettingsError(f"verdict rule must be a rule name, got {rule!r}")
    if rule not in RULES:
        raise SettingsError(f"verdict rule {rule!r} is not a known rule ({', '.join(RULES)})")
    parts = {key: data.get(key, {}) for key in ("params", "weights")}
    for key, value in parts.items():
        if not isinstance(value, Mapping) or not all(isinstance(name, str) for name in value):
            raise SettingsError(f"verdict {key} must be a JSON object, got {value!r}")
    return VerdictSettings(rule=rule, params=dict(parts["params"]), threshold=data.get("threshold", 0.5),
                           margin=data.get("margin", 0.1), weights=dict(parts["weights"]),
                           min_track_frames=data.get("min_track_frames", LEGACY_MIN_TRACK_FRAMES))


def _whole(what: str, value: Any, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise SettingsError(f"{what} must be a whole number ≥ {least}, got {value!r}")


def _number(what: str, value: Any, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        # NaN fails the comparison too.
        raise SettingsError(f"{what} must be between {low:g} and {high:g}, got {value!r}")
