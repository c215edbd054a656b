"""The model store: copies (never links), manifests, verify, remove, nothing half-imported."""

from __future__ import annotations

import os

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from engine.errors import ModelError
from engine.models import store as store_module
from engine.models.loader import load_model
from engine.models.store import MANIFEST, ModelStore, resolve_model
from tests.engine.conftest import MODELS, save_graph


@pytest.fixture
def store(tmp_path):
    return ModelStore(tmp_path / "home")


def test_import_copies_and_loads_the_same(store):
    stored = store.import_model(MODELS / "vit_quality_tfjs", "quality", allow_test_fixture=True)
    assert stored.folder == store.root / "quality"
    for relative in stored.manifest["files"]:
        path = stored.folder / relative
        assert path.is_file() and not path.is_symlink()
    assert set(stored.manifest["files"]) >= {"onnx/model.onnx", "onnx/model_quantized.onnx", "config.json"}
    original = load_model(MODELS / "vit_quality_tfjs")
    loaded = store.load("quality")
    assert loaded.onnx_sha256 == original.onnx_sha256
    assert loaded.labels == original.labels and loaded.meaning == original.meaning
    assert loaded.name == "quality"
    assert store.load("quality", "quantized").variant == "quantized"
    assert [model.name for model in store.list()] == ["quality"]


def test_test_fixtures_are_refused_unless_allowed(store):
    with pytest.raises(ModelError, match="random-weight test fixture, not a detector"):
        store.import_model(MODELS / "vit_optimum")
    assert store.list() == []


def test_name_clash(store):
    store.import_model(MODELS / "vit_optimum", "m", allow_test_fixture=True)
    with pytest.raises(ModelError, match="already in the store"):
        store.import_model(MODELS / "siglip_optimum", "m", allow_test_fixture=True)
    assert store.load("m").architecture == "ViTForImageClassification"


def test_bad_names(store):
    for name in ("../escape", ".hidden", "a/b", ""):
        with pytest.raises(ModelError):
            store.import_model(MODELS / "vit_optimum", name or "/", allow_test_fixture=True)


def test_failed_copy_leaves_nothing(store, monkeypatch):
    calls = {"n": 0}
    real_copy = store_module._copy_hashed

    def failing_copy(source, target):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return real_copy(source, target)

    monkeypatch.setattr(store_module, "_copy_hashed", failing_copy)
    with pytest.raises(OSError):
        store.import_model(MODELS / "vit_optimum", "half", allow_test_fixture=True)
    assert list(store.root.iterdir()) == []


def test_verify_finds_changed_missing_and_unexpected(store):
    stored = store.import_model(MODELS / "timm_vit", "timm", allow_test_fixture=True)
    assert store.verify("timm").ok
    with open(stored.folder / "model.onnx", "r+b") as handle:
        handle.seek(100)
        handle.write(b"\x00\x01")
    os.remove(stored.folder / "config.json")
    (stored.folder / "extra.txt").write_text("x")
    check = store.verify("timm")
    assert not check.ok
    assert check.changed == ("model.onnx",)
    assert check.missing == ("config.json",)
    assert check.unexpected == ("extra.txt",)


def test_load_refuses_a_model_changed_since_import(store):
    stored = store.import_model(MODELS / "vit_optimum", "vit", allow_test_fixture=True)
    data = bytearray((stored.folder / "model.onnx").read_bytes())
    # Flip a bit inside the weights: still a valid graph, different model.
    data[-10] ^= 0x01
    (stored.folder / "model.onnx").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="changed since import"):
        store.load("vit")


def test_remove(store):
    store.import_model(MODELS / "vit_optimum", "gone", allow_test_fixture=True)
    store.remove("gone")
    assert store.list() == [] and not (store.root / "gone").exists()
    with pytest.raises(ModelError, match="no model named 'gone'"):
        store.remove("gone")


def test_bare_onnx_import_keeps_what_the_user_stated(store, tiny_onnx):
    from engine.models.loader import ModelOverrides

    overrides = ModelOverrides(labels=["authentic", "forged"], preprocess="hf", input_size=8)
    store.import_model(tiny_onnx, "bare", overrides=overrides)
    spec = store.load("bare")
    assert spec.labels == ("authentic", "forged") and spec.meaning.manipulated_indices == (1,)
    assert (store.root / "bare" / MANIFEST).is_file()


def test_resolve_by_name_or_path(store, tmp_path):
    store.import_model(MODELS / "vit_optimum", "vit", allow_test_fixture=True)
    home = store.root.parent
    assert resolve_model("vit", home).name == "vit"
    assert resolve_model(str(MODELS / "siglip_optimum"), home).labels == ("fake", "real")
    with pytest.raises(ModelError, match="neither an imported model"):
        resolve_model("nothing-here", home)


def _graph(tmp_path, *, domain: str = "", real_output_shape=None):
    """An 8×8 classifier declaring (batch, 2) logits; optionally its last step is an operator
    from an unknown `domain`, or it really returns `real_output_shape`."""
    nodes = [helper.make_node("ReduceMean", ["pixel_values"], ["pooled"], axes=[2, 3], keepdims=0),
             helper.make_node("MatMul", ["pooled", "W"], ["mm"])]
    initializers = [numpy_helper.from_array(np.ones((3, 2), np.float32), "W")]
    if domain:
        nodes.append(helper.make_node("Mystery", ["mm"], ["logits"], domain=domain))
    elif real_output_shape:
        nodes += [helper.make_node("Reshape", ["mm", "shape"], ["r"]),
                  helper.make_node("Expand", ["r", "full"], ["logits"])]
        initializers += [numpy_helper.from_array(np.array([1, 2, 1], np.int64), "shape"),
                         numpy_helper.from_array(np.array(real_output_shape, np.int64), "full")]
    else:
        nodes.append(helper.make_node("Identity", ["mm"], ["logits"]))
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch", 3, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 2])], initializer=initializers)
    return save_graph(graph, tmp_path / "g.onnx", (domain,) if domain else ())


def test_import_refuses_a_graph_onnxruntime_cannot_run(store, tmp_path):
    from engine.models.loader import ModelOverrides

    overrides = ModelOverrides(labels=["real", "fake"], preprocess="hf", input_size=8)
    with pytest.raises(ModelError, match="onnxruntime"):
        store.import_model(_graph(tmp_path, domain="com.example.secret"), "custom", overrides=overrides)
    with pytest.raises(ModelError, match="shape"):
        store.import_model(_graph(tmp_path, real_output_shape=[1, 2, 5]), "lying", overrides=overrides)
    assert store.list() == [] and not any(store.root.iterdir())
    store.import_model(_graph(tmp_path), "fine", overrides=overrides)
    assert [m.name for m in store.list()] == ["fine"]
