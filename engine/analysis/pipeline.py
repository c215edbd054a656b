"""Analysis: evidence → frames → faces → batched inference for every model → overlays → case → verdicts.

`analyze(job, progress, is_cancelled)` is a generator of events, so the CLI prints them and
the GUI's engine thread turns them into signals; it reports through plain callables and
knows nothing of either. A feeder thread decodes, detects faces and preprocesses pixels into
a bounded queue while the calling thread runs the models, so a video run is limited by
inference, not by the decoder. Each item (evidence × model) is committed with its overlays
in one transaction when it completes; a bad item is recorded as that item's error and the
run goes on; cancelling stops within one batch and keeps everything finished so far.
`resume` finishes only the items a cancelled or interrupted run left pending, with that
run's own settings and models.

With `explain`, models whose graph exposes attention run through a copy of the graph that
also returns head-averaged attention, so every region gets an attention-rollout overlay for
little more than the cost of inference; other models get occlusion maps for their top-k
most suspicious regions.
"""

from __future__ import annotations

import queue
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from engine.case import CaseStore
from engine.errors import Cancelled, CaseError, EngineError, ModelError
from engine.explain import OCCLUSION, ROLLOUT, AttentionRunner, Overlay, occlusion_map, open_attention_runner, score_function
from engine.analysis.feeder import END, Feeder
from engine.models.inference import ModelRunner
from engine.media.faces import FaceMode
from engine.models.quantize import describe_quantization
from engine.models.spec import ModelSpec
from engine.models.store import resolve_model
from engine.paths import app_home, cache_dir
from engine.analysis.regions import EvidenceOutcome, Region
from engine.models.runtime import planned_provider
from engine.analysis.job import AnalysisJob
from engine.analysis.verdicts import VerdictRecord, compute_verdicts

Progress = Callable[[int, int, str], None]


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
    overlays: int = 0


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


@dataclass
class _EvidenceState:
    models: tuple[str, ...]
    outstanding: dict[str, int] = field(default_factory=dict)  # model → regions queued, not yet scored
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    overlays: dict[str, list[tuple[int, Overlay]]] = field(default_factory=dict)  # model → (frame, overlay)
    kept_pixels: dict[str, list[tuple[Region, np.ndarray]]] = field(default_factory=dict)  # for occlusion
    decoded: bool = False
    outcome: EvidenceOutcome | None = None
    failed_models: set[str] = field(default_factory=set)

    @property
    def complete(self) -> bool:
        return self.decoded and not any(self.outstanding.get(name, 0) for name in self.models)


def _load_specs(names: tuple[str, ...], home: Path, allow_test_fixtures: bool) -> tuple[dict[str, ModelSpec], dict[str, str]]:
    """Specs by model name, and what the user gave for each (a store name or an absolute path)."""
    specs: dict[str, ModelSpec] = {}
    requested: dict[str, str] = {}
    for given in names:
        name, variant = given, None
        if not Path(given).exists() and ":" in given:
            name, _, variant = given.rpartition(":")  # NAME:VARIANT, e.g. detector:int8
        spec = resolve_model(name, home, variant=variant)
        if variant:
            spec = spec.with_name(f"{spec.name}:{spec.variant}")  # results say which file scored them
        if spec.is_test_fixture and not allow_test_fixtures:
            raise ModelError(f"{given} is a random-weight test fixture, not a detector; refused")
        if spec.name in specs:
            raise ModelError(f"two models are named {spec.name!r}; import one under another name")
        specs[spec.name] = spec
        # A path is kept absolute so a resume from another folder finds the same model.
        requested[spec.name] = str(Path(given).resolve()) if Path(given).exists() else str(given)
    return specs, requested


class _Run:
    """One run's state while `analyze` drives it."""

    def __init__(self, store: CaseStore, job: AnalysisJob, home: Path, progress: Progress | None,
                 cancelled: Callable[[], bool]) -> None:
        self.store, self.job, self.home, self.progress, self.cancelled = store, job, home, progress, cancelled
        self.run_id: int | None = None
        self.feeder: Feeder | None = None

    # -- setting up --------------------------------------------------------------------
    def prepare(self) -> Iterator[Any]:
        job, store = self.job, self.store
        if job.resume:
            resumable = [run for run in store.list_runs() if run.status in ("interrupted", "cancelled", "failed")]
            if not resumable:
                raise CaseError("no cancelled or interrupted run to resume in this case")
            run = resumable[-1]
            recorded = {model["name"]: model for model in run.models}
            self.job = job = job.restored(run.settings, tuple(recorded))
            given = tuple(model.get("requested_as") or name for name, model in recorded.items())
            self.specs, _ = _load_specs(given, self.home, True)
            for name, spec in self.specs.items():
                if recorded[name].get("sha256") not in (None, spec.onnx_sha256):
                    raise ModelError(f"model {name!r} changed since run {run.id} started; start a new run instead")
            pending = store.pending_items(run.id)  # what resume_run will reopen
        else:
            if not job.models:
                raise ModelError("choose at least one model (--model NAME)")
            self.specs, requested = _load_specs(job.models, self.home, job.allow_test_fixtures)
            evidence_ids = list(dict.fromkeys(job.evidence_ids)) or [e.id for e in store.list_evidence()]
            if not evidence_ids:
                raise CaseError("the case holds no evidence yet (case add CASE PATH...)")
            pending = [(e, name) for e in evidence_ids for name in self.specs]
        job.check(tuple(self.specs))
        per_evidence: dict[int, list[str]] = {}
        for evidence_id, name in pending:
            per_evidence.setdefault(evidence_id, []).append(name)
        self.work = [(store.get_evidence(eid), tuple(names)) for eid, names in sorted(per_evidence.items())]
        self.states = {evidence.id: _EvidenceState(models) for evidence, models in self.work}
        self.judges = {name: spec.meaning.judges for name, spec in self.specs.items()}
        # Decoding starts now, so the first frames are ready when the sessions are.
        self.feed: "queue.Queue[Any]" = queue.Queue(maxsize=max(4, job.batch_size))
        self.feeder = Feeder(self.work, self.specs, frames_per_clip=job.frames_per_clip, face_mode=job.face_mode,
                             face_margin=job.face_margin, yunet_path=job.yunet_path, out=self.feed)
        self.feeder.decoding = Feeder.decoding_for(planned_provider(job.provider))
        self.feeder.start()
        self.runners = {name: self._runner(spec) for name, spec in self.specs.items()}
        on_cpu = all(runner.provider == "cpu" for runner in self.runners.values())
        self.feeder.decoding = Feeder.decoding_for("cpu" if on_cpu else "gpu")
        provider = ",".join(sorted({runner.provider for runner in self.runners.values()}))
        notes = tuple(sorted({r.info.fallback_reason for r in self.runners.values() if r.info.fallback_reason})) + tuple(
            f"{name}: {describe_quantization(spec.extras['quantization'])}"
            for name, spec in self.specs.items() if "quantization" in spec.extras)
        if job.resume:
            self.run_id = run.id
            store.resume_run(run.id)
        else:
            models = [{**spec.provenance(), "requested_as": requested[name], "provider": self.runners[name].provider,
                       "providers": list(self.runners[name].info.providers),
                       "fallback_reason": self.runners[name].info.fallback_reason,
                       "overlay_method": self._overlay_method(name)} for name, spec in self.specs.items()]
            self.run_id = store.start_run(models, job.settings(), provider, evidence_ids)
        yield RunStarted(self.run_id, tuple(self.specs), provider, len(pending), notes)

    def _runner(self, spec: ModelSpec) -> ModelRunner:
        if self.job.explain:
            runner = open_attention_runner(spec, cache_dir(self.home), self.job.provider, batch_size=self.job.batch_size)
            if runner is not None:
                return runner
        return ModelRunner(spec, self.job.provider, batch_size=self.job.batch_size)

    def _overlay_method(self, name: str) -> str | None:
        if not self.job.explain:
            return None
        return ROLLOUT if isinstance(self.runners[name], AttentionRunner) else OCCLUSION

    # -- the loop ------------------------------------------------------------------------
    def loop(self) -> Iterator[Any]:
        job, feed = self.job, self.feed
        batches: dict[str, list[tuple[Region, np.ndarray]]] = {name: [] for name in self.specs}
        total, finished, feeding = len(self.work), 0, True
        while True:
            if self.cancelled():
                return "cancelled"
            # Wait for more regions only while a full batch is not ready and the decoder has
            # something queued; an idle model with regions in hand runs them now.
            waiting = any(batches.values()) and feed.empty()
            if feeding and not waiting and not any(len(items) >= job.batch_size for items in batches.values()):
                try:
                    message = feed.get(timeout=0.2)
                except queue.Empty:
                    continue  # look at is_cancelled() again while the decoder works
                if message is END:
                    feeding = False
                else:
                    failure = self._take(message, batches)
                    if failure is not None:
                        finished += 1
                        yield failure
                        self._report(finished, total, f"evidence {failure.evidence_id}: {failure.message}")
            else:
                for name, items in batches.items():
                    if items and not self.cancelled():
                        chunk, batches[name] = items[: job.batch_size], items[job.batch_size :]
                        yield from self._score(name, chunk)
            for evidence_id in [eid for eid, state in self.states.items() if state.complete]:
                yield from self._finish_evidence(evidence_id, self.states.pop(evidence_id))
                finished += 1
                self._report(finished, total, f"evidence {evidence_id} done")
            if not feeding and not self.states and not any(batches.values()):
                return "completed"

    def _report(self, done: int, total: int, message: str) -> None:
        if self.progress:
            self.progress(done, total, message)

    def _take(self, message: tuple, batches: dict[str, list[tuple[Region, np.ndarray]]]) -> ItemFailed | None:
        kind, evidence_id = message[0], message[1]
        state = self.states[evidence_id]
        if kind == "regions":
            _, _, regions, pixels = message
            for name in state.models:
                batches[name].extend(zip(regions, pixels[name]))
                state.outstanding[name] = state.outstanding.get(name, 0) + len(regions)
            return None
        if kind == "decoded":
            state.decoded, state.outcome = True, message[2]
            return None
        _, _, stage, text = message
        self.store.record_item_error(self.run_id, evidence_id, stage, text)
        for name in batches:
            batches[name] = [(r, p) for r, p in batches[name] if r.evidence_id != evidence_id]
        del self.states[evidence_id]
        return ItemFailed(self.run_id, evidence_id, None, stage, text)

    def _score(self, name: str, chunk: list[tuple[Region, np.ndarray]]) -> Iterator[Any]:
        runner, spec = self.runners[name], self.specs[name]
        pixels = np.stack([p for _, p in chunk])
        maps = None
        try:
            if isinstance(runner, AttentionRunner):
                logits, maps = runner.logits_and_rollout(pixels, self.job.discard_ratio)
            else:
                logits = runner.logits_from_pixels(pixels)
            predictions = runner.predictions_from_logits(logits)
            message = ""
        except EngineError as exc:
            predictions, message = None, str(exc)
        except Exception as exc:  # onnxruntime raises its own types on bad input shapes and the like
            predictions, message = None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        if predictions is None:
            for evidence_id in sorted({region.evidence_id for region, _ in chunk}):
                state = self.states.get(evidence_id)
                if state is not None and name not in state.failed_models:
                    state.failed_models.add(name)
                    self.store.record_item_error(self.run_id, evidence_id, "inference", message, model=name)
                    yield ItemFailed(self.run_id, evidence_id, name, "inference", message)
        keep_for_occlusion = self.job.explain and maps is None and predictions is not None
        for index, (region, region_pixels) in enumerate(chunk):
            state = self.states.get(region.evidence_id)
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
            if maps is not None and len(maps):
                overlay = Overlay(ROLLOUT, name, spec.onnx_sha256, maps[index], region.box, spec.preprocess,
                                  region.frame_size, {"discard_ratio": self.job.discard_ratio,
                                                      "track_id": region.track_id, "kind": region.kind})
                state.overlays.setdefault(name, []).append((region.frame_index, overlay))
            elif keep_for_occlusion:
                state.kept_pixels.setdefault(name, []).append((region, region_pixels))

    # -- finishing an evidence item ------------------------------------------------------------
    def _occlusion_overlays(self, name: str, state: _EvidenceState) -> list[tuple[int, Overlay]]:
        kept = state.kept_pixels.pop(name, [])
        if not kept:
            return []
        runner, spec = self.runners[name], self.specs[name]
        authenticity = spec.meaning.is_authenticity
        target = "manipulated" if authenticity else "top"
        rows = {(row["frame_index"], row["track_id"]): row for row in state.rows.get(name, [])}

        def suspicion(item: tuple[Region, np.ndarray]) -> float:
            row = rows[(item[0].frame_index, item[0].track_id)]
            return row["p_manipulated"] if authenticity else max(row["probabilities"].values())

        overlays = []
        for region, pixels in sorted(kept, key=suspicion, reverse=True)[: self.job.occlusion_top_k]:
            grid = occlusion_map(score_function(runner, target), pixels, batch_size=self.job.batch_size,
                                 is_cancelled=self.cancelled)
            overlays.append((region.frame_index, Overlay(
                OCCLUSION, name, spec.onnx_sha256, grid, region.box, spec.preprocess, region.frame_size,
                {"target": target, "track_id": region.track_id, "kind": region.kind})))
        return overlays

    def _finish_evidence(self, evidence_id: int, state: _EvidenceState) -> Iterator[Any]:
        store, run_id = self.store, self.run_id
        for name in state.models:
            if name in state.failed_models:
                continue
            rows = state.rows.get(name, [])
            overlays = state.overlays.pop(name, []) + self._occlusion_overlays(name, state)
            with store.transaction():  # the item, its frames and its overlays land together or not at all
                for frame_index, overlay in overlays:
                    store.add_overlay(run_id, evidence_id, frame_index, **overlay.case_fields())
                store.add_results(run_id, rows, complete=(evidence_id, name))
            yield ItemScored(run_id, evidence_id, name, len(rows), len(overlays))
        outcome = state.outcome.to_dict() if state.outcome else {}
        context: dict[str, Any] = {"outcome": outcome, "face_mode": self.job.face_mode}
        if outcome.get("frames") and self.job.face_mode == FaceMode.ONLY.value and not outcome.get("faces"):
            context["empty_reason"] = "no face found"
        settings = self.job.verdict
        verdicts = compute_verdicts(store.results(run_id, evidence_id), self.judges, settings, context)
        with store.transaction():
            for verdict in verdicts:
                store.set_verdict(run_id, evidence_id, verdict.model, verdict.score, settings.rule,
                                  settings.to_dict()["params"], settings.threshold, verdict.label,
                                  {**verdict.details, "margin": settings.margin})
        yield EvidenceVerdicts(run_id, evidence_id, tuple(verdicts))

    def stop_feeder(self) -> None:
        if self.feeder is not None:
            self.feeder.stop.set()
            self.feeder.join(timeout=30)


def analyze(job: AnalysisJob, progress: Progress | None = None,
            is_cancelled: Callable[[], bool] | None = None) -> Iterator[Any]:
    """Run the analysis; yields RunStarted, ItemScored, ItemFailed, EvidenceVerdicts, RunFinished."""
    store = CaseStore.open(job.case_path, actor=job.actor)
    run = _Run(store, job, app_home(job.home), progress, is_cancelled or (lambda: False))
    try:
        yield from run.prepare()
        try:
            status = yield from run.loop()
        except Cancelled:
            status = "cancelled"
        run.stop_feeder()
        finished = store.finish_run(run.run_id, status)
        yield RunFinished(run.run_id, status, finished.items_done, finished.items_failed)
    except BaseException as exc:
        if run.run_id is not None and not store.closed:
            # Abandoned by its consumer or interrupted: resumable, not a failure of the run.
            status = "cancelled" if isinstance(exc, (GeneratorExit, KeyboardInterrupt)) else "failed"
            try:
                store.finish_run(run.run_id, status)
            except EngineError:
                pass
        raise
    finally:
        run.stop_feeder()
        store.close()
