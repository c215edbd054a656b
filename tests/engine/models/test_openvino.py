"""OpenVINO's CPU plugin as a second runtime: the same logits as onnxruntime fp32 in f32, the
precision that really compiled read back, and the bf16 variant gated, stored without a new
file, loaded, run and refused like an INT8 variant."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

import engine.models.openvino_variant as openvino_variant
from engine.errors import ModelError
from engine.models.inference import ModelRunner
from engine.models.loader import load_model
from engine.models.openvino_runtime import build_openvino_session, cpu_has_bf16, openvino_module
from engine.models.preprocess import preprocess_batch
from engine.models.quantize import Thresholds
from engine.models.runtime import build_session, run_batched
from engine.models.store import MANIFEST, ModelStore
from engine.util.hashing import sha256_file
from tests.engine.conftest import IMAGES, MODELS, fixture_images
from tests.engine.models.sensitive import build_sensitive_model, scenes

VARIANT = openvino_variant.VARIANT


@pytest.fixture
def store(tmp_path) -> ModelStore:
    store = ModelStore(tmp_path / "home")
    store.import_model(MODELS / "vit_optimum", "vit", allow_test_fixture=True)
    return store


def _logits(session, spec, pixels) -> np.ndarray:
    (logits,) = run_batched(session, spec.input_name, pixels, 4, output_names=[spec.output_name])
    return logits


@pytest.mark.parametrize("fixture", ["vit_optimum", "siglip_optimum", "timm_vit"])
def test_openvino_f32_gives_onnxruntime_fp32_logits(fixture):
    spec = load_model(MODELS / fixture)
    pixels = preprocess_batch(fixture_images()[:6], spec.preprocess)
    session, info = build_openvino_session(spec.onnx_path, "f32")
    reference, _ = build_session(spec.onnx_path, "cpu")
    assert info.runtime.startswith("openvino ") and info.precision == "f32" and info.provider == "cpu"
    assert info.fallback_reason is None
    np.testing.assert_allclose(_logits(session, spec, pixels), _logits(reference, spec, pixels), atol=2e-4, rtol=1e-4)


def test_bf16_is_what_really_compiled_or_the_fallback_is_said():
    spec = load_model(MODELS / "vit_optimum")
    session, info = build_openvino_session(spec.onnx_path, "bf16")
    if cpu_has_bf16():
        assert info.precision == "bf16" and info.fallback_reason is None
    else:
        assert info.precision == "f32" and "compiled f32" in info.fallback_reason
    pixels = preprocess_batch(fixture_images()[:4], spec.preprocess)
    reference, _ = build_session(spec.onnx_path, "cpu")
    # bfloat16 keeps 8 bits of mantissa: close to fp32, not equal to it.
    np.testing.assert_allclose(_logits(session, spec, pixels), _logits(reference, spec, pixels), atol=0.05)


def test_an_unknown_precision_and_a_broken_file_are_clear_errors(tmp_path):
    with pytest.raises(ModelError, match="unknown OpenVINO precision 'int4'"):
        build_openvino_session(MODELS / "vit_optimum" / "model.onnx", "int4")
    broken = tmp_path / "model.onnx"
    broken.write_bytes(b"not a graph")
    with pytest.raises(ModelError, match="OpenVINO cannot load model.onnx"):
        build_openvino_session(broken, "f32")


def test_a_missing_openvino_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "openvino", None)  # import openvino now raises ImportError
    with pytest.raises(ModelError, match=r'not installed; install it with `pip install -e "\.\[openvino\]"`'):
        openvino_module()


def test_the_bf16_variant_is_gated_stored_without_a_new_file_and_runs_on_openvino(store):
    images = fixture_images()
    folder = store.get("vit").folder
    before = {path.name: sha256_file(path) for path in folder.iterdir() if path.name != MANIFEST}
    files_before = json.loads((folder / MANIFEST).read_text())["files"]
    if not cpu_has_bf16():  # a CPU without AMX or AVX-512 BF16: refused up front, nothing recorded
        with pytest.raises(ModelError, match="no bf16 support on this CPU"):
            openvino_variant.make_openvino_variant(store, "vit", images, source="fixture images")
        assert VARIANT not in store.get("vit").manifest.get("quantization", {})
        return
    outcome = openvino_variant.make_openvino_variant(store, "vit", images, source="fixture images")
    figures = outcome.figures
    assert outcome.accepted and outcome.variant == VARIANT and outcome.relative_path == "model.onnx"
    assert figures["runtime"] == "openvino" and figures["compiled_precision"] == "bf16"
    assert figures["held_back"]["images"] + figures["tune"]["images"] == len(images)
    assert figures["choice"][VARIANT]["images_per_second"] > 0
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["files"] == files_before and VARIANT in manifest["variants"]
    assert {path.name: sha256_file(path) for path in folder.iterdir() if path.name != MANIFEST} == before

    spec = store.load("vit", VARIANT)
    assert spec.variant == VARIANT and spec.onnx_path == store.load("vit").onnx_path
    runner = ModelRunner(spec, "auto")
    assert runner.info.runtime.startswith("openvino") and runner.info.precision == "bf16"
    assert runner.ran_on.startswith("cpu (openvino ") and runner.ran_on.endswith(", bf16)")
    fp32 = ModelRunner(store.load("vit"), "cpu")
    assert fp32.ran_on == "cpu" and fp32.info.runtime.startswith("onnxruntime ")
    got, want = runner.predict(images), fp32.predict(images)
    assert max(abs(a.p_manipulated - b.p_manipulated) for a, b in zip(got, want)) <= figures["max_abs_delta_p"] + 1e-6
    with pytest.raises(ModelError, match="runs on the CPU through OpenVINO, not on cuda"):
        ModelRunner(spec, "cuda")


def test_a_changed_base_file_refuses_the_bf16_variant_too(store, monkeypatch):
    monkeypatch.setattr(openvino_variant, "cpu_has_bf16", lambda core=None: True)
    monkeypatch.setattr(openvino_variant, "build_openvino_session", _f32_as_if_bf16)
    openvino_variant.make_openvino_variant(store, "vit", fixture_images(), source="fixture images")
    onnx_file = store.get("vit").folder / "model.onnx"
    onnx_file.write_bytes(onnx_file.read_bytes() + b"\0")
    with pytest.raises(ModelError, match="model.onnx"):
        store.load("vit", VARIANT)


def _f32_as_if_bf16(path, precision="bf16", threads=None):
    """For machines without bf16 units: an f32 session that reports bf16, so the storing and
    refusing paths are checked everywhere (the real bf16 path is checked above where it exists)."""
    session, info = build_openvino_session(path, "f32", threads=threads)
    info.precision = "bf16"
    return session, info


def test_a_variant_below_the_gate_is_refused_and_nothing_is_recorded(tmp_path, monkeypatch):
    images = scenes(24)
    spec = load_model(MODELS / "vit_optimum")
    store = ModelStore(tmp_path / "home")
    store.import_model(build_sensitive_model(tmp_path / "sensitive", preprocess_batch(images, spec.preprocess)),
                       "sensitive", allow_test_fixture=True)
    monkeypatch.setattr(openvino_variant, "cpu_has_bf16", lambda core=None: True)
    monkeypatch.setattr(openvino_variant, "build_openvino_session", _f32_as_if_bf16)
    manifest = (store.get("sensitive").folder / MANIFEST).read_bytes()
    # f32 on OpenVINO differs from onnxruntime by rounding only: a gate tighter than that refuses.
    strict = Thresholds(min_top1_agreement=1.0, max_abs_delta_p=0.0)
    with pytest.raises(ModelError, match="OpenVINO bf16 results of 'sensitive' disagree with fp32: tuning images"):
        openvino_variant.make_openvino_variant(store, "sensitive", images, source="scenes", thresholds=strict)
    assert (store.get("sensitive").folder / MANIFEST).read_bytes() == manifest
    outcome = openvino_variant.make_openvino_variant(store, "sensitive", images, source="scenes", thresholds=strict,
                                                     force=True)
    assert outcome.forced and not outcome.accepted
    assert store.load("sensitive", VARIANT).extras["quantization"]["forced"] is True


def test_no_bf16_units_refuses_up_front(store, monkeypatch):
    monkeypatch.setattr(openvino_variant, "cpu_has_bf16", lambda core=None: False)
    with pytest.raises(ModelError, match="no bf16 support on this CPU"):
        openvino_variant.make_openvino_variant(store, "vit", fixture_images(), source="fixture images")
    assert VARIANT not in store.get("vit").manifest.get("quantization", {})


def test_real_bf16_is_refused_on_a_head_with_a_tiny_decision_margin(tmp_path):
    images = scenes(24)
    spec = load_model(MODELS / "vit_optimum")
    store = ModelStore(tmp_path / "home")
    store.import_model(build_sensitive_model(tmp_path / "sensitive", preprocess_batch(images, spec.preprocess)),
                       "sensitive", allow_test_fixture=True)
    # bf16 rounds the head's inputs to 8 bits of mantissa: verdicts near the margin flip.
    expected = "disagree with fp32: tuning images" if cpu_has_bf16() else "no bf16 support on this CPU"
    with pytest.raises(ModelError, match=expected):
        openvino_variant.make_openvino_variant(store, "sensitive", images, source="scenes")
    assert VARIANT not in store.get("sensitive").manifest.get("quantization", {})


def test_models_quantize_to_openvino_bf16_command(tmp_path):
    from tests.engine.conftest import run_main

    home = tmp_path / "home"
    assert run_main("models", "import", str(MODELS / "vit_optimum"), "--name", "vit", "--allow-test-fixture",
                    home=home).returncode == 0
    made = run_main("models", "quantize", "vit", "--images", str(IMAGES), "--to", VARIANT, home=home)
    if not cpu_has_bf16():
        assert made.returncode == 2 and "no bf16 support on this CPU" in made.stderr
        return
    assert made.returncode == 0, made.stderr
    assert f"variant {VARIANT!r} (model.onnx) stored" in made.stdout and "BF16 OpenVINO made variant" in made.stdout
    assert f"use it with --variant {VARIANT}" in made.stdout
    scored = run_main("score", "--model", f"vit:{VARIANT}", str(IMAGES / "rgb_640x480.jpg"), home=home)
    assert scored.returncode == 0, scored.stderr
    assert "ran on cpu (openvino " in scored.stdout and ", bf16)" in scored.stdout
