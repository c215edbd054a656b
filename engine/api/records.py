"""Frozen records the API hands out: what a window row, a CLI line or a JSON object is made from.

They hold plain values only (no open handles), so they can cross from the engine thread to
the GUI thread as they are, and be compared in tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from engine.case.records import Annotation, CaseInfo, Evidence, ItemError, Run, Verdict
from engine.vocab import ENSEMBLE, EvidenceStatus, RunStatus


@dataclass(frozen=True)
class ModelSummary:
    """One imported model as the model manager and `models list` show it."""

    name: str
    architecture: str | None
    layout: str | None
    labels: tuple[str, ...]
    judges: str | None  # "authenticity" or "other"
    manipulated_labels: tuple[str, ...]  # which labels add up to p(manipulated); empty for "other"
    meaning: str  # how that was established, in words
    meaning_source: str  # "inferred from label names" or "stated by the user"
    input_size: tuple[int, int] | None
    preprocess: str | None
    sha256: str | None
    variants: tuple[str, ...]
    default_variant: str | None
    imported_at: str | None
    imported_from: str | None
    source: str | None
    is_test_fixture: bool
    quantization: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # variant → figures

    def to_json(self) -> dict[str, Any]:
        """The object `models list --json` prints for this model."""
        return {"name": self.name, "architecture": self.architecture, "layout": self.layout,
                "labels": list(self.labels), "judges": self.judges, "sha256": self.sha256,
                "variants": list(self.variants), "default_variant": self.default_variant,
                "imported_at": self.imported_at, "source": self.source, "is_test_fixture": self.is_test_fixture,
                "quantization": {k: dict(v) for k, v in self.quantization.items()}}


@dataclass(frozen=True)
class FaceDetectorSummary:
    """One imported face detector (CenterFace, YuNet) as `models face-detectors` lists it."""

    name: str
    kind: str  # "centerface" or "yunet"
    sha256: str
    size: int
    imported_at: str | None
    imported_from: str | None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "sha256": self.sha256, "size": self.size,
                "imported_at": self.imported_at, "imported_from": self.imported_from}


@dataclass(frozen=True)
class EvidenceSummary:
    """One evidence item with where the latest analysis left it."""

    evidence: Evidence
    status: EvidenceStatus
    run_id: int | None  # the latest run that planned this item
    verdicts: tuple[Verdict, ...]  # from the latest run that finished this item (ensemble last)
    tags: tuple[str, ...] = ()
    errors: tuple[ItemError, ...] = ()  # of the latest run that planned this item

    @property
    def headline(self) -> Verdict | None:
        """The verdict to show first: the ensemble's, or the only model's."""
        return next((v for v in self.verdicts if v.model == ENSEMBLE), self.verdicts[0] if self.verdicts else None)

    @property
    def verdict_run_id(self) -> int | None:
        return self.verdicts[0].run_id if self.verdicts else None

    def _outcome_count(self, key: str) -> int | None:
        headline = self.headline
        outcome = (headline.details.get("outcome") or {}) if headline else {}
        if not outcome or outcome.get("detector") is None:
            return None  # not analysed, or analysed with faces off
        value = outcome.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def faces(self) -> int | None:
        """Distinct faces (face tracks) the run behind the headline verdict followed."""
        return self._outcome_count("tracks")

    @property
    def face_detections(self) -> int | None:
        """Face boxes found over all the sampled frames."""
        return self._outcome_count("faces")


@dataclass(frozen=True)
class RunSummary:
    run: Run
    status: RunStatus  # as it stands: a run recorded "running" with no live writer was interrupted

    @property
    def id(self) -> int:
        return self.run.id

    @property
    def model_names(self) -> tuple[str, ...]:
        return tuple(str(m.get("name")) for m in self.run.models if isinstance(m, dict))


@dataclass(frozen=True)
class VerificationRecord:
    """The last "verification done" entry of a case's audit log: a hint for the window's banner
    (a fresh `Case.verify` is what proves anything)."""

    time: str
    actor: str
    ok: bool
    evidence_problems: tuple[int, ...]
    audit_problems: int
    record_problems: int


@dataclass(frozen=True)
class RunOfItem:
    """What one run did with one evidence item."""

    run: RunSummary
    verdicts: tuple[Verdict, ...]  # ensemble last
    errors: tuple[ItemError, ...]


@dataclass(frozen=True)
class EvidenceDetails:
    summary: EvidenceSummary
    runs: tuple[RunOfItem, ...]  # newest first; only runs that planned this item
    annotations: tuple[Annotation, ...]


@dataclass(frozen=True)
class CaseOverview:
    path: str
    info: CaseInfo
    readonly: bool
    readonly_reason: str | None  # e.g. "it is open for writing elsewhere", with the holder below
    holder: str | None  # who holds the writer lock, from its lock file
    evidence: tuple[EvidenceSummary, ...]
    runs: tuple[RunSummary, ...]
    last_verification: VerificationRecord | None = None
    # What in the file this program did not write (then it is read-only; `case repair` copies it).
    foreign: tuple[str, ...] = ()

    @property
    def resumable_run(self) -> RunSummary | None:
        """The run `--resume` would finish: the last cancelled, interrupted or failed one."""
        return next((r for r in reversed(self.runs) if r.status.resumable), None)

    @property
    def last_provider(self) -> str | None:
        """The provider the newest run really used."""
        return self.runs[-1].run.provider if self.runs else None


@dataclass(frozen=True)
class ProviderFacts:
    """What this machine offers and what a run would ask for first."""

    available: tuple[str, ...]  # short names onnxruntime lists: cuda, directml, cpu
    planned: str  # for the given preference; only a plan until a session starts


@dataclass(frozen=True)
class ProviderProbe:
    """What a session for a run would really run on now, found by building one."""

    preference: str
    provider: str  # cuda | directml | cpu
    fallback_reason: str | None  # why a listed GPU provider did not start


@dataclass(frozen=True)
class ImageScore:
    """One image's scores from one model (`score`), or why it could not be scored."""

    path: str
    model: str
    provider: str | None = None
    predictions: tuple[Mapping[str, Any], ...] = ()  # [{"label", "score"}], highest first
    p_manipulated: float | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        if self.error is not None:
            return {"path": self.path, "model": self.model, "error": self.error}
        return {"path": self.path, "model": self.model, "provider": self.provider,
                "predictions": [dict(p) for p in self.predictions], "p_manipulated": self.p_manipulated}
