"""Every fixture class and layout runs exactly like its PyTorch reference.

The references were stored by tools/make_fixtures.py from the PyTorch models themselves,
with images loaded like transformers' `load_image` and preprocessed by the slow (Pillow)
Hugging Face processors or timm's eval transform. Here the engine does everything on its
own — decoding, preprocessing, onnxruntime — and must land within 1e-5 on probabilities
and 1e-4 on logits, on images of several sizes, aspect ratios and modes.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.models.inference import ModelRunner
from engine.media.image import load_image
from engine.models.loader import load_model
from engine.models.preprocess import preprocess
from tests.engine.conftest import IMAGES, MODELS, REFERENCE

# (fixture folder, variant, reference file)
CASES = [
    ("vit_optimum", None, "vit_optimum"),
    ("vit_quality_tfjs", None, "vit_quality_tfjs"),
    ("siglip_optimum", None, "siglip_optimum"),
    ("timm_vit", None, "timm_vit"),
]


def _reference(name: str) -> dict:
    return json.loads((REFERENCE / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def runners():
    return {folder: ModelRunner(load_model(MODELS / folder, variant=variant), "cpu", batch_size=4)
            for folder, variant, _ in CASES}


@pytest.mark.parametrize("folder, variant, reference", CASES)
def test_probabilities_and_logits_match_pytorch(runners, folder, variant, reference):
    expected = _reference(reference)
    runner = runners[folder]
    assert list(runner.spec.labels) == expected["labels"]
    assert runner.spec.activation == expected["activation"]
    names = sorted(expected["images"])
    assert len(names) >= 8  # several sizes, aspect ratios and modes
    images = [load_image(IMAGES / name).rgb for name in names]
    logits = runner.logits(images)
    predictions = runner.predictions_from_logits(logits)
    for name, row, prediction in zip(names, logits, predictions):
        want = expected["images"][name]
        np.testing.assert_allclose(row, want["logits"], atol=1e-4, rtol=0, err_msg=f"{folder} {name}")
        np.testing.assert_allclose(prediction.probabilities, want["probs"], atol=1e-5, rtol=0,
                                   err_msg=f"{folder} {name}")


@pytest.mark.parametrize("folder, variant, reference", CASES)
def test_preprocessing_matches_reference_pixels(folder, variant, reference):
    spec = load_model(MODELS / folder, variant=variant)
    stored = np.load(REFERENCE / f"{reference}_pixels.npz")
    assert len(stored.files) >= 3
    for name in stored.files:
        pixels = preprocess(load_image(IMAGES / name).rgb, spec.preprocess)
        assert pixels.shape == stored[name].shape
        np.testing.assert_allclose(pixels, stored[name], atol=1e-5, rtol=0, err_msg=f"{folder} {name}")


def test_quantized_variant_runs_like_its_own_reference():
    """The transformers.js layout's quantized file is choosable and runs as onnxruntime ran it."""
    spec = load_model(MODELS / "vit_quality_tfjs", variant="quantized")
    assert spec.variant == "quantized" and spec.onnx_path.name == "model_quantized.onnx"
    expected = _reference("vit_quality_tfjs_quantized_onnx")
    # Dynamic quantization picks one activation scale per batch: the reference ran one image at a time.
    runner = ModelRunner(spec, "cpu", batch_size=1)
    names = sorted(expected["images"])
    logits = runner.logits([load_image(IMAGES / name).rgb for name in names])
    for name, row in zip(names, logits):
        np.testing.assert_allclose(row, expected["images"][name]["logits"], atol=1e-4, rtol=0, err_msg=name)
