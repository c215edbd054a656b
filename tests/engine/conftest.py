"""Shared fixtures for engine tests: paths to the committed fixture models and images."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MODELS = FIXTURES / "models"
IMAGES = FIXTURES / "images"
REFERENCE = FIXTURES / "reference"


def fixture_images() -> list:
    """The fixture images (odd sizes and modes) decoded to RGB, in name order."""
    from engine.media.image import load_image

    return [load_image(path).rgb for path in sorted(IMAGES.glob("*")) if path.name != "DFW_TEST_FIXTURE"]


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
    return save_graph(graph, path)


def save_graph(graph, path: Path, domains: tuple[str, ...] = ()) -> Path:
    """Save a test graph as an opset-17 (IR 8) model that onnxruntime accepts; `domains` are
    extra operator domains the graph uses, at version 1."""
    opsets = [helper.make_opsetid("", 17)] + [helper.make_opsetid(domain, 1) for domain in domains]
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@pytest.fixture
def tiny_onnx(tmp_path) -> Path:
    return make_linear_classifier(tmp_path / "tiny.onnx")


def run_main(*args: str, home: Path | None = None, timeout: int = 180) -> subprocess.CompletedProcess:
    """`python main.py ARGS` in a separate process, as an analyst runs it (DFW_HOME set when given)."""
    env = {**os.environ, **({"DFW_HOME": str(home)} if home is not None else {})}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=timeout)


@pytest.fixture
def evidence_files(tmp_path):
    folder = tmp_path / "evidence"
    folder.mkdir()
    paths = []
    for i, head in enumerate([b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"\x00\x00\x00\x18ftypmp42"]):
        p = folder / f"item{i}.bin"
        p.write_bytes(head + os.urandom(3000 + i))
        paths.append(str(p))
    return paths


def analyze(case_path, job, home=None, progress=None, is_cancelled=None):
    """Run `job` on the case at `case_path` through the engine API, as the CLI does; a generator
    of the run's events (the case is closed when it ends or is abandoned)."""
    from engine.api import Workstation

    case = Workstation(home).open_case(case_path)
    try:
        yield from case.analyze(job, progress, is_cancelled)
    finally:
        case.close()
