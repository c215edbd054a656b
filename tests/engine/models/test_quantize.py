"""INT8 variants: the agreement math, making and validating a variant, refusal, force, shipped variants."""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import pytest

from engine.errors import ModelError
from engine.util.hashing import sha256_file
from engine.models.inference import ModelRunner
from engine.models.calibration import calibration_from_paths
from engine.models.loader import load_model
from engine.models.quantize import (
    QuantizeRecipe,
    Thresholds,
    compare_logits,
    describe_quantization,
    quantize_onnx,
    quantize_stored_model,
)
from engine.models.store import MANIFEST, ModelStore
from tests.engine.conftest import IMAGES, MODELS, fixture_images, run_main
from tests.engine.media.synth import make_indexed_clip

LOOSE = Thresholds(min_top1_agreement=0.0, max_abs_delta_p=0.05)
# Quantization always moves a probability a little, so no variant can meet a zero bound.
IMPOSSIBLE = Thresholds(min_top1_agreement=1.0, max_abs_delta_p=0.0)


@pytest.fixture
def store(tmp_path) -> ModelStore:
    store = ModelStore(tmp_path / "home")
    store.import_model(MODELS / "vit_optimum", "vit", allow_test_fixture=True)
    store.import_model(MODELS / "vit_quality_tfjs", "quality", allow_test_fixture=True)
    return store


def _softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def test_agreement_math_for_an_authenticity_model():
    spec = load_model(MODELS / "vit_optimum")  # 0 Real, 1 Fake
    reference = np.array([[2.0, 0.0], [0.0, 1.0], [0.3, 0.1], [-1.0, 1.0]])
    candidate = np.array([[2.0, 0.1], [0.0, 1.2], [0.1, 0.3], [-1.0, 1.0]])  # image 2 flips
    agreement = compare_logits(spec, reference, candidate)
    expected_delta = np.abs(_softmax(candidate)[:, 1] - _softmax(reference)[:, 1]).max()
    assert agreement.images == 4
    assert agreement.top1_agreement == pytest.approx(0.75)
    assert agreement.disagreeing == (2,)
    assert agreement.delta_of == "p_manipulated"
    assert agreement.max_abs_delta_p == pytest.approx(expected_delta)
    assert not agreement.passes(Thresholds())
    assert agreement.passes(Thresholds(0.75, expected_delta + 1e-9))


def test_reversed_labels_use_the_fake_index():
    spec = load_model(MODELS / "siglip_optimum")  # 0 fake, 1 real
    reference = np.array([[1.0, 0.0], [0.0, 0.5]])
    candidate = np.array([[0.0, 1.0], [0.0, 0.7]])
    agreement = compare_logits(spec, reference, candidate)
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    # p(manipulated) is p(index 0) here: 0.731 → 0.269 for the first image.
    assert agreement.max_abs_delta_p == pytest.approx(sigmoid(1.0) - sigmoid(-1.0))
    assert agreement.top1_agreement == 0.5 and agreement.disagreeing == (0,)


def test_single_sigmoid_logit_top1_is_the_side_of_one_half():
    spec = load_model(MODELS / "timm_vit")  # one logit, sigmoid = p(fake)
    reference = np.array([[1.0], [-0.2], [0.05]])
    candidate = np.array([[1.1], [-0.3], [-0.05]])
    agreement = compare_logits(spec, reference, candidate)
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    assert agreement.top1_agreement == pytest.approx(2 / 3)
    assert agreement.disagreeing == (2,)
    assert agreement.max_abs_delta_p == pytest.approx(np.abs(sigmoid(candidate) - sigmoid(reference)).max())


def test_a_quality_model_is_judged_on_its_top1_probability():
    spec = load_model(MODELS / "vit_quality_tfjs")  # judges "other": no p(manipulated)
    reference = np.array([[1.0, 0.0], [0.0, 2.0]])
    candidate = np.array([[1.0, 0.5], [0.0, 1.0]])
    agreement = compare_logits(spec, reference, candidate)
    p_ref, p_cand = _softmax(reference), _softmax(candidate)
    assert agreement.delta_of == "top1_probability"
    assert agreement.top1_agreement == 1.0
    assert agreement.max_abs_delta_p == pytest.approx(max(abs(p_cand[0, 0] - p_ref[0, 0]), abs(p_cand[1, 1] - p_ref[1, 1])))


def test_quantize_onnx_writes_integer_matmuls(tmp_path):
    target = quantize_onnx(MODELS / "vit_optimum" / "model.onnx", tmp_path / "q.onnx")
    ops = {node.op_type for node in onnx.load(str(target)).graph.node}
    assert {"DynamicQuantizeLinear", "MatMulInteger"} & ops
    assert "Softmax" in ops  # attention probabilities stay exposed for overlays
    assert target.stat().st_size < (MODELS / "vit_optimum" / "model.onnx").stat().st_size


def test_made_variant_is_validated_stored_and_carried_by_the_spec(store):
    images = fixture_images()
    # Dynamic, named: `auto` keeps whichever method measures faster on the machine at hand.
    outcome = quantize_stored_model(store, "vit", images, source="fixture images", thresholds=LOOSE,
                                    recipe=QuantizeRecipe(method="dynamic"))
    assert (outcome.variant, outcome.origin, outcome.accepted, outcome.forced) == ("int8", "made", True, False)
    path = store.get("vit").folder / "model_int8.onnx"
    assert path.is_file()
    assert not list(path.parent.glob("*.partial"))
    # The stored figures are what running both models independently gives.
    fp32 = ModelRunner(store.load("vit", "default"), "cpu", batch_size=8)
    int8_spec = store.load("vit", "int8")
    int8 = ModelRunner(int8_spec, "cpu", batch_size=8)
    fp32_predictions, int8_predictions = fp32.predict(images), int8.predict(images)
    p32 = np.array([p.p_manipulated for p in fp32_predictions])
    p8 = np.array([p.p_manipulated for p in int8_predictions])
    top32 = [int(np.argmax(p.probabilities)) for p in fp32_predictions]
    top8 = [int(np.argmax(p.probabilities)) for p in int8_predictions]
    figures = int8_spec.extras["quantization"]
    assert figures["calibration"] == {"images": len(images), "source": "fixture images"}
    assert figures["max_abs_delta_p"] == pytest.approx(np.abs(p8 - p32).max(), abs=1e-6)
    assert figures["max_abs_delta_p"] > 0
    assert figures["top1_agreement"] == pytest.approx(np.mean(np.array(top32) == np.array(top8)))
    assert figures["disagreeing_images"] == [i for i, (a, b) in enumerate(zip(top32, top8)) if a != b]
    assert figures["sha256"] == sha256_file(path) == int8_spec.onnx_sha256
    assert figures["thresholds"] == {"min_top1_agreement": 0.0, "max_abs_delta_p": 0.05}
    assert figures["passed"] is True and figures["forced"] is False
    assert figures["method"] == "onnxruntime.quantize_dynamic" and figures["weight_type"] == "qint8"
    assert int8_spec.provenance()["quantization"]["sha256"] == figures["sha256"]
    assert store.verify("vit").ok
    assert "int8" in store.get("vit").manifest["variants"]


def test_below_thresholds_is_refused_and_nothing_is_kept(store):
    before = (store.get("vit").folder / MANIFEST).read_bytes()
    with pytest.raises(ModelError, match="disagrees with fp32.*refused and not kept"):
        quantize_stored_model(store, "vit", fixture_images(), source="fixture images", thresholds=IMPOSSIBLE)
    folder = store.get("vit").folder
    assert not (folder / "model_int8.onnx").exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".quantizing")]
    assert (folder / MANIFEST).read_bytes() == before
    assert store.verify("vit").ok


def test_force_keeps_a_failing_variant_marked_forced(store):
    outcome = quantize_stored_model(store, "vit", fixture_images(), source="fixture images",
                                    thresholds=IMPOSSIBLE, force=True)
    assert outcome.forced and not outcome.accepted
    figures = store.load("vit", "int8").extras["quantization"]
    assert figures["forced"] is True and figures["passed"] is False
    assert "FORCED" in describe_quantization(figures)


def test_the_folders_own_quantized_variant_is_validated_not_remade(store):
    shipped = store.get("quality").folder / "onnx" / "model_quantized.onnx"
    digest = sha256_file(shipped)
    outcome = quantize_stored_model(store, "quality", fixture_images(), source="fixture images", thresholds=LOOSE)
    assert (outcome.variant, outcome.origin, outcome.relative_path) == ("quantized", "shipped", "onnx/model_quantized.onnx")
    assert sha256_file(shipped) == digest  # taken as shipped, not rewritten
    assert not (shipped.parent / "model_int8.onnx").exists()
    figures = store.load("quality", "quantized").extras["quantization"]
    assert figures["origin"] == "shipped" and figures["delta_of"] == "top1_probability"
    assert figures["max_abs_delta_p"] > 0


def test_a_failing_shipped_variant_is_recorded_as_refused(store):
    with pytest.raises(ModelError, match="marked refused"):
        quantize_stored_model(store, "quality", fixture_images(), source="fixture images", thresholds=IMPOSSIBLE)
    figures = store.get("quality").manifest["quantization"]["quantized"]
    assert figures["passed"] is False and figures["forced"] is False
    assert "refused" in describe_quantization(figures)
    # A variant that failed its check is never loaded for scoring unless it was forced.
    with pytest.raises(ModelError, match="failed its check against fp32.*--force"):
        store.load("quality", "quantized")
    assert store.load("quality").variant == "default"


def test_asking_for_a_shipped_variant_that_is_not_there(store):
    with pytest.raises(ModelError, match="ships no quantized variant"):
        quantize_stored_model(store, "vit", fixture_images(), source="x", use="shipped")


def test_no_calibration_images_is_an_error(store):
    with pytest.raises(ModelError, match="no calibration images"):
        quantize_stored_model(store, "vit", [], source="nothing", thresholds=LOOSE)
    assert not (store.get("vit").folder / "model_int8.onnx").exists()


def test_calibration_from_paths_decodes_images_and_samples_videos(tmp_path):
    make_indexed_clip(tmp_path / "clip.mp4", 30)
    junk = tmp_path / "notes.txt"
    junk.write_text("not media")
    calibration = calibration_from_paths([IMAGES / "rgb_640x480.jpg", tmp_path], frames_per_video=4)
    assert [kind for _, kind in calibration.files] == ["image", "video"]
    images = list(calibration.images())
    assert len(images) == 1 + 4 == calibration.expected_count
    assert images[1].size == (320, 240) and images[1].mode == "RGB"
    assert any("notes.txt" in line for line in calibration.skipped)
    capped = calibration_from_paths([tmp_path, IMAGES / "rgb_640x480.jpg"], frames_per_video=4, max_images=3)
    assert len(list(capped.images())) == 3


def test_calibration_skips_unreadable_files(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes((IMAGES / "rgb_640x480.jpg").read_bytes()[:200])
    calibration = calibration_from_paths([broken, IMAGES / "gray_257x129.png"])
    assert len(list(calibration.images())) == 1
    assert any("broken.jpg" in line for line in calibration.skipped)


def test_calibration_from_a_case_uses_its_evidence_read_only(tmp_path):
    from engine.case.store import CaseStore

    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for name in ("rgb_640x480.jpg", "palette_200x200.png"):
        shutil.copyfile(IMAGES / name, evidence / name)
    make_indexed_clip(evidence / "clip.mp4", 20)
    stamps = {p.name: p.stat().st_mtime_ns for p in evidence.iterdir()}
    case_path = tmp_path / "c.dfwcase"
    with CaseStore.create(case_path, "Calibration", "Examiner") as case:
        for path in sorted(evidence.iterdir()):
            case.add_evidence(path)
    from engine.api import Workstation

    with Workstation(tmp_path / "home").open_case(case_path, readonly=True) as opened:
        calibration = opened.calibration(frames_per_video=3)
    assert len(list(calibration.images())) == 2 + 3
    assert "c.dfwcase" in calibration.source
    assert {p.name: p.stat().st_mtime_ns for p in evidence.iterdir()} == stamps


def test_models_quantize_command(tmp_path):
    home = tmp_path / "home"
    assert run_main("models", "import", str(MODELS / "vit_optimum"), "--name", "vit", "--allow-test-fixture",
                home=home).returncode == 0
    missing = run_main("models", "quantize", "vit", home=home)
    assert missing.returncode == 2 and "--images" in missing.stderr
    refused = run_main("models", "quantize", "vit", "--images", str(IMAGES), "--max-delta", "0", home=home)
    assert refused.returncode == 2 and "refused and not kept" in refused.stderr
    made = run_main("models", "quantize", "vit", "--images", str(IMAGES), "--min-agreement", "0",
                "--max-delta", "0.05", "--json", home=home)
    assert made.returncode == 0, made.stderr
    result = json.loads(made.stdout)
    assert result["variant"] == "int8" and result["accepted"] is True
    assert result["figures"]["calibration"]["images"] == len(fixture_images())
    listed = run_main("models", "list", home=home)
    assert "variant int8:" in listed.stdout and "top-1 agreement" in listed.stdout
