"""ModelRunner: batching choices and results that do not depend on them."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import ModelError
from engine.models.inference import LARGE_INPUT_PIXELS, ModelRunner
from engine.models.loader import ModelOverrides, load_model
from tests.engine.conftest import make_linear_classifier


def _spec(tmp_path, size):
    path = make_linear_classifier(tmp_path / f"m{size}.onnx", size=size)
    return load_model(path, overrides=ModelOverrides(labels=["real", "fake"], preprocess="hf", input_size=size))


def test_large_inputs_run_one_at_a_time_on_the_cpu_with_the_same_results(tmp_path):
    small = ModelRunner(_spec(tmp_path, 8), "cpu", threads=1, batch_size=8)
    assert small.batch_size == 8
    big_spec = _spec(tmp_path, 320)
    assert 320 * 320 > LARGE_INPUT_PIXELS
    big = ModelRunner(big_spec, "cpu", threads=1, batch_size=8)  # one lane: the large-input rule
    assert big.batch_size == 1 and big.requested_batch_size == 8
    pixels = np.random.default_rng(0).normal(size=(5, 3, 320, 320)).astype(np.float32)
    together = big.session.run(None, {big_spec.input_name: pixels})[0]
    np.testing.assert_allclose(big.logits_from_pixels(pixels), together, rtol=1e-6, atol=1e-6)


def test_non_finite_or_misshapen_outputs_are_refused_not_stored(tmp_path):
    runner = ModelRunner(_spec(tmp_path, 8), "cpu")
    good = np.array([[0.1, 0.9], [2.0, -1.0]], np.float32)
    assert len(runner.predictions_from_logits(good)) == 2
    for bad in (np.array([[np.nan, 0.0], [1.0, 2.0]], np.float32), np.array([[np.inf, 0.0]], np.float32)):
        with pytest.raises(ModelError, match="non-finite"):
            runner.predictions_from_logits(bad)
    with pytest.raises(ModelError, match="shape"):
        runner.predictions_from_logits(np.zeros((2, 3, 4), np.float32))


def test_a_nan_producing_model_fails_its_items_in_a_run(tmp_path, monkeypatch):
    from engine.case import CaseStore
    from engine.analysis.events import ItemFailed
    from engine.analysis.job import AnalysisJob
    from tests.engine.conftest import IMAGES, MODELS, analyze

    real = ModelRunner.logits_from_pixels
    monkeypatch.setattr(ModelRunner, "logits_from_pixels",
                        lambda self, pixels, *a, **k: real(self, pixels, *a, **k) * np.nan)
    case_path = str(tmp_path / "c.dfwcase")
    with CaseStore.create(case_path, "T", "E") as store:
        store.add_evidence(IMAGES / "rgb_640x480.jpg")
    events = list(analyze(case_path, AnalysisJob(models=(str(MODELS / "vit_optimum"),), provider="cpu",
                                                 allow_test_fixtures=True), home=str(tmp_path)))
    failed = [e for e in events if isinstance(e, ItemFailed)]
    assert len(failed) == 1 and "non-finite" in failed[0].message
    assert events[-1].items_failed == 1 and events[-1].items_done == 0


def test_one_lane_batches_follow_each_runtime_by_input_size(tmp_path):
    from engine.models.inference import one_lane_cpu_batch

    at = {size: _spec(tmp_path, size) for size in (224, 384, 512)}
    assert [one_lane_cpu_batch(at[s], 8) for s in (224, 384, 512)] == [8, 1, 1]
    assert [one_lane_cpu_batch(at[s], 8, openvino=True) for s in (224, 384, 512)] == [8, 8, 1]
