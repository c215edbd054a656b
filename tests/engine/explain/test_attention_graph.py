"""Graph surgery: attention outputs, unchanged logits, the cache, and models without attention."""

from __future__ import annotations

import json
import os

import numpy as np
import onnx
import pytest

from engine.errors import ModelError
from engine.explain.attention_graph import attention_model_path, find_attention_softmax
from engine.explain.attention_runner import check_attention, open_attention_runner
from engine.util.hashing import sha256_file
from engine.models.inference import ModelRunner
from engine.models.loader import ModelOverrides, load_model
from engine.models.preprocess import preprocess
from engine.media.image import load_image
from tests.engine.conftest import IMAGES, MODELS, make_linear_classifier


@pytest.mark.parametrize("folder,variant", [("vit_optimum", None), ("siglip_optimum", None), ("timm_vit", None),
                                            ("vit_quality_tfjs", "quantized")])
def test_augmented_model_keeps_logits_and_adds_one_output_per_layer(tmp_path, folder, variant):
    spec = load_model(MODELS / folder, variant=variant)
    plain = ModelRunner(spec, "cpu", batch_size=1)
    runner = open_attention_runner(spec, tmp_path, "cpu", batch_size=1)
    assert runner is not None and runner.graph.layers == 2
    images = ["rgb_640x480.jpg", "gray_257x129.png", "tiny_17x31.png"]
    pixels = np.stack([preprocess(load_image(IMAGES / name).rgb, spec.preprocess) for name in images])
    logits, attention = runner.logits_and_attention(pixels)
    assert np.array_equal(logits, plain.logits_from_pixels(pixels))
    assert np.array_equal(runner.logits_from_pixels(pixels), logits)
    tokens = attention[0].shape[1]
    assert all(a.shape == (3, tokens, tokens) for a in attention)
    assert np.allclose(attention[1].sum(axis=-1), 1.0, atol=1e-6)


def test_softmax_search_ignores_a_classifier_softmax(tmp_path):
    from onnx import TensorProto, helper

    weight = helper.make_tensor("W", TensorProto.FLOAT, [3, 2], np.ones(6, dtype=np.float32))
    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["x"], ["pooled"], axes=[2, 3], keepdims=0),
         helper.make_node("MatMul", ["pooled", "W"], ["scores"]),
         helper.make_node("Softmax", ["scores"], ["probs"], axis=-1)],
        "head", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", 3, 8, 8])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["b", 2])], initializer=[weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    assert find_attention_softmax(model) == []
    vit = onnx.load(str(MODELS / "vit_optimum" / "model.onnx"))
    assert [node.name for node in find_attention_softmax(vit)] == [
        "/inner/vit/layers.0/attention/Softmax", "/inner/vit/layers.1/attention/Softmax"]


def test_cache_is_reused_and_rebuilt_for_another_source_hash(tmp_path):
    spec = load_model(MODELS / "timm_vit")
    first = attention_model_path(spec.onnx_path, spec.onnx_sha256, tmp_path)
    assert first.path.name == f"{spec.onnx_sha256}-attn.onnx"
    assert sha256_file(first.path) == first.sha256
    stored = onnx.load(str(first.path))
    assert {p.key: p.value for p in stored.metadata_props}["dfw.attention.source_sha256"] == spec.onnx_sha256
    os.utime(first.path, ns=(1_000_000_000, 1_000_000_000))
    before = first.path.stat()
    second = attention_model_path(spec.onnx_path, spec.onnx_sha256, tmp_path)
    after = second.path.stat()
    assert second == first
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)
    # A record written for another source (same file name, tampered hash) is not trusted.
    record_path = tmp_path / f"{spec.onnx_sha256}-attn.json"
    record = json.loads(record_path.read_text())
    record_path.write_text(json.dumps({**record, "source_sha256": "0" * 64}))
    rebuilt = attention_model_path(spec.onnx_path, spec.onnx_sha256, tmp_path)
    assert rebuilt.path.stat().st_mtime_ns != before.st_mtime_ns
    assert json.loads(record_path.read_text())["source_sha256"] == spec.onnx_sha256
    # A changed source (another hash) gets its own copy; the first stays.
    other = attention_model_path(spec.onnx_path, "f" * 64, tmp_path)
    assert other.path.name == "f" * 64 + "-attn.onnx" and other.path.is_file() and first.path.is_file()
    # float32 outputs are a separate cache entry.
    small = attention_model_path(spec.onnx_path, spec.onnx_sha256, tmp_path, precision="float32")
    assert small.path != first.path and small.precision == "float32"


def test_model_without_attention_falls_back(tmp_path):
    onnx_path = make_linear_classifier(tmp_path / "linear.onnx", size=8)
    spec = load_model(onnx_path, overrides=ModelOverrides(labels=["real", "fake"], preprocess="hf", input_size=8))
    cache = tmp_path / "cache"
    assert open_attention_runner(spec, cache, "cpu") is None
    record = json.loads((cache / f"{spec.onnx_sha256}-attn.json").read_text())
    assert record["output_names"] == [] and not (cache / f"{spec.onnx_sha256}-attn.onnx").exists()
    assert attention_model_path(spec.onnx_path, spec.onnx_sha256, cache) is None  # from the record


def test_external_data_model_gets_its_own_weights_file(tmp_path):
    source = onnx.load(str(MODELS / "timm_vit" / "model.onnx"))
    folder = tmp_path / "ext"
    folder.mkdir()
    onnx.save_model(source, str(folder / "model.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="model.onnx.data", size_threshold=0)
    digest = sha256_file(folder / "model.onnx")
    graph = attention_model_path(folder / "model.onnx", digest, tmp_path / "cache")
    assert graph is not None and (tmp_path / "cache" / f"{digest}-attn.onnx.data").is_file()
    spec = load_model(MODELS / "timm_vit")
    pixels = preprocess(load_image(IMAGES / "rgb_640x480.jpg").rgb, spec.preprocess)[None]
    import onnxruntime as ort

    session = ort.InferenceSession(str(graph.path), providers=["CPUExecutionProvider"])
    logits, *attention = session.run(None, {spec.input_name: pixels})
    assert np.array_equal(logits, ModelRunner(spec, "cpu").logits_from_pixels(pixels))
    assert len(attention) == 2


def test_unreadable_model_and_unwritable_cache_are_model_errors(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="cannot read bad.onnx"):
        attention_model_path(bad, "a" * 64, tmp_path / "cache")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    spec = load_model(MODELS / "timm_vit")
    with pytest.raises(ModelError, match="cache folder"):
        attention_model_path(spec.onnx_path, spec.onnx_sha256, blocker / "cache")


def test_attention_outputs_are_checked_at_run_time():
    good = np.full((2, 5, 5), 0.2)
    check_attention([good, good], 2)
    with pytest.raises(ModelError, match="shape"):
        check_attention([good, np.full((2, 5, 4), 0.25)], 2)
    with pytest.raises(ModelError, match="not a probability"):
        check_attention([np.ones((2, 5, 5))], 2)
