"""Fused-attention scoring graphs: the same numbers as PyTorch, made and used only when safe."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from engine.errors import ModelError
from engine.explain.attention_runner import open_attention_runner
from engine.media.image import load_image
from engine.models import attention_fusion, inference
from engine.models.attention_fusion import make_fused_graph
from engine.models.inference import ModelRunner
from engine.models.loader import load_model
from engine.models.scoring_graph import FUSED_FILE
from engine.models.store import MANIFEST, ModelStore
from engine.util.hashing import sha256_file
from tests.engine.conftest import IMAGES, MODELS, REFERENCE, save_graph

# (fixture folder, layout of its attention): every seed export pattern
FIXTURES = [("vit_optimum", "transformers ViT"), ("vit_quality_tfjs", "transformers ViT, patch 32"),
            ("siglip_optimum", "transformers SigLIP"), ("timm_vit", "timm, packed qkv")]


def _fused(spec, tmp_path):
    target = tmp_path / "fused.onnx"
    outcome = make_fused_graph(spec.onnx_path, target, input_name=spec.input_name, output_name=spec.output_name,
                               input_size=spec.input_size, fixed_batch=spec.fixed_batch)
    return outcome, target


@pytest.mark.parametrize("folder, layout", FIXTURES)
def test_fused_graph_scores_like_pytorch(tmp_path, folder, layout):
    spec = load_model(MODELS / folder)
    outcome, target = _fused(spec, tmp_path)
    assert outcome.blocks == 2, (layout, outcome.reason)  # both layers of every fixture
    assert outcome.max_abs_delta_logit is not None and outcome.max_abs_delta_logit <= 1e-5
    ops = [node.op_type for node in onnx.load(str(target)).graph.node]
    assert ops.count("MultiHeadAttention") == 2 and "Softmax" not in ops
    fused = replace(spec, extras={**spec.extras, "fused_attention": {
        "path": str(target), "sha256": sha256_file(target), "blocks": outcome.blocks}})
    runner = ModelRunner(fused, "cpu", batch_size=4)
    assert runner.info.graph == "fused attention (2 blocks)" and runner.info.graph_sha256 == sha256_file(target)
    expected = json.loads((REFERENCE / f"{folder}.json").read_text())
    names = sorted(expected["images"])
    logits = runner.logits([load_image(IMAGES / name).rgb for name in names])
    for name, row, prediction in zip(names, logits, runner.predictions_from_logits(logits)):
        want = expected["images"][name]
        np.testing.assert_allclose(row, want["logits"], atol=1e-4, rtol=0, err_msg=f"{folder} {name}")
        np.testing.assert_allclose(prediction.probabilities, want["probs"], atol=1e-5, rtol=0,
                                   err_msg=f"{folder} {name}")


def test_attention_of_another_layout_is_left_as_exported(tmp_path):
    """Self-attention without projections or heads (Softmax(X·Xᵀ)·X) matches no known layout."""
    x = helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch", 3, 4, 4])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 2])
    shape = helper.make_tensor("shape", TensorProto.INT64, [3], [0, 3, 16])
    nodes = [
        helper.make_node("Reshape", ["pixel_values", "shape"], ["tokens"]),
        helper.make_node("Transpose", ["tokens"], ["tokens_t"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["tokens", "tokens_t"], ["scores"]),
        helper.make_node("Softmax", ["scores"], ["weights"], axis=-1),
        helper.make_node("MatMul", ["weights", "tokens"], ["mixed"]),
        helper.make_node("ReduceMean", ["mixed"], ["pooled"], axes=[2], keepdims=0),
        helper.make_node("Slice", ["pooled", "zero", "two", "one"], ["logits"]),
    ]
    inits = [shape, helper.make_tensor("zero", TensorProto.INT64, [1], [0]),
             helper.make_tensor("two", TensorProto.INT64, [1], [2]), helper.make_tensor("one", TensorProto.INT64, [1], [1])]
    source = save_graph(helper.make_graph(nodes, "plain", [x], [y], inits), tmp_path / "plain.onnx")
    target = tmp_path / "fused.onnx"
    outcome = make_fused_graph(source, target, input_name="pixel_values", output_name="logits", input_size=(4, 4))
    assert outcome.blocks == 0 and outcome.reason == "0 of 1 attention blocks match a known layout"
    assert not target.exists() and not list(tmp_path.glob("tmp*.onnx"))  # no optimiser leftovers


def test_a_rewrite_that_changes_the_logits_is_refused(tmp_path, monkeypatch):
    real = attention_fusion.match_block

    def wrong_scale(graph, softmax):
        block = real(graph, softmax)
        return None if block is None else replace(block, scale=block.scale * 3)

    monkeypatch.setattr(attention_fusion, "match_block", wrong_scale)
    outcome, target = _fused(load_model(MODELS / "vit_optimum"), tmp_path)
    assert outcome.blocks == 0 and outcome.reason.startswith("the fused graph's logits differ by")
    assert outcome.max_abs_delta_logit is not None and outcome.max_abs_delta_logit > 1e-4
    assert not target.exists()


@pytest.fixture
def store(tmp_path):
    store = ModelStore(tmp_path / "home")
    store.import_model(MODELS / "timm_vit", "timm", allow_test_fixture=True)
    return store


def test_import_keeps_a_checked_fused_graph_that_cpu_scoring_loads(store):
    stored = store.get("timm")
    record = stored.manifest["fused_attention"]["default"]
    assert record["blocks"] == 2 and record["file"] == FUSED_FILE
    assert stored.manifest["files"][FUSED_FILE]["sha256"] == record["sha256"] == sha256_file(stored.folder / FUSED_FILE)
    spec = store.load("timm")
    assert record["made_from"] == spec.onnx_sha256
    assert store.verify("timm").ok  # the fused file is part of the folder, not an unexpected one
    runner = ModelRunner(spec, "cpu", batch_size=2)
    assert runner.info.graph == "fused attention (2 blocks)" and runner.info.graph_sha256 == record["sha256"]
    exported = ModelRunner(spec, "cpu", batch_size=2, onnx_path=str(spec.onnx_path))
    assert exported.info.graph == "exported" and exported.info.graph_sha256 is None
    pixels = np.random.default_rng(3).standard_normal((3, 3, *spec.input_size)).astype(np.float32)
    np.testing.assert_allclose(runner.logits_from_pixels(pixels), exported.logits_from_pixels(pixels), atol=1e-5)


def test_attention_overlays_keep_the_exported_graph(store, tmp_path):
    runner = open_attention_runner(store.load("timm"), tmp_path / "cache", "cpu", batch_size=2)
    assert runner is not None and runner.info.graph == "exported"  # the Softmax outputs it reads exist only there


def test_a_changed_fused_graph_is_refused(store):
    path = store.get("timm").folder / FUSED_FILE
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ModelError, match=f"{FUSED_FILE}.*changed since import"):
        store.load("timm")
    assert not store.verify("timm").ok


def test_a_graph_fused_by_another_onnxruntime_is_not_used(store):
    manifest_path = store.get("timm").folder / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["fused_attention"]["default"]["onnxruntime"] = "0.0.1"
    manifest_path.write_text(json.dumps(manifest))
    spec = store.load("timm")
    assert "fused_attention" not in spec.extras
    assert ModelRunner(spec, "cpu").info.graph == "exported"


def test_gpu_sessions_keep_the_exported_graph(store, monkeypatch):
    opened = []
    monkeypatch.setattr(inference, "planned_provider", lambda preference, ort_module=None: "cuda")
    monkeypatch.setattr(inference, "build_lane_session",
                        lambda path, *args, **kwargs: opened.append(str(path)) or (None, inference.SessionInfo(
                            "cuda", ("CUDAExecutionProvider",), ("CUDAExecutionProvider",))))
    spec = store.load("timm")
    inference.open_session(spec, "cuda")
    assert opened == [str(spec.onnx_path)]


def test_a_fused_graph_that_does_not_load_falls_back_to_the_exported_one(store, monkeypatch):
    real = inference.build_lane_session

    def refuse_fused(path, *args, **kwargs):
        if str(path).endswith(FUSED_FILE):
            raise ModelError("onnxruntime cannot load dfw_fused_attention.onnx: no MultiHeadAttention kernel")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(inference, "build_lane_session", refuse_fused)
    runner = ModelRunner(store.load("timm"), "cpu")
    assert runner.info.graph.startswith("exported (the fused graph did not load: onnxruntime cannot load")
    assert runner.info.graph_sha256 is None
