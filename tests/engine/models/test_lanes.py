"""CPU lanes: one image per core at once gives the results a single batch gives, in order;
a cancel or an error in one lane stops the others; GPU sessions keep one lane."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from engine.errors import Cancelled, ModelError
from engine.models.inference import ModelRunner
from engine.models.lanes import run_in_lanes
from engine.models.loader import ModelOverrides, load_model
from engine.models.runtime import CPU, CUDA, run_batched
from tests.engine.conftest import MODELS, make_linear_classifier
from tests.engine.models.test_runtime import FakeOrt


class CountingSession:
    """Returns each image's pixel sum as its 'logit', so order and padding are visible."""

    def __init__(self, barrier: threading.Barrier | None = None, fail_at: int | None = None,
                 seconds: float = 0.0) -> None:
        self.shapes: list[tuple[int, ...]] = []
        self.lock = threading.Lock()
        self.barrier, self.fail_at, self.seconds = barrier, fail_at, seconds

    def run(self, names, feed):
        (batch,) = feed.values()
        with self.lock:
            self.shapes.append(batch.shape)
            calls = len(self.shapes)
        time.sleep(self.seconds)
        if self.barrier is not None:
            self.barrier.wait()  # two lanes must be inside run at the same time to pass
        if self.fail_at is not None and calls >= self.fail_at:
            raise ModelError("chunk failed")
        return [batch.reshape(len(batch), -1).sum(axis=1, keepdims=True)]


def _pixels(count: int) -> np.ndarray:
    return np.arange(count * 3 * 2 * 2, dtype=np.float32).reshape(count, 3, 2, 2)


def test_lanes_keep_image_order_and_pad_a_fixed_batch():
    pixels = _pixels(7)
    expected = pixels.reshape(7, -1).sum(axis=1, keepdims=True)
    session = CountingSession()
    (out,) = run_in_lanes(session, "x", pixels, lanes=3, step=2, fixed_batch=2)
    np.testing.assert_array_equal(out, expected)
    assert sorted(session.shapes) == [(2, 3, 2, 2)] * 4  # the last chunk of one image was padded to two


def test_lanes_really_run_at_once():
    session = CountingSession(barrier=threading.Barrier(2, timeout=10))
    (out,) = run_batched(session, "x", _pixels(4), 1, lanes=2)
    assert out.shape == (4, 1) and len(session.shapes) == 4


def test_a_cancel_stops_every_lane_before_its_next_image():
    session = CountingSession()
    with pytest.raises(Cancelled):
        run_in_lanes(session, "x", _pixels(40), lanes=2, step=1, is_cancelled=lambda: len(session.shapes) >= 3)
    assert 3 <= len(session.shapes) <= 4  # at most the image each lane already had in hand


def test_an_error_in_one_lane_is_raised_and_stops_the_others():
    session = CountingSession(fail_at=3)
    with pytest.raises(ModelError, match="chunk failed"):
        run_in_lanes(session, "x", _pixels(40), lanes=2, step=1)
    assert len(session.shapes) <= 4


def test_a_cpu_runner_runs_one_image_per_core_with_the_results_of_one_batch(tmp_path):
    path = make_linear_classifier(tmp_path / "m.onnx", size=16)
    spec = load_model(path, overrides=ModelOverrides(labels=["real", "fake"], preprocess="hf", input_size=16))
    lanes = ModelRunner(spec, "cpu", threads=2, batch_size=8)
    assert (lanes.info.lanes, lanes.info.threads, lanes.batch_size, lanes.requested_batch_size) == (2, 1, 1, 8)
    single = ModelRunner(spec, "cpu", threads=1, batch_size=8)
    assert (single.info.lanes, single.info.threads, single.batch_size) == (1, 1, 8)
    pixels = np.random.default_rng(0).normal(size=(9, 3, 16, 16)).astype(np.float32)
    np.testing.assert_allclose(lanes.logits_from_pixels(pixels), single.logits_from_pixels(pixels), rtol=1e-6, atol=1e-6)


def test_a_real_vit_gives_the_same_logits_in_lanes(tmp_path):
    spec = load_model(MODELS / "vit_optimum")
    pixels = np.random.default_rng(1).normal(size=(5, 3, *spec.input_size)).astype(np.float32)
    together = ModelRunner(spec, "cpu", threads=1).logits_from_pixels(pixels)
    np.testing.assert_allclose(ModelRunner(spec, "cpu", threads=2).logits_from_pixels(pixels), together, atol=1e-5)


def test_gpu_sessions_keep_one_lane_and_every_thread(tiny_onnx):
    spec = load_model(tiny_onnx, overrides=ModelOverrides(labels=["real", "fake"], preprocess="hf", input_size=8))
    on_gpu = ModelRunner(spec, "auto", threads=2, ort_module=FakeOrt([CUDA, CPU]))
    assert on_gpu.provider == "cuda" and (on_gpu.info.lanes, on_gpu.info.threads) == (1, 2)
    on_cpu = ModelRunner(spec, "auto", threads=2, ort_module=FakeOrt([CPU]))
    assert on_cpu.provider == "cpu" and (on_cpu.info.lanes, on_cpu.info.threads) == (2, 1)
    # concurrent runs must not each reserve a planned block
    assert not on_cpu.session.options.enable_mem_pattern and on_gpu.session.options.enable_mem_pattern


def test_an_interrupt_of_the_waiting_thread_stops_the_lanes_too(monkeypatch):
    import concurrent.futures

    session = CountingSession(seconds=0.005)  # 400 images take 1 s on two lanes
    real = concurrent.futures.Future.exception
    calls = []

    def interrupted(self, timeout=None):
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt  # as a second Ctrl-C does while the caller waits
        return real(self, timeout)

    monkeypatch.setattr(concurrent.futures.Future, "exception", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_in_lanes(session, "x", _pixels(400), lanes=2, step=1)
    assert len(session.shapes) <= 4  # each lane finished the image in hand, at most one more
