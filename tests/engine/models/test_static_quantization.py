"""Static INT8 (QDQ): every MatMul converted, attention included, with activation ranges from
the tuning images only; `models quantize` tries both methods and keeps the faster that passes."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

import engine.models.quantize as quantize
import engine.models.static as static
from engine.models.loader import load_model
from engine.models.mixed import held_back_split
from engine.models.pixelset import PixelSet
from engine.models.quantize import QuantizeRecipe, Thresholds, quantize_stored_model
from engine.models.store import ModelStore
from tests.engine.conftest import MODELS
from tests.engine.models.sensitive import scenes

LOOSE = Thresholds(min_top1_agreement=0.0, max_abs_delta_p=0.2)


def _matmul_inputs_quantized(path) -> tuple[int, int]:
    """(MatMuls whose both inputs come from DequantizeLinear, MatMuls in all)."""
    graph = onnx.load(str(path)).graph
    made_by = {out: node.op_type for node in graph.node for out in node.output}
    matmuls = [n for n in graph.node if n.op_type == "MatMul"]
    both = sum(all(made_by.get(i) == "DequantizeLinear" for i in n.input) for n in matmuls)
    return both, len(matmuls)


def test_static_quantization_converts_attention_matmuls_with_ranges_from_the_tuning_images(tmp_path, monkeypatch):
    spec = load_model(str(MODELS / "vit_optimum"))
    images = scenes(12)
    split = held_back_split(len(images))
    seen: list[np.ndarray] = []
    real = static._tune_batches

    def watched(pixels, indices):
        for batch in real(pixels, indices):
            seen.append(batch)
            yield batch

    monkeypatch.setattr(static, "_tune_batches", watched)
    with PixelSet(spec, images) as pixels:
        target = static.quantize_static_onnx(spec.onnx_path, tmp_path / "static.onnx", pixels, split.tune,
                                             spec.input_name)
        every = np.concatenate([np.load(p) for p in pixels.chunks])
    both, total = _matmul_inputs_quantized(target)
    weights_only = sum(1 for n in onnx.load(str(spec.onnx_path)).graph.node if n.op_type == "MatMul")
    assert total == weights_only and both == total  # attention's activation × activation MatMuls too
    # The calibrator saw exactly the tuning images, and none of the held-back ones.
    assert len(seen) == len(split.tune)
    for batch, index in zip(seen, split.tune):
        assert np.array_equal(batch[0], every[index])


def test_auto_tries_both_methods_and_keeps_the_faster_that_passes(tmp_path, monkeypatch):
    store = ModelStore(tmp_path / "home")
    store.import_model(MODELS / "siglip_optimum", "sig", allow_test_fixture=True)
    speeds = {}

    def fake_speed(path, *args, **kwargs):
        kind = "static" if any(n.op_type == "QuantizeLinear" for n in onnx.load(str(path)).graph.node) else "dynamic"
        speeds[kind] = {"static": 50.0, "dynamic": 40.0}[kind]
        return speeds[kind]

    monkeypatch.setattr(quantize, "images_per_second", fake_speed)
    outcome = quantize_stored_model(store, "sig", scenes(12), source="scenes", thresholds=LOOSE)
    figures = outcome.figures
    assert set(figures["choice"]) == {"dynamic", "static"} and speeds == {"static": 50.0, "dynamic": 40.0}
    assert figures["quantization_method"] == "static" and figures["method"].startswith("onnxruntime.quantize_static")
    stored = store.load("sig", "int8").onnx_path
    assert any(n.op_type == "QuantizeLinear" for n in onnx.load(str(stored)).graph.node)
    assert not [p for p in stored.parent.iterdir() if ".quantizing" in p.name]  # the other method's file is gone


@pytest.mark.parametrize("method", ["dynamic", "static"])
def test_one_method_can_be_asked_for(tmp_path, method):
    store = ModelStore(tmp_path / "home")
    store.import_model(MODELS / "vit_optimum", "vit", allow_test_fixture=True)
    outcome = quantize_stored_model(store, "vit", scenes(9), source="scenes", thresholds=LOOSE,
                                    recipe=QuantizeRecipe(method=method))
    assert list(outcome.figures["choice"]) == [method] and outcome.figures["quantization_method"] == method
