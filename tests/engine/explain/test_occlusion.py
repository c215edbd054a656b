"""Occlusion sensitivity on a model whose score depends only on the top-left quadrant."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper

from engine.errors import Cancelled, ModelError
from engine.explain.occlusion import occlusion_map, score_function
from engine.models.inference import ModelRunner
from engine.models.loader import ModelOverrides, load_model
from tests.engine.conftest import save_graph

SIZE = 32


def quadrant_classifier(path: Path) -> Path:
    """logits = (−m, m) with m the mean of the top-left 16×16 pixels over all channels."""
    starts = helper.make_tensor("starts", TensorProto.INT64, [2], [0, 0])
    ends = helper.make_tensor("ends", TensorProto.INT64, [2], [SIZE // 2, SIZE // 2])
    axes = helper.make_tensor("axes", TensorProto.INT64, [2], [2, 3])
    weight = helper.make_tensor("W", TensorProto.FLOAT, [1, 2], [-1.0, 1.0])
    nodes = [
        helper.make_node("Slice", ["pixel_values", "starts", "ends", "axes"], ["quadrant"]),
        helper.make_node("ReduceMean", ["quadrant"], ["mean"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Flatten", ["mean"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "W"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes, "quadrant", [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch", 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 2])],
        initializer=[starts, ends, axes, weight])
    return save_graph(graph, path)


@pytest.fixture
def runner(tmp_path):
    spec = load_model(quadrant_classifier(tmp_path / "quadrant.onnx"),
                      overrides=ModelOverrides(labels=["real", "fake"], preprocess="hf", input_size=SIZE))
    return ModelRunner(spec, "cpu", batch_size=8)


@pytest.fixture
def pixels():
    rng = np.random.default_rng(3)
    return (1.0 + 0.1 * rng.random((3, SIZE, SIZE))).astype(np.float32)


def test_map_is_hot_exactly_on_the_quadrant(runner, pixels):
    result = occlusion_map(score_function(runner), pixels, window=8, stride=8, batch_size=5)
    assert result.shape == (4, 4) and result.dtype == np.float32
    assert result.max() == 1.0
    assert np.all(result[:2, :2] > 0.5)
    assert np.array_equal(result[2:, :], np.zeros((2, 4))) and np.array_equal(result[:, 2:], np.zeros((4, 2)))


def test_overlapping_windows_stay_near_the_quadrant(runner, pixels):
    result = occlusion_map(score_function(runner), pixels, window=8, stride=4, batch_size=16)
    assert result.shape == (8, 8)
    peak = np.unravel_index(np.argmax(result), result.shape)
    assert peak[0] < 4 and peak[1] < 4
    assert np.all(result[:4, :4] > 0.3)
    # Blocks 4 are overlapped by windows that reach into the quadrant; blocks ≥ 5 never are.
    assert np.all(result[5:, :] == 0) and np.all(result[:, 5:] == 0)


def test_batching_does_not_change_the_map(runner, pixels):
    one = occlusion_map(score_function(runner), pixels, window=8, stride=4, batch_size=1)
    many = occlusion_map(score_function(runner), pixels, window=8, stride=4, batch_size=64)
    assert np.allclose(one, many, atol=1e-6)


def test_stride_not_dividing_the_input_gives_a_pixel_map(runner, pixels):
    result = occlusion_map(score_function(runner), pixels, window=10, stride=5)
    assert result.shape == (SIZE, SIZE)
    assert result[:SIZE // 2, :SIZE // 2].mean() > 0.3 and np.all(result[25:, 25:] == 0)


def test_targets_and_baseline(runner, pixels):
    # The real class's probability rises when the quadrant is hidden: no positive drop anywhere.
    assert np.all(occlusion_map(score_function(runner, 0), pixels, window=8, stride=8) == 0)
    top = occlusion_map(score_function(runner, "top"), pixels, window=8, stride=8)
    assert top.max() == 1.0 and np.all(top[2:, :] == 0)
    # A baseline equal to the image's own mean barely changes the score: still only the quadrant.
    mean = occlusion_map(score_function(runner), pixels, window=8, stride=8, baseline="mean")
    assert np.all(mean[2:, :] == 0)
    with pytest.raises(ModelError):
        occlusion_map(score_function(runner), pixels, window=4, stride=8)
    with pytest.raises(ModelError):
        occlusion_map(score_function(runner, 5), pixels, window=8, stride=8)


def test_cancellation_stops_the_batches(runner, pixels):
    with pytest.raises(Cancelled):
        occlusion_map(score_function(runner), pixels, window=8, stride=4, is_cancelled=lambda: True)
