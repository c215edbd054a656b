"""Before a run: which models it loads, which items it does, and how many frames that is.

A new run takes the job's models and evidence (and records the SHA-256 of its YuNet file or
imported face detector); a resume takes the last cancelled, interrupted or failed run's own
models and settings, checked as resume.py says (a case is untrusted), and only its pending
items. Either way the result is a `RunPlan` the pipeline executes; nothing here touches pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from engine.analysis.job import AnalysisJob, ModelChoice
from engine.analysis.resume import recorded_models, resumed_face_detector, resumed_job, resumed_specs, yunet_digest
from engine.case import CaseStore, Checkpoint, Evidence, Run
from engine.errors import CaseError, ModelError
from engine.media.face_store import FaceDetectorStore
from engine.models.spec import ModelSpec
from engine.models.store import ModelStore, resolve_model
from engine.vocab import FaceMode, RunStatus


@dataclass
class RunPlan:
    job: AnalysisJob  # for a resume: the recorded run's settings
    specs: dict[str, ModelSpec]  # by the name results carry ("detector", or "detector:int8")
    requested: dict[str, ModelChoice]  # what to load again on a resume, by that name
    work: list[tuple[Evidence, tuple[str, ...]]]  # evidence → the models still to run on it
    resume_of: Run | None = None
    # For a resume: evidence id → where its stored frames end (checked against their checkpoint).
    resume_from: dict[int, Checkpoint] = field(default_factory=dict)

    @property
    def items(self) -> int:
        return sum(len(models) for _, models in self.work)


def load_specs(choices: tuple[ModelChoice, ...], home: Path,
               allow_test_fixtures: bool) -> tuple[dict[str, ModelSpec], dict[str, ModelChoice]]:
    """Specs by the name results will carry, and what was asked for each (paths made absolute)."""
    specs: dict[str, ModelSpec] = {}
    requested: dict[str, ModelChoice] = {}
    store = ModelStore(home)
    for choice in choices:
        spec = resolve_model(choice.name, home, variant=choice.variant)
        if choice.variant:
            spec = spec.with_name(f"{spec.name}:{spec.variant}")  # results say which file scored them
        if spec.is_test_fixture and not allow_test_fixtures:
            raise ModelError(f"{choice.label} is a random-weight test fixture, not a detector; refused")
        if spec.name in specs:
            raise ModelError(f"two models are named {spec.name!r}; import one under another name")
        specs[spec.name] = spec
        # A store name is recorded as given (resolve_model prefers the store, and a resume
        # loads only from there); a path is recorded absolute, to say which folder it was.
        given = Path(choice.name)
        from_store = store.has(choice.name) or not given.exists()
        requested[spec.name] = ModelChoice(choice.name if from_store else str(given.resolve()), choice.variant)
    return specs, requested


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
        return _plan_resume(store, job, home)
    if not job.models:
        raise ModelError("choose at least one model (--model NAME)")
    specs, requested = load_specs(job.models, home, job.allow_test_fixtures)
    evidence_ids = list(dict.fromkeys(job.evidence_ids)) or [e.id for e in store.list_evidence()]
    if not evidence_ids:
        raise CaseError("the case holds no evidence yet (case add CASE PATH...)")
    job.check(tuple(specs))
    finds_faces = job.face_mode != FaceMode.OFF
    uses_yunet = bool(job.yunet_path) and finds_faces
    chosen = FaceDetectorStore(home).get(job.face_detector) if job.face_detector and finds_faces else None
    # A clip sampled at fewer frames than the rule asks for cannot show a face more often than that.
    verdict = replace(job.verdict, min_track_frames=min(job.verdict.min_track_frames, job.frames_per_clip))
    job = replace(job, yunet_sha256=yunet_digest(str(job.yunet_path)) if uses_yunet else None, verdict=verdict,
                  face_detector=chosen.name if chosen else None, face_detector_sha256=chosen.sha256 if chosen else None)
    return RunPlan(job, specs, requested, _by_evidence(store, [(e, name) for e in evidence_ids for name in specs]))


def _plan_resume(store: CaseStore, job: AnalysisJob, home: Path) -> RunPlan:
    resumable = [run for run in store.list_runs() if RunStatus.read(run.status).resumable]
    if not resumable:
        raise CaseError("no cancelled or interrupted run to resume in this case")
    run = resumable[-1]
    records = recorded_models(run)
    names = tuple(str(record["name"]) for record in records)
    job = resumed_job(run, job, names)  # settings first: they need no file
    job = resumed_face_detector(run, job, home)
    specs, requested = resumed_specs(run, records, job, home)
    pending = store.pending_items(run.id)
    strangers = sorted({name for _, name in pending} - set(specs))
    if strangers:
        raise CaseError(f"run {run.id} has items for models it does not record ({', '.join(map(repr, strangers))}); "
                        "start a new run")
    return RunPlan(job, specs, requested, _by_evidence(store, pending), run, store.item_checkpoints(run.id))


def expected_frames(evidence: Evidence, frames_per_clip: int) -> int:
    """Frames a run will sample from an item: 1 for an image, up to N for a clip (fewer when
    the probe found a shorter one); what progress counts in."""
    if evidence.media_kind != "video":
        return 1
    count = (evidence.metadata.get("video") or {}).get("frame_count")
    return max(1, min(frames_per_clip, int(count))) if isinstance(count, int) and count > 0 else frames_per_clip
