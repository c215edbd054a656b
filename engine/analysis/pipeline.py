"""Analysis: evidence → frames → faces → batched inference for every model → overlays → case → verdicts.

`run_analysis(store, job, home, progress, is_cancelled)` runs on a case that is already
open for writing (the `Case` of engine.api owns it) and is a generator of typed events
(engine.analysis.events), so the CLI prints them and the GUI's engine thread turns them into
signals; it knows nothing of either. A feeder thread decodes, detects faces and preprocesses
pixels into a bounded queue while the calling thread runs the models, so a video run is
limited by inference, not by the decoder. Each item (evidence × model) is committed with its
overlays in one transaction when it completes; a bad item is recorded as that item's error
and the run goes on; cancelling stops within one batch and keeps everything finished so far.
`resume` finishes only the items a cancelled or interrupted run left pending, with that
run's own settings and models (planning.py).

With `explain`, models whose graph exposes attention run through a copy of the graph that
also returns head-averaged attention, so every region gets an attention-rollout overlay for
little more than the cost of inference; other models get occlusion maps for their top-k
most suspicious regions.
"""

from __future__ import annotations

import contextlib
import os
import queue
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from engine.analysis.events import (
    EvidenceVerdicts, ItemFailed, ItemScored, RunEvent, RunFinished, RunProgress, RunStarted,
)
from engine.analysis.feeder import END, Feeder
from engine.analysis.itemstate import ItemState
from engine.analysis.job import AnalysisJob
from engine.analysis.planning import RunPlan, expected_frames, plan_run, run_model_record
from engine.analysis.resume import same_face_detector
from engine.analysis.regions import Region
from engine.analysis.turns import CpuTurns, should_take_turns
from engine.analysis.judgement import store_verdicts
from engine.case import CaseStore
from engine.errors import Cancelled, EngineError
from engine.explain import AttentionRunner, Overlay, occlusion_map, open_attention_runner, score_function
from engine.models.inference import ModelRunner, Prediction
from engine.models.quantize import describe_quantization
from engine.models.runtime import planned_provider
from engine.models.spec import ModelSpec
from engine.paths import cache_dir
from engine.util.progress import IsCancelled, Progress, never_cancelled
from engine.util.text import first_line
from engine.vocab import FailureStage, FaceMode, OverlayMethod, RunStatus

Batch = list[tuple[Region, np.ndarray]]


class _Run:
    """One run's state while `run_analysis` drives it."""

    def __init__(self, store: CaseStore, plan: RunPlan, home: Path, progress: Progress | None,
                 cancelled: IsCancelled) -> None:
        self.store, self.plan, self.job, self.home = store, plan, plan.job, home
        self.specs = plan.specs
        self.progress, self.cancelled = progress, cancelled
        self.run_id: int | None = None
        self.feeder: Feeder | None = None
        self.frames_total = sum(expected_frames(evidence, self.job.frames_per_clip) for evidence, _ in plan.work)
        self.frames_finished = 0  # frames of items already finished or failed
        self.names = {evidence.id: os.path.basename(evidence.path_given) for evidence, _ in plan.work}
        self.turns = CpuTurns()  # decoding waits for inference when they would share too few cores

    # -- setting up --------------------------------------------------------------------
    def start(self) -> RunStarted:
        job, plan = self.job, self.plan
        self.states = {evidence.id: self._state(evidence, models) for evidence, models in plan.work}
        self.judges = {name: spec.meaning.judges for name, spec in self.specs.items()}
        # Decoding starts now, so the first frames are ready when the sessions are.
        self.feed: "queue.Queue[Any]" = queue.Queue(maxsize=max(4, job.batch_size))
        imported = (self.home, job.face_detector, job.face_detector_sha256) if job.face_detector else None
        feeder = Feeder(plan.work, self.specs, frames_per_clip=job.frames_per_clip, face_mode=job.face_mode,
                        face_margin=job.face_margin, yunet_path=job.yunet_path, out=self.feed,
                        yunet_sha256=job.yunet_sha256, face_detector=imported,
                        skip_through={e: point.through_frame for e, point in plan.resume_from.items()},
                        turns=self.turns)
        if plan.resume_of is not None:  # before the feeder is kept: a refused resume starts no thread
            same_face_detector(plan.resume_of, feeder.detector_record)
        self.feeder = feeder
        self.feeder.decoding = Feeder.decoding_for(planned_provider(job.provider))
        self.feeder.start()
        self.runners = {name: self._runner(spec) for name, spec in self.specs.items()}
        on_cpu = all(runner.provider == "cpu" for runner in self.runners.values())
        self.feeder.decoding = Feeder.decoding_for("cpu" if on_cpu else "gpu")
        threads = max(runner.info.threads * runner.info.lanes for runner in self.runners.values())
        self.turns.enabled = should_take_turns(on_cpu, threads, self.feeder.decoding.workers)
        provider = ",".join(sorted({runner.provider for runner in self.runners.values()}))
        notes = tuple(sorted({r.info.fallback_reason for r in self.runners.values() if r.info.fallback_reason})) + tuple(
            f"{name}: {describe_quantization(spec.extras['quantization'])}"
            for name, spec in self.specs.items() if "quantization" in spec.extras)
        if plan.resume_of is not None:
            self.run_id = plan.resume_of.id
            self.store.resume_run(self.run_id, keep=plan.resume_from)
        else:
            models = [run_model_record(spec, plan.requested[name], self._runner_record(name))
                      for name, spec in self.specs.items()]
            evidence_ids = [evidence.id for evidence, _ in plan.work]
            settings = {**job.settings(), "face_detection": self.feeder.detector_record}
            self.run_id = self.store.start_run(models, settings, provider, evidence_ids)
        self._checkpointing()
        return RunStarted(self.run_id, tuple(self.specs), provider, plan.items, notes, self.frames_total,
                          resumed=plan.resume_of is not None, evidence=len(plan.work))

    def _state(self, evidence: Any, models: tuple[str, ...]) -> ItemState:
        state = ItemState(models, expected_frames(evidence, self.job.frames_per_clip))
        point = self.plan.resume_from.get(evidence.id)
        if point is not None:  # the frames a checkpoint holds count as scored and stored
            state.checkpoint, state.frames_scored = point, point.frames
        return state

    def _checkpointing(self) -> None:
        """Which items may be checkpointed (clips whose models need no occlusion pass), and what a
        resumed item already holds."""
        occluding = self.job.explain and any(not isinstance(r, AttentionRunner) for r in self.runners.values())
        for evidence_id, state in self.states.items():
            state.checkpointable = state.expected_frames > 1 and not occluding
            if state.checkpoint is not None:
                for name in state.models:
                    state.stored_rows[name], state.stored_overlays[name] = self.store.stored_counts(
                        self.run_id or 0, evidence_id, name)

    def _runner(self, spec: ModelSpec) -> ModelRunner:
        if self.job.explain:
            runner = open_attention_runner(spec, cache_dir(self.home), self.job.provider, batch_size=self.job.batch_size)
            if runner is not None:
                return runner
        return ModelRunner(spec, self.job.provider, batch_size=self.job.batch_size)

    def _runner_record(self, name: str) -> dict[str, Any]:
        runner = self.runners[name]
        method = None
        if self.job.explain:
            method = OverlayMethod.ROLLOUT if isinstance(runner, AttentionRunner) else OverlayMethod.OCCLUSION
        return {"provider": runner.provider, "providers": list(runner.info.providers),
                "fallback_reason": runner.info.fallback_reason, "overlay_method": method,
                "runtime": runner.info.runtime, "precision": runner.info.precision,
                "threads": runner.info.threads, "lanes": runner.info.lanes,
                "graph": runner.info.graph, "graph_sha256": runner.info.graph_sha256}

    # -- the loop ------------------------------------------------------------------------
    def loop(self) -> Iterator[RunEvent]:
        """Yields events until every item is done; then `self.status` says how the run ended."""
        job, feed = self.job, self.feed
        batches: dict[str, Batch] = {name: [] for name in self.specs}
        feeding = True
        while True:
            if self.cancelled():
                self.status = RunStatus.CANCELLED
                self._store_checkpoints(force=True)  # what is scored is kept for the resume
                return
            # Wait for more regions only while a full batch is not ready and the decoder has
            # something queued; an idle model with regions in hand runs them now. Taking turns
            # for the cores, the decoder is busy exactly while nothing is scored: wait for a
            # full batch, or a one-region batch would hand the cores back after every frame.
            waiting = any(batches.values()) and feed.empty() and not self.turns.enabled
            if feeding and not waiting and not any(len(items) >= job.batch_size for items in batches.values()):
                try:
                    message = feed.get(timeout=0.2)
                except queue.Empty:
                    continue  # look at is_cancelled() again while the decoder works
                if message is END:
                    feeding = False
                else:
                    yield from self._take(message, batches)
            else:
                # Every model's full batches in one turn (partial ones too once decoding is
                # over), so the decoders are not woken between two models' batches.
                with self.turns.inference():
                    for name, items in batches.items():
                        while items and not self.cancelled():
                            chunk, items = items[: job.batch_size], items[job.batch_size :]
                            batches[name] = items
                            yield from self._score(name, chunk)
                            if feeding and len(items) < job.batch_size:
                                break
                self._store_checkpoints()
                yield self._progress(*self._in_flight())
            for evidence_id in [eid for eid, state in self.states.items() if state.complete]:
                state = self.states.pop(evidence_id)
                yield from self._finish_evidence(evidence_id, state)
                self.frames_finished += state.expected_frames
                yield self._progress(evidence_id, f"evidence {evidence_id} done")
            if not feeding and not self.states and not any(batches.values()):
                self.status = RunStatus.COMPLETED
                return

    def _store_checkpoints(self, force: bool = False) -> None:
        assert self.run_id is not None
        for evidence_id, state in self.states.items():
            state.store_checkpoint(self.store, self.run_id, evidence_id, force)

    def _in_flight(self) -> tuple[int | None, str]:
        """The oldest item still being worked on, and its file name (what progress names)."""
        evidence_id = next(iter(self.states), None)
        return evidence_id, self.names.get(evidence_id, "") if evidence_id is not None else ""

    def _progress(self, evidence_id: int | None, message: str) -> RunProgress:
        in_flight = sum(min(s.frames_scored, s.expected_frames - 1) for s in self.states.values())
        done = min(self.frames_total, self.frames_finished + in_flight)
        if self.progress:
            self.progress(done, self.frames_total, message)
        return RunProgress(self.run_id or 0, done, self.frames_total, evidence_id, message)

    def _take(self, message: tuple, batches: dict[str, Batch]) -> Iterator[RunEvent]:
        kind, evidence_id = message[0], message[1]
        state = self.states[evidence_id]
        if kind == "regions":
            _, _, regions, pixels = message
            for name in state.models:
                batches[name].extend(zip(regions, pixels[name]))
                state.outstanding[name] = state.outstanding.get(name, 0) + len(regions)
            state.frame_sent(regions[0].frame_index, len(regions))  # a message holds one frame's regions
            return
        if kind == "decoded":
            state.decoded, state.outcome = True, message[2]
            return
        _, _, stage, text = message
        assert self.run_id is not None
        self.store.record_item_error(self.run_id, evidence_id, stage, text)
        for name in batches:
            batches[name] = [(r, p) for r, p in batches[name] if r.evidence_id != evidence_id]
        del self.states[evidence_id]
        self.frames_finished += state.expected_frames
        yield ItemFailed(self.run_id, evidence_id, None, FailureStage(stage), text)
        yield self._progress(evidence_id, f"evidence {evidence_id}: {text}")

    def _infer(self, name: str, pixels: np.ndarray) -> tuple[list[Prediction] | None, np.ndarray | None, str]:
        """Predictions (and rollout maps) for a batch, or None and why it failed."""
        runner = self.runners[name]
        try:
            maps = None  # run inside the loop's turn for the cores (see `loop`)
            if isinstance(runner, AttentionRunner):
                logits, maps = runner.logits_and_rollout(pixels, self.job.discard_ratio)
            else:
                logits = runner.logits_from_pixels(pixels)
            return runner.predictions_from_logits(logits), maps, ""
        except EngineError as exc:
            return None, None, str(exc)
        except Exception as exc:  # onnxruntime raises its own types on bad input shapes and the like
            return None, None, f"{type(exc).__name__}: {first_line(exc)}"

    def _score(self, name: str, chunk: Batch) -> Iterator[RunEvent]:
        assert self.run_id is not None
        predictions, maps, message = self._infer(name, np.stack([p for _, p in chunk]))
        if predictions is None:
            for evidence_id in sorted({region.evidence_id for region, _ in chunk}):
                state = self.states.get(evidence_id)
                if state is not None and name not in state.failed_models:
                    state.failed_models.add(name)
                    self.store.record_item_error(self.run_id, evidence_id, FailureStage.INFERENCE, message, model=name)
                    yield ItemFailed(self.run_id, evidence_id, name, FailureStage.INFERENCE, message)
        keep_for_occlusion = self.job.explain and maps is None and predictions is not None
        spec = self.specs[name]
        for index, (region, region_pixels) in enumerate(chunk):
            state = self.states.get(region.evidence_id)
            if state is None:
                continue
            state.outstanding[name] -= 1
            state.region_done(region.frame_index)
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
                overlay = Overlay(OverlayMethod.ROLLOUT, name, spec.onnx_sha256, maps[index], region.box,
                                  spec.preprocess, region.frame_size,
                                  {"discard_ratio": self.job.discard_ratio, "track_id": region.track_id,
                                   "kind": region.kind})
                state.overlays.setdefault(name, []).append((region.frame_index, overlay))
            elif keep_for_occlusion:
                state.kept_pixels.setdefault(name, []).append((region, region_pixels))

    # -- finishing an evidence item ------------------------------------------------------------
    def _occlusion_overlays(self, name: str, state: ItemState) -> list[tuple[int, Overlay]]:
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
            with self.turns.inference():
                grid = occlusion_map(score_function(runner, target), pixels, batch_size=self.job.batch_size,
                                     is_cancelled=self.cancelled)
            overlays.append((region.frame_index, Overlay(
                OverlayMethod.OCCLUSION, name, spec.onnx_sha256, grid, region.box, spec.preprocess,
                region.frame_size, {"target": target, "track_id": region.track_id, "kind": region.kind})))
        return overlays

    def _finish_evidence(self, evidence_id: int, state: ItemState) -> Iterator[RunEvent]:
        store, run_id = self.store, self.run_id
        assert run_id is not None
        for name in state.models:
            if name in state.failed_models:
                continue
            rows = state.rows.get(name, [])
            overlays = state.overlays.pop(name, []) + self._occlusion_overlays(name, state)
            with store.transaction():  # the item, its frames and its overlays land together or not at all
                for frame_index, overlay in overlays:
                    store.add_overlay(run_id, evidence_id, frame_index, **overlay.case_fields())
                store.add_results(run_id, rows, complete=(evidence_id, name))
            yield ItemScored(run_id, evidence_id, name, state.stored_rows.get(name, 0) + len(rows),
                             state.stored_overlays.get(name, 0) + len(overlays))
        outcome = state.outcome.to_dict() if state.outcome else {}
        context: dict[str, Any] = {"outcome": outcome, "face_mode": self.job.face_mode}
        if outcome.get("frames") and self.job.face_mode == FaceMode.ONLY and not outcome.get("faces"):
            context["empty_reason"] = "no face found"
        verdicts = store_verdicts(store, run_id, evidence_id, self.judges, self.job.verdict, context)
        yield EvidenceVerdicts(run_id, evidence_id, tuple(verdicts))

    def stop_feeder(self) -> None:
        if self.feeder is not None:
            self.feeder.stop.set()
            self.feeder.join(timeout=30)


def run_analysis(store: CaseStore, job: AnalysisJob, home: Path, progress: Progress | None = None,
                 is_cancelled: IsCancelled | None = None) -> Iterator[RunEvent]:
    """Run `job` on `store`, a case open for writing, which stays open.

    Yields RunStarted, then ItemScored, ItemFailed, EvidenceVerdicts and RunProgress as work
    completes, and RunFinished last. A consumer that stops iterating leaves the run cancelled
    (resumable); an exception leaves it failed (resumable too).
    """
    run = _Run(store, plan_run(store, job, home), home, progress, is_cancelled or never_cancelled)
    try:
        yield run.start()
        try:
            yield from run.loop()
        except Cancelled:
            run.status = RunStatus.CANCELLED
        run.stop_feeder()
        assert run.run_id is not None
        finished = store.finish_run(run.run_id, run.status)
        yield RunFinished(run.run_id, run.status, finished.items_done, finished.items_failed)
    except BaseException as exc:
        if run.run_id is not None and not store.closed:
            # Abandoned by its consumer or interrupted: resumable, not a failure of the run.
            status = RunStatus.CANCELLED if isinstance(exc, (GeneratorExit, KeyboardInterrupt)) else RunStatus.FAILED
            with contextlib.suppress(EngineError):
                if store.get_run(run.run_id).status == RunStatus.RUNNING:  # not once RunFinished was yielded
                    store.finish_run(run.run_id, status)
        raise
    finally:
        run.stop_feeder()
