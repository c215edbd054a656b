"""Analysis: evidence → frames → faces → batched inference for every model → overlays → case → verdicts.

`analyze(job, progress, is_cancelled)` is a generator of events, so the CLI prints them and
the GUI's engine thread turns them into signals; it reports through plain callables and
knows nothing of either. A producer thread decodes, detects faces and preprocesses pixels
into a bounded queue while the calling thread runs the models, so a video run is limited
by inference, not by the decoder. Results are committed per item (evidence × model) as they
complete; a bad item is recorded as that item's error and the run goes on; cancelling stops
within one batch and keeps everything finished so far. `--resume` finishes only the items a
cancelled or interrupted run left pending, with that run's own settings and models.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from engine.case import CaseStore
from engine.errors import CaseError, EngineError, ModelError
from engine.inference import ModelRunner
from engine.media.faces import FaceMode, make_face_detector
from engine.models.spec import ModelSpec
from engine.models.store import resolve_model
from engine.paths import app_home, cache_dir
from engine.preprocess import preprocess
from engine.regions import EvidenceOutcome, Region, evidence_regions
from engine.verdicts import VerdictRecord, VerdictSettings, compute_verdicts

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class AnalysisJob:
    """Everything a run needs, fixed before it starts (built on the caller's thread)."""

    case_path: str
    models: tuple[str, ...] = ()
    evidence_ids: tuple[int, ...] = ()  # empty: every evidence item in the case
    frames_per_clip: int = 16
    face_mode: str = "auto"  # auto | only | off
    explain: bool = False
    provider: str = "auto"
    batch_size: int = 8
    verdict: VerdictSettings = field(default_factory=VerdictSettings)
    home: str | None = None
    yunet_path: str | None = None
    face_margin: float = 1.3
    resume: bool = False
    actor: str | None = None
    allow_test_fixtures: bool = False

    def settings(self) -> dict[str, Any]:
        """What the run records, and what a resume restores."""
        return {"frames_per_clip": self.frames_per_clip, "face_mode": self.face_mode, "explain": self.explain,
                "batch_size": self.batch_size, "verdict": self.verdict.to_dict(), "face_margin": self.face_margin,
                "yunet_path": self.yunet_path, "provider_preference": self.provider}


# -- events the generator yields ----------------------------------------------------------
@dataclass(frozen=True)
class RunStarted:
    run_id: int
    models: tuple[str, ...]
    provider: str
    items: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemScored:
    run_id: int
    evidence_id: int
    model: str
    regions: int


@dataclass(frozen=True)
class ItemFailed:
    run_id: int
    evidence_id: int
    model: str | None
    stage: str
    message: str


@dataclass(frozen=True)
class EvidenceVerdicts:
    run_id: int
    evidence_id: int
    verdicts: tuple[VerdictRecord, ...]


@dataclass(frozen=True)
class RunFinished:
    run_id: int
    status: str
    items_done: int
    items_failed: int


# -- internal bookkeeping ------------------------------------------------------------------
@dataclass
class _EvidenceState:
    models: tuple[str, ...]
    outstanding: dict[str, int] = field(default_factory=dict)  # model → regions queued, not yet scored
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    decoded: bool = False
    outcome: EvidenceOutcome | None = None
    failed_models: set[str] = field(default_factory=set)


_END = object()


class _Producer(threading.Thread):
    """Decodes evidence, finds faces, preprocesses pixels for each model; feeds a bounded queue."""

    def __init__(self, work: list[tuple[Any, tuple[str, ...]]], specs: Mapping[str, ModelSpec], job: AnalysisJob,
                 out: "queue.Queue[Any]") -> None:
        super().__init__(name="dfw-decoder", daemon=True)
        self.work, self.specs, self.job, self.out = work, specs, job, out
        self.stop = threading.Event()
        face_mode = FaceMode(job.face_mode)
        self.face_mode = face_mode
        self.detector = make_face_detector(job.yunet_path) if face_mode != FaceMode.OFF else None

    def _put(self, item: Any) -> bool:
        while not self.stop.is_set():
            try:
                self.out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run(self) -> None:
        try:
            for evidence, models in self.work:
                if self.stop.is_set():
                    return
                outcome = EvidenceOutcome()
                try:
                    for regions in evidence_regions(
                        evidence, frames_per_clip=self.job.frames_per_clip, face_mode=self.face_mode,
                        detector=self.detector, face_margin=self.job.face_margin, outcome=outcome,
                        is_cancelled=self.stop.is_set,
                    ):
                        pixels = {name: np.stack([preprocess(r.image, self.specs[name].preprocess) for r in regions])
                                  for name in models} if regions else {}
                        light = [replace(region, image=None) for region in regions]  # drop decoded pixels early
                        if not self._put(("regions", evidence.id, light, pixels)):
                            return
                except EngineError as exc:
                    self._put(("error", evidence.id, "decode", str(exc)))
                    continue
                except Exception as exc:  # a decoder bug must not end the batch
                    self._put(("error", evidence.id, "decode", f"unexpected {type(exc).__name__}: {exc}"))
                    continue
                if not self._put(("decoded", evidence.id, outcome)):
                    return
        finally:
            self._put(_END)


def _load_specs(job: AnalysisJob, names: tuple[str, ...], home: Path) -> tuple[dict[str, ModelSpec], dict[str, str]]:
    """Specs by model name, and what the user gave for each (a store name or a path)."""
    specs: dict[str, ModelSpec] = {}
    requested: dict[str, str] = {}
    for given in names:
        spec = resolve_model(given, home)
        if spec.is_test_fixture and not job.allow_test_fixtures:
            raise ModelError(f"{given} is a random-weight test fixture, not a detector; refused")
        if spec.name in specs:
            raise ModelError(f"two models are named {spec.name!r}; import one under another name")
        specs[spec.name] = spec
        # A path is kept absolute so a resume from another folder finds the same model.
        requested[spec.name] = str(Path(given).resolve()) if Path(given).exists() else str(given)
    return specs, requested


def analyze(job: AnalysisJob, progress: Progress | None = None,
            is_cancelled: Callable[[], bool] | None = None) -> Iterator[Any]:
    """Run the analysis; yields RunStarted, ItemScored, ItemFailed, EvidenceVerdicts, RunFinished."""
    cancelled = is_cancelled or (lambda: False)
    store = CaseStore.open(job.case_path, actor=job.actor)
    producer: _Producer | None = None
    run_id: int | None = None
    try:
        home = app_home(job.home)
        if job.resume:
            run_id, job, specs, pending = _prepare_resume(store, job, home)
            requested = {}
        else:
            if not job.models:
                raise ModelError("choose at least one model (--model NAME)")
            specs, requested = _load_specs(job, job.models, home)
            evidence_ids = list(job.evidence_ids) or [e.id for e in store.list_evidence()]
            if not evidence_ids:
                raise CaseError("the case holds no evidence yet (case add CASE PATH...)")
            pending = [(e, name) for e in evidence_ids for name in specs]
        runners = {name: ModelRunner(spec, job.provider, batch_size=job.batch_size) for name, spec in specs.items()}
        provider = ",".join(sorted({runner.provider for runner in runners.values()}))
        notes = tuple(sorted({r.info.fallback_reason for r in runners.values() if r.info.fallback_reason}))
        if run_id is None:
            models = [{**spec.provenance(), "requested_as": requested[name], "provider": runners[name].provider,
                       "providers": list(runners[name].info.providers),
                       "fallback_reason": runners[name].info.fallback_reason} for name, spec in specs.items()]
            run_id = store.start_run(models, job.settings(), provider, sorted({e for e, _ in pending}))
        yield RunStarted(run_id, tuple(specs), provider, len(pending), notes)

        per_evidence: dict[int, list[str]] = {}
        for evidence_id, name in pending:
            per_evidence.setdefault(evidence_id, []).append(name)
        work = [(store.get_evidence(eid), tuple(names)) for eid, names in sorted(per_evidence.items())]
        states = {evidence.id: _EvidenceState(models) for evidence, models in work}
        judges = {name: spec.meaning.judges for name, spec in specs.items()}
        total, finished = len(work), 0
        feed: "queue.Queue[Any]" = queue.Queue(maxsize=max(4, job.batch_size))
        producer = _Producer(work, specs, job, feed)
        producer.start()
        batches: dict[str, list[tuple[Region, np.ndarray]]] = {name: [] for name in specs}
        producer_done = False
        status = "completed"

        while True:
            if cancelled():
                status = "cancelled"
                break
            ready_to_flush = producer_done or any(len(items) >= job.batch_size for items in batches.values())
            if not ready_to_flush:
                try:
                    message = feed.get(timeout=0.2)
                except queue.Empty:
                    continue  # look at is_cancelled() again while the decoder works
                if message is _END:
                    producer_done = True
                    continue
                kind, evidence_id = message[0], message[1]
                state = states[evidence_id]
                if kind == "regions":
                    _, _, regions, pixels = message
                    for name in state.models:
                        for index, region in enumerate(regions):
                            batches[name].append((region, pixels[name][index]))
                        state.outstanding[name] = state.outstanding.get(name, 0) + len(regions)
                elif kind == "decoded":
                    state.decoded, state.outcome = True, message[2]
                else:  # error
                    store.record_item_error(run_id, evidence_id, message[2], message[3])
                    for name in specs:
                        batches[name] = [(r, p) for r, p in batches[name] if r.evidence_id != evidence_id]
                    del states[evidence_id]
                    finished += 1
                    yield ItemFailed(run_id, evidence_id, None, message[2], message[3])
                    if progress:
                        progress(finished, total, f"evidence {evidence_id}: {message[3]}")
                    continue
            else:
                for name, items in batches.items():
                    if not items or cancelled():
                        continue
                    chunk, batches[name] = items[: job.batch_size], items[job.batch_size :]
                    yield from _score_chunk(store, run_id, name, runners[name], chunk, states)
                if cancelled():
                    status = "cancelled"
                    break
            for evidence_id in [eid for eid, st in states.items()
                                if st.decoded and not any(st.outstanding.get(n, 0) for n in st.models)]:
                state = states.pop(evidence_id)
                yield from _finish_evidence(store, run_id, evidence_id, state, judges, job)
                finished += 1
                if progress:
                    progress(finished, total, f"evidence {evidence_id} done")
            if producer_done and not states and not any(batches.values()):
                break
        run = store.finish_run(run_id, status)
        yield RunFinished(run_id, status, run.items_done, run.items_failed)
    except BaseException:
        if run_id is not None and not store.closed:
            try:
                store.finish_run(run_id, "failed")
            except EngineError:
                pass
        raise
    finally:
        if producer is not None:
            producer.stop.set()
            producer.join(timeout=30)
        store.close()


def _score_chunk(store: CaseStore, run_id: int, name: str, runner: ModelRunner,
                 chunk: list[tuple[Region, np.ndarray]], states: dict[int, _EvidenceState]) -> Iterator[Any]:
    try:
        logits = runner.logits_from_pixels(np.stack([pixels for _, pixels in chunk]))
        predictions = runner.predictions_from_logits(logits)
    except EngineError as exc:
        message = str(exc)
        predictions = None
    except Exception as exc:  # onnxruntime raises its own types on bad input shapes and the like
        message = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        predictions = None
    if predictions is None:
        for evidence_id in sorted({region.evidence_id for region, _ in chunk}):
            state = states.get(evidence_id)
            if state is None or name in state.failed_models:
                continue
            state.failed_models.add(name)
            store.record_item_error(run_id, evidence_id, "inference", message, model=name)
            yield ItemFailed(run_id, evidence_id, name, "inference", message)
    for index, (region, _) in enumerate(chunk):
        state = states.get(region.evidence_id)
        if state is None:
            continue
        state.outstanding[name] -= 1
        if predictions is None or name in state.failed_models:
            continue
        prediction = predictions[index]
        state.rows.setdefault(name, []).append({
            "evidence_id": region.evidence_id, "model": name, "frame_index": region.frame_index,
            "timestamp": region.timestamp, "track_id": region.track_id, "box": region.box,
            "probabilities": dict(zip(prediction.labels, prediction.probabilities)),
            "p_manipulated": prediction.p_manipulated,
        })


def _finish_evidence(store: CaseStore, run_id: int, evidence_id: int, state: _EvidenceState,
                     judges: Mapping[str, str], job: AnalysisJob) -> Iterator[Any]:
    for name in state.models:
        if name in state.failed_models:
            continue
        rows = state.rows.get(name, [])
        store.add_results(run_id, rows, complete=(evidence_id, name))
        yield ItemScored(run_id, evidence_id, name, len(rows))
    outcome = state.outcome.to_dict() if state.outcome else {}
    context: dict[str, Any] = {"outcome": outcome, "face_mode": job.face_mode}
    if outcome.get("frames") and job.face_mode == FaceMode.ONLY.value and not outcome.get("faces"):
        context["empty_reason"] = "no face found"
    stored = store.results(run_id, evidence_id)
    run_models = {name: judges[name] for name in judges}
    verdicts = compute_verdicts(stored, run_models, job.verdict, context)
    for verdict in verdicts:
        store.set_verdict(run_id, evidence_id, verdict.model, verdict.score, job.verdict.rule,
                          job.verdict.to_dict()["params"], job.verdict.threshold, verdict.label,
                          {**verdict.details, "margin": job.verdict.margin})
    yield EvidenceVerdicts(run_id, evidence_id, tuple(verdicts))


def _prepare_resume(store: CaseStore, job: AnalysisJob, home: Path):
    resumable = [run for run in store.list_runs() if run.status in ("interrupted", "cancelled", "failed")]
    if not resumable:
        raise CaseError("no cancelled or interrupted run to resume in this case")
    run = resumable[-1]
    settings = run.settings
    recorded = {model["name"]: model for model in run.models}
    given = tuple(model.get("requested_as") or name for name, model in recorded.items())
    specs, _ = _load_specs(replace(job, allow_test_fixtures=True), given, home)
    for name, spec in specs.items():
        if recorded[name].get("sha256") and recorded[name]["sha256"] != spec.onnx_sha256:
            raise ModelError(f"model {name!r} changed since run {run.id} started; start a new run instead")
    restored = replace(
        job, models=tuple(recorded), frames_per_clip=int(settings.get("frames_per_clip", job.frames_per_clip)),
        face_mode=settings.get("face_mode", job.face_mode), explain=bool(settings.get("explain", job.explain)),
        batch_size=int(settings.get("batch_size", job.batch_size)), face_margin=float(settings.get("face_margin", 1.3)),
        yunet_path=settings.get("yunet_path"),
        verdict=VerdictSettings.from_dict(settings.get("verdict", {})),
    )
    pending = store.resume_run(run.id)
    return run.id, restored, specs, pending
