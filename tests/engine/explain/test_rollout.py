"""Rollout from the augmented ONNX models against the stored PyTorch references."""

from __future__ import annotations

import numpy as np
import pytest

from engine.explain.attention_runner import open_attention_runner
from engine.explain.rollout import discard_smallest, rollout_from_outputs, token_layout
from engine.media.image import load_image
from engine.models.loader import load_model
from engine.models.preprocess import preprocess
from tests.engine.conftest import IMAGES, MODELS, REFERENCE

ROLLOUT_MODELS = ["vit_optimum", "siglip_optimum", "timm_vit"]
GRIDS = {"vit_optimum": (14, 14), "siglip_optimum": (8, 8), "timm_vit": (6, 6)}


@pytest.fixture(scope="module")
def runners(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return {name: open_attention_runner(load_model(MODELS / name), cache, "cpu", batch_size=4) for name in ROLLOUT_MODELS}


@pytest.mark.parametrize("name", ROLLOUT_MODELS)
def test_rollout_matches_pytorch_reference(runners, name):
    runner = runners[name]
    reference = np.load(REFERENCE / f"{name}_rollout.npz")
    images = sorted({key.split("|")[0] for key in reference.files})
    assert len(images) >= 9
    pixels = np.stack([preprocess(load_image(IMAGES / image).rgb, runner.spec.preprocess) for image in images])
    _, attention = runner.logits_and_attention(pixels)
    assert len(attention) == 2
    for ratio in (0.0, 0.5):
        maps = runner.rollout(attention, ratio)
        assert maps.shape == (len(images), *GRIDS[name])
        for index, image in enumerate(images):
            expected = reference[f"{image}|d={ratio}"]
            assert np.abs(maps[index] - expected).max() <= 1e-4, (image, ratio)
            assert maps[index].min() == 0.0 and maps[index].max() == 1.0


@pytest.mark.parametrize("name", ROLLOUT_MODELS)
def test_layer0_head_mean_matches_reference(runners, name):
    runner = runners[name]
    reference = np.load(REFERENCE / f"{name}_rollout.npz")["rgb_640x480.jpg|layer0_mean"]
    pixels = preprocess(load_image(IMAGES / "rgb_640x480.jpg").rgb, runner.spec.preprocess)[None]
    _, attention = runner.logits_and_attention(pixels)
    assert attention[0].shape == (1, *reference.shape)
    assert attention[0].dtype == np.float64
    assert np.abs(attention[0][0] - reference).max() <= 1e-6


def test_readout_and_prefix_come_from_architecture_and_token_count(runners):
    assert runners["siglip_optimum"].layout(64).readout == "mean"
    assert runners["siglip_optimum"].layout(64).prefix_tokens == 0
    vit = runners["vit_optimum"].layout(197)
    assert (vit.readout, vit.prefix_tokens, vit.grid) == ("cls", 1, (14, 14))
    # timm models with register tokens: 4 extra prefix tokens on a 6×6 grid.
    registers = token_layout(41, (96, 96), architecture="vit_small_patch16_384", patch_size=(16, 16))
    assert (registers.readout, registers.prefix_tokens, registers.grid) == ("cls", 5, (6, 6))
    # Without the patch size the grid is found from the token count alone.
    guessed = token_layout(197, (224, 224), architecture="ViTForImageClassification")
    assert (guessed.prefix_tokens, guessed.grid) == (1, (14, 14))
    # A CLS readout asked of a model with no prefix token reads the mean instead.
    assert token_layout(64, (128, 128), architecture="ViT", patch_size=(16, 16)).readout == "mean"


def _matrix_rollout(attention, readout, prefix, ratio):
    """The reference formula written with full matrices (the tests' independent check)."""
    n = attention[0].shape[-1]
    result = np.eye(n)
    for a in attention:
        a = a.astype(np.float64).copy()
        if ratio > 0:
            flat = a.reshape(-1)
            flat[np.argsort(flat, kind="stable")[: int(np.floor(ratio * n * n))]] = 0
        a = 0.5 * a + 0.5 * np.eye(n)
        a = a / a.sum(axis=-1, keepdims=True)
        result = a @ result
    r = result[0, prefix:] if readout == "cls" else result[prefix:].mean(axis=0)[prefix:]
    return (r - r.min()) / (r.max() - r.min())


@pytest.mark.parametrize("readout,prefix", [("cls", 1), ("cls", 3), ("mean", 0)])
@pytest.mark.parametrize("ratio", [0.0, 0.3, 0.9])
def test_vector_rollout_equals_matrix_rollout(readout, prefix, ratio):
    rng = np.random.default_rng(7)
    n = prefix + 16
    attention = []
    for _ in range(3):
        scores = rng.normal(size=(n, n))
        scores[:, :4] = scores[:, :1]  # ties, which the stable order must break by index
        probs = np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)
        attention.append(probs[None])
    maps = rollout_from_outputs(attention, readout, (4, 4), ratio, prefix)
    expected = _matrix_rollout([a[0] for a in attention], readout, prefix, ratio).reshape(4, 4)
    assert np.abs(maps[0] - expected).max() < 1e-6


def test_discard_ties_follow_stable_argsort_order():
    values = np.array([[0.2, 0.1, 0.1], [0.1, 0.5, 0.1], [0.3, 0.1, 0.4]])
    kept = discard_smallest(values, 0.4)  # floor(0.4·9) = 3 of the five 0.1s: the first three
    flat = values.reshape(-1).copy()
    flat[np.argsort(flat, kind="stable")[:3]] = 0
    assert np.array_equal(kept.reshape(-1), flat)
    assert (kept == 0).sum() == 3
