"""Shared fixtures for engine tests: paths to the committed fixture models and images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MODELS = FIXTURES / "models"
IMAGES = FIXTURES / "images"
REFERENCE = FIXTURES / "reference"


def make_linear_classifier(path: Path, size: int = 8, classes: int = 2, seed: int = 0) -> Path:
    """A real ONNX image classifier: mean-pool pixels per channel, then a linear layer."""
    rng = np.random.default_rng(seed)
    weight = helper.make_tensor("W", TensorProto.FLOAT, [3, classes], rng.normal(size=(3, classes)).astype(np.float32).ravel())
    nodes = [
        helper.make_node("ReduceMean", ["pixel_values"], ["pooled"], axes=[2, 3], keepdims=0),
        helper.make_node("MatMul", ["pooled", "W"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes, "linear",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch", 3, size, size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", classes])],
        initializer=[weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@pytest.fixture
def tiny_onnx(tmp_path) -> Path:
    return make_linear_classifier(tmp_path / "tiny.onnx")
