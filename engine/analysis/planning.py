"""Before a run: which models it loads, which items it does, and how many frames that is.

A new run takes the job's models and evidence; a resume takes the last cancelled,
interrupted or failed run's own models and settings and only its pending items. Either way
the result is a `RunPlan` the pipeline executes; nothing here touches pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from engine.analysis.job import AnalysisJob, ModelChoice
from engine.case import CaseStore, Evidence, Run
from engine.errors import CaseError, ModelError
from engine.models.spec import ModelSpec
from engine.models.store import resolve_model
from engine.vocab import RunStatus


@dataclass
class RunPlan:
    job: AnalysisJob  # for a resume: the recorded run's settings
    specs: dict[str, ModelSpec]  # by the name results carry ("detector", or "detector:int8")
    requested: dict[str, ModelChoice]  # what to load again on a resume, by that name
    work: list[tuple[Evidence, tuple[str, ...]]]  # evidence → the models still to run on it
    resume_of: Run | None = None

    @property
    def items(self) -> int:
        return sum(len(models) for _, models in self.work)


def load_specs(choices: tuple[ModelChoice, ...], home: Path,
               allow_test_fixtures: bool) -> tuple[dict[str, ModelSpec], dict[str, ModelChoice]]:
    """Specs by the name results will carry, and what was asked for each (paths made absolute)."""
    specs: dict[str, ModelSpec] = {}
    requested: dict[str, ModelChoice] = {}
    for choice in choices:
        spec = resolve_model(choice.name, home, variant=choice.variant)
        if choice.variant:
            spec = spec.with_name(f"{spec.name}:{spec.variant}")  # results say which file scored them
        if spec.is_test_fixture and not allow_test_fixtures:
            raise ModelError(f"{choice.label} is a random-weight test fixture, not a detector; refused")
        if spec.name in specs:
            raise ModelError(f"two models are named {spec.name!r}; import one under another name")
        specs[spec.name] = spec
        # A path is kept absolute so a resume from another folder finds the same model.
        given = Path(choice.name)
        requested[spec.name] = ModelChoice(str(given.resolve()) if given.exists() else choice.name, choice.variant)
    return specs, requested


def recorded_choice(model: Mapping[str, Any]) -> ModelChoice:
    """What a run record says was asked for one of its models."""
    given = str(model.get("requested_as") or model.get("name"))
    variant = model.get("requested_variant")
    if variant is None and ":" in given and not Path(given).exists():
        # Runs recorded before variants had their own field kept them as NAME:VARIANT.
        given, _, variant = given.rpartition(":")
    return ModelChoice(given, variant or None)


def run_model_record(spec: ModelSpec, requested: ModelChoice, runner_info: Mapping[str, Any]) -> dict[str, Any]:
    """What a run records about one of its models: provenance, what was asked, where it ran."""
    record: dict[str, Any] = {**spec.provenance(), "requested_as": requested.name}
    if requested.variant:
        record["requested_variant"] = requested.variant
    return {**record, **runner_info}


def _by_evidence(store: CaseStore, pending: list[tuple[int, str]]) -> list[tuple[Evidence, tuple[str, ...]]]:
    per_evidence: dict[int, list[str]] = {}
    for evidence_id, name in pending:
        per_evidence.setdefault(evidence_id, []).append(name)
    return [(store.get_evidence(eid), tuple(names)) for eid, names in sorted(per_evidence.items())]


def plan_run(store: CaseStore, job: AnalysisJob, home: Path) -> RunPlan:
    """The run `job` asks for on `store`; raises before anything is recorded when it cannot start."""
    if job.resume:
        resumable = [run for run in store.list_runs() if RunStatus.read(run.status).resumable]
        if not resumable:
            raise CaseError("no cancelled or interrupted run to resume in this case")
        run = resumable[-1]
        recorded = {model["name"]: model for model in run.models}
        job = job.restored(run.settings, tuple(recorded_choice(model) for model in recorded.values()))
        specs, requested = load_specs(job.models, home, True)
        for name, spec in specs.items():
            if recorded.get(name, {}).get("sha256") not in (None, spec.onnx_sha256):
                raise ModelError(f"model {name!r} changed since run {run.id} started; start a new run instead")
        job.check(tuple(specs))
        return RunPlan(job, specs, requested, _by_evidence(store, store.pending_items(run.id)), run)
    if not job.models:
        raise ModelError("choose at least one model (--model NAME)")
    specs, requested = load_specs(job.models, home, job.allow_test_fixtures)
    evidence_ids = list(dict.fromkeys(job.evidence_ids)) or [e.id for e in store.list_evidence()]
    if not evidence_ids:
        raise CaseError("the case holds no evidence yet (case add CASE PATH...)")
    job.check(tuple(specs))
    return RunPlan(job, specs, requested, _by_evidence(store, [(e, name) for e in evidence_ids for name in specs]))


def expected_frames(evidence: Evidence, frames_per_clip: int) -> int:
    """Frames a run will sample from an item: 1 for an image, up to N for a clip (fewer when
    the probe found a shorter one); what progress counts in."""
    if evidence.media_kind != "video":
        return 1
    count = (evidence.metadata.get("video") or {}).get("frame_count")
    return max(1, min(frames_per_clip, int(count))) if isinstance(count, int) and count > 0 else frames_per_clip
