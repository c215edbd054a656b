"""Decoding and inference take turns for the cores on a CPU run with too few of them: neither
starts while the other runs, nothing waits forever, and the results are the same."""

from __future__ import annotations

import contextlib
import shutil
import threading
import time

import cv2

import engine.analysis.pipeline as pipeline
import engine.analysis.turns as turns
from engine.analysis.events import RunFinished
from engine.analysis.job import AnalysisJob
from engine.analysis.turns import CpuTurns, should_take_turns
from engine.case import CaseStore
from tests.engine.conftest import IMAGES, MODELS, analyze
from tests.engine.media.synth import face_image, make_face_clip


def _started(target) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_turns_are_taken_only_on_the_cpu_when_threads_outnumber_the_cpus():
    assert should_take_turns(True, 2, 2, cpus=2)
    assert not should_take_turns(True, 8, 4, cpus=16)  # hyperthreads to spare for the decoders
    assert not should_take_turns(False, 2, 2, cpus=2)  # inference on a GPU: keep overlapping


def test_disabled_turns_never_wait():
    shared = CpuTurns(enabled=False)
    with shared.inference():
        entered = threading.Event()
        thread = _started(lambda: (shared.decoding().__enter__(), entered.set()))
        assert entered.wait(5)
    thread.join(5)


def test_a_decode_step_waits_while_inference_holds_the_cores():
    shared = CpuTurns(enabled=True)
    order: list[str] = []

    def decode() -> None:
        with shared.decoding():
            order.append("decoded")

    with shared.inference():
        thread = _started(decode)
        time.sleep(0.2)
        order.append("inference over")
    thread.join(5)
    assert order == ["inference over", "decoded"]


def test_inference_lets_the_decode_steps_under_way_finish_first():
    shared = CpuTurns(enabled=True)
    order: list[str] = []
    in_step, finish = threading.Event(), threading.Event()

    def decode() -> None:
        with shared.decoding():
            in_step.set()
            finish.wait(5)
            order.append("step finished")

    thread = _started(decode)
    assert in_step.wait(5)

    def infer() -> None:
        with shared.inference():
            order.append("inference")

    inferring = _started(infer)
    time.sleep(0.2)
    assert order == []  # still waiting for the step
    finish.set()
    inferring.join(5)
    thread.join(5)
    assert order == ["step finished", "inference"]


def test_a_stopped_decoder_does_not_wait_and_a_stuck_one_does_not_stall_inference(monkeypatch):
    shared = CpuTurns(enabled=True)
    with shared.inference():
        done = threading.Event()
        stop = threading.Event()
        thread = _started(lambda: (shared.decoding(stop.is_set).__enter__(), done.set()))
        time.sleep(0.1)
        assert not done.is_set()
        stop.set()
        assert done.wait(5)  # a cancelled run never waits for its turn
    thread.join(5)

    monkeypatch.setattr(turns, "_DRAIN_TIMEOUT_S", 0.2)
    stuck, release = threading.Event(), threading.Event()

    def hang() -> None:
        with shared.decoding():
            stuck.set()
            release.wait(10)

    other = _started(hang)
    assert stuck.wait(5)
    start = time.perf_counter()
    with shared.inference():
        waited = time.perf_counter() - start
    release.set()
    other.join(5)
    assert 0.15 <= waited < 5


class _RecordingTurns(CpuTurns):
    """CpuTurns that notes when each held stretch really ran, on a shared list."""

    spans: list[tuple[str, float, float]] = []

    @contextlib.contextmanager
    def inference(self):
        with super().inference():
            start = time.perf_counter()
            try:
                yield
            finally:
                if self.enabled:
                    self.spans.append(("inference", start, time.perf_counter()))

    @contextlib.contextmanager
    def decoding(self, stopped=None):
        with super().decoding(stopped):
            start = time.perf_counter()
            try:
                yield
            finally:
                if self.enabled:
                    self.spans.append(("decoding", start, time.perf_counter()))


def _results(case_path, turns_on, monkeypatch, home):
    monkeypatch.setattr(pipeline, "should_take_turns", lambda *args, **kwargs: turns_on)
    monkeypatch.setattr(pipeline, "CpuTurns", _RecordingTurns)
    _RecordingTurns.spans = []
    job = AnalysisJob(models=(str(MODELS / "vit_optimum"), str(MODELS / "timm_vit")), provider="cpu",
                      allow_test_fixtures=True, frames_per_clip=12, face_mode="auto", batch_size=4)
    events = list(analyze(case_path, job, home=home))
    assert isinstance(events[-1], RunFinished) and events[-1].status == "completed"
    with CaseStore.open(case_path, readonly=True) as store:
        rows = [(r.evidence_id, r.model, r.frame_index, r.track_id, r.box, round(r.p_manipulated, 6))
                for r in store.results(events[-1].run_id)]
    return sorted(rows, key=repr), list(_RecordingTurns.spans)


def test_a_run_taking_turns_never_overlaps_decoding_with_inference_and_scores_the_same(tmp_path, monkeypatch):
    folder = tmp_path / "evidence"
    folder.mkdir()
    clip = make_face_clip(folder / "faces.mp4", n_frames=40, fps=10.0)
    cv2.imwrite(str(folder / "face.png"), face_image())
    shutil.copy(IMAGES / "rgb_640x480.jpg", folder / "photo.jpg")
    case_path = str(tmp_path / "case.dfwcase")
    with CaseStore.create(case_path, "Turns", "Ann") as store:
        for path in (clip, folder / "face.png", folder / "photo.jpg"):
            store.add_evidence(path)
    home = tmp_path / "home"

    overlapped, overlapped_spans = _results(case_path, False, monkeypatch, home)
    taking_turns, spans = _results(case_path, True, monkeypatch, home)

    assert taking_turns == overlapped and len(taking_turns) > 12  # the same rows, boxes and scores
    assert overlapped_spans == []  # turns were not taken
    inference = [(start, end) for kind, start, end in spans if kind == "inference"]
    decoding = [(start, end) for kind, start, end in spans if kind == "decoding"]
    assert len(inference) >= 3 and len(decoding) >= 12
    clashes = [(d, i) for d in decoding for i in inference if d[0] < i[1] and i[0] < d[1]]
    assert clashes == []
