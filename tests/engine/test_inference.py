"""ModelRunner: batching choices and results that do not depend on them."""

from __future__ import annotations

import numpy as np

from engine.inference import LARGE_INPUT_PIXELS, ModelRunner
from engine.models.loader import ModelOverrides, load_model
from tests.engine.conftest import make_linear_classifier


def _spec(tmp_path, size):
    path = make_linear_classifier(tmp_path / f"m{size}.onnx", size=size)
    return load_model(path, overrides=ModelOverrides(labels=["real", "fake"], preprocess="hf", input_size=size))


def test_large_inputs_run_one_at_a_time_on_the_cpu_with_the_same_results(tmp_path):
    small = ModelRunner(_spec(tmp_path, 8), "cpu", batch_size=8)
    assert small.batch_size == 8
    big_spec = _spec(tmp_path, 320)
    assert 320 * 320 > LARGE_INPUT_PIXELS
    big = ModelRunner(big_spec, "cpu", batch_size=8)
    assert big.batch_size == 1 and big.requested_batch_size == 8
    pixels = np.random.default_rng(0).normal(size=(5, 3, 320, 320)).astype(np.float32)
    together = big.session.run(None, {big_spec.input_name: pixels})[0]
    np.testing.assert_allclose(big.logits_from_pixels(pixels), together, rtol=1e-6, atol=1e-6)
