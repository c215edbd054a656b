"""Model folders in every layout → ModelSpec, and each kind of bad model refused in one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from engine.errors import ModelError
from engine.models.loader import ModelOverrides, find_variants, load_model
from engine.util.hashing import sha256_file
from tests.engine.conftest import FIXTURES, MODELS, make_linear_classifier, save_graph


def test_optimum_layout():
    spec = load_model(MODELS / "vit_optimum")
    assert spec.layout == "optimum"
    assert spec.architecture == "ViTForImageClassification"
    assert spec.labels == ("Real", "Fake")
    assert spec.activation == "softmax"
    assert spec.meaning.is_authenticity and spec.meaning.manipulated_indices == (1,)
    assert spec.input_size == (224, 224)
    assert spec.preprocess.family == "hf" and spec.preprocess.resample == 2
    assert spec.onnx_sha256 == sha256_file(MODELS / "vit_optimum" / "model.onnx")
    assert spec.is_test_fixture
    assert spec.extras["softmax_nodes"] == 2


def test_transformers_js_layout_and_variants():
    folder = MODELS / "vit_quality_tfjs"
    assert set(find_variants(folder / "onnx")) == {"default", "quantized"}
    spec = load_model(folder)
    assert spec.layout == "transformers.js"
    assert spec.onnx_path == folder / "onnx" / "model.onnx"
    assert spec.variants == ("default", "quantized")
    # A deepfake-quality grader: every label names a deepfake, none names real media.
    assert not spec.meaning.is_authenticity
    assert spec.p_manipulated(np.array([[0.3, 0.7]])) is None
    quantized = load_model(folder, variant="quantized")
    assert quantized.onnx_sha256 != spec.onnx_sha256
    with pytest.raises(ModelError, match="no 'fp16' variant; it has default, quantized"):
        load_model(folder, variant="fp16")


def test_siglip_label_order_reversed():
    spec = load_model(MODELS / "siglip_optimum")
    assert spec.labels == ("fake", "real")
    assert spec.meaning.manipulated_indices == (0,)
    assert spec.preprocess.resample == 3
    assert spec.p_manipulated(np.array([[0.9, 0.1]]))[0] == pytest.approx(0.9)


def test_timm_single_logit_means_fake():
    spec = load_model(MODELS / "timm_vit")
    assert spec.layout == "timm"
    assert spec.activation == "sigmoid"
    assert spec.labels == ("fake",)
    assert spec.preprocess.family == "timm"
    assert spec.preprocess.shortest_edge == int(96 / 0.875)
    probs = spec.probabilities(np.array([[2.0]]))
    assert spec.p_manipulated(probs)[0] == pytest.approx(1 / (1 + np.exp(-2.0)))


def test_checkpoint_folder_points_to_export():
    with pytest.raises(ModelError, match="PyTorch checkpoint.*models export"):
        load_model(FIXTURES / "checkpoints" / "vit_optimum")


def test_bare_onnx_needs_labels_and_preprocessing(tiny_onnx):
    with pytest.raises(ModelError, match="bare ONNX file: give its labels"):
        load_model(tiny_onnx)
    with pytest.raises(ModelError, match="--preprocess"):
        load_model(tiny_onnx, overrides=ModelOverrides(labels=["real", "fake"]))
    spec = load_model(tiny_onnx, overrides=ModelOverrides(labels=["real", "fake"], preprocess="hf", input_size=8))
    assert spec.layout == "bare" and spec.input_size == (8, 8)
    assert spec.meaning.manipulated_indices == (1,)


def test_input_size_must_match_the_graph(tiny_onnx):
    with pytest.raises(ModelError, match="makes 224×224 images but the ONNX input is 8×8"):
        load_model(tiny_onnx, overrides=ModelOverrides(labels=["real", "fake"], preprocess="hf", input_size=224))


def _folder_with(tmp_path: Path, onnx_path: Path, config: dict | None, processor: bool = True) -> Path:
    folder = tmp_path / "model"
    folder.mkdir(exist_ok=True)
    shutil.copy(onnx_path, folder / "model.onnx")
    if config is not None:
        (folder / "config.json").write_text(json.dumps(config))
    if processor:
        (folder / "preprocessor_config.json").write_text(json.dumps({"size": {"height": 8, "width": 8}}))
    return folder


def test_not_an_onnx_file(tmp_path):
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"this is a text file, not a model\n" * 20)
    folder = _folder_with(tmp_path, fake, {"id2label": {"0": "real", "1": "fake"}})
    with pytest.raises(ModelError, match="not a readable ONNX model"):
        load_model(folder)


def test_truncated_onnx(tmp_path):
    source = make_linear_classifier(tmp_path / "whole.onnx")
    data = source.read_bytes()
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(data[: len(data) // 2])
    folder = _folder_with(tmp_path, cut, {"id2label": {"0": "real", "1": "fake"}})
    with pytest.raises(ModelError, match="not a readable ONNX model|fails ONNX validation"):
        load_model(folder)


def test_empty_onnx(tmp_path):
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(ModelError, match="empty"):
        load_model(_folder_with(tmp_path, empty, {"id2label": {"0": "real", "1": "fake"}}))


def test_external_data_outside_folder_is_refused(tmp_path):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.zeros(6, dtype=np.float32).tobytes())
    folder = tmp_path / "model"
    folder.mkdir()
    model = onnx.load(str(make_linear_classifier(tmp_path / "src.onnx")))
    weight = model.graph.initializer[0]
    weight.ClearField("raw_data")
    weight.ClearField("float_data")
    weight.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "../secret.bin"), ("offset", "0"), ("length", "24")):
        entry = weight.external_data.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(folder / "model.onnx"))
    (folder / "config.json").write_text(json.dumps({"id2label": {"0": "real", "1": "fake"}}))
    (folder / "preprocessor_config.json").write_text(json.dumps({"size": {"height": 8, "width": 8}}))
    with pytest.raises(ModelError, match=r"weights outside its folder \('../secret.bin'\); refused"):
        load_model(folder)


def test_input_not_rank_four(tmp_path):
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["logits"])], "flat",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 2])],
        initializer=[numpy_helper.from_array(np.ones((3, 2), dtype=np.float32), "W")],
    )
    path = save_graph(graph, tmp_path / "flat.onnx")
    with pytest.raises(ModelError, match="rank-2 input"):
        load_model(_folder_with(tmp_path, path, {"id2label": {"0": "real", "1": "fake"}}))


def test_config_without_labels(tmp_path, tiny_onnx):
    folder = _folder_with(tmp_path, tiny_onnx, {"model_type": "vit", "id2label": {"0": "LABEL_0", "1": "LABEL_1"}})
    with pytest.raises(ModelError, match="names no labels"):
        load_model(folder)


def test_label_count_differs_from_outputs(tmp_path, tiny_onnx):
    folder = _folder_with(tmp_path, tiny_onnx, {"id2label": {"0": "real", "1": "fake", "2": "other"}})
    with pytest.raises(ModelError, match="outputs 2 values but the config names 3 labels"):
        load_model(folder)


def test_ambiguous_labels_need_confirmation(tmp_path, tiny_onnx):
    folder = _folder_with(tmp_path, tiny_onnx, {"id2label": {"0": "class_a", "1": "class_b"}})
    with pytest.raises(ModelError, match="--manipulated-label"):
        load_model(folder)
    spec = load_model(folder, overrides=ModelOverrides(manipulated_labels=["class_b"]))
    assert spec.meaning.manipulated_indices == (1,) and spec.meaning.source == "stated by the user"
    other = load_model(folder, overrides=ModelOverrides(judges="other"))
    assert not other.meaning.is_authenticity


def test_missing_folder_and_odd_file(tmp_path):
    with pytest.raises(ModelError, match="no model at"):
        load_model(tmp_path / "nope")
    text = tmp_path / "notes.txt"
    text.write_text("x")
    with pytest.raises(ModelError, match="neither a model folder nor an .onnx file"):
        load_model(text)
    with pytest.raises(ModelError, match="no model.onnx found"):
        load_model(tmp_path)


@pytest.mark.parametrize("field, value, message", [
    ("image_mean", "x", "wrong form"),
    ("size", None, "wrong form"),
    ("image_std", [0, 0, 0], "std must not be zero"),
    ("image_mean", [float("nan"), 0.5, 0.5], "three finite numbers"),
    ("rescale_factor", -1, "rescale factor"),
    ("size", {"height": -4, "width": 8}, "positive whole numbers"),
])
def test_hostile_preprocessor_values_are_one_line_model_errors(tmp_path, tiny_onnx, field, value, message):
    folder = _folder_with(tmp_path, tiny_onnx, {"id2label": {"0": "real", "1": "fake"}})
    processor = {"size": {"height": 8, "width": 8}, field: value}
    (folder / "preprocessor_config.json").write_text(json.dumps(processor))
    with pytest.raises(ModelError, match=message):
        load_model(folder)


@pytest.mark.parametrize("edit", [
    lambda cfg: "x",
    lambda cfg: {**cfg, "input_size": "big"},
    lambda cfg: {**cfg, "crop_pct": -1},
])
def test_hostile_timm_configs_are_one_line_model_errors(tmp_path, edit):
    folder = tmp_path / "timm"
    shutil.copytree(MODELS / "timm_vit", folder)
    config = json.loads((folder / "config.json").read_text())
    config["pretrained_cfg"] = edit(config["pretrained_cfg"])
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError):
        load_model(folder)


def test_a_graph_taking_uint8_pixels_is_refused(tmp_path):
    graph = helper.make_graph(
        [helper.make_node("Cast", ["pixel_values"], ["f"], to=TensorProto.FLOAT),
         helper.make_node("ReduceMean", ["f"], ["pooled"], axes=[2, 3], keepdims=0),
         helper.make_node("MatMul", ["pooled", "W"], ["logits"])], "u8",
        [helper.make_tensor_value_info("pixel_values", TensorProto.UINT8, ["batch", 3, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 2])],
        initializer=[numpy_helper.from_array(np.ones((3, 2), dtype=np.float32), "W")],
    )
    path = save_graph(graph, tmp_path / "u8.onnx")
    with pytest.raises(ModelError, match="UINT8 input"):
        load_model(_folder_with(tmp_path, path, {"id2label": {"0": "real", "1": "fake"}}))
