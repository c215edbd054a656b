"""A test model with one quantization-sensitive node: the fixture ViT with its classifier
rebuilt as a MatMul whose two weight columns share a large common part and differ by a small
one. In fp32 the common part cancels between the logits; INT8 weights round with a step set by
the common part, which swamps the small difference, so the head alone moves p(manipulated)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from tests.engine.conftest import MODELS

HEAD = "sensitive_head/MatMul"


def _features(model: onnx.ModelProto, pixels: np.ndarray, name: str) -> np.ndarray:
    import onnxruntime as ort

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    probe.graph.output.append(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run([name], {model.graph.input[0].name: pixels})[0]


def build_sensitive_model(folder: Path, pixels: np.ndarray, common: float = 60.0) -> Path:
    """Copy the fixture ViT into `folder` with the sensitive head; `pixels` aim the head so its
    predictions spread over both labels."""
    shutil.copytree(MODELS / "vit_optimum", folder)
    path = folder / "model.onnx"
    model = onnx.load(str(path))
    gemm = next(n for n in model.graph.node if n.op_type == "Gemm")
    features = _features(model, pixels, gemm.input[0])
    centred = features - features.mean(0)
    direction = np.linalg.svd(centred, full_matrices=False)[2][0]
    projection = features @ direction
    scale = 1.5 / float(projection.std())
    rng = np.random.default_rng(3)
    shared = rng.normal(size=direction.shape) * common * scale / np.sqrt(len(direction))
    weight = np.stack([shared - scale * direction / 2, shared + scale * direction / 2], axis=1).astype(np.float32)
    bias = np.array([0.0, -scale * float(projection.mean())], np.float32)
    index = list(model.graph.node).index(gemm)
    model.graph.node.remove(gemm)
    for unused in [i for i in model.graph.initializer if i.name in gemm.input[1:]]:
        model.graph.initializer.remove(unused)
    model.graph.initializer.extend([numpy_helper.from_array(weight, "sensitive_head.weight"),
                                    numpy_helper.from_array(bias, "sensitive_head.bias")])
    model.graph.node.insert(index, helper.make_node("MatMul", [gemm.input[0], "sensitive_head.weight"],
                                                    ["sensitive_head_out"], name=HEAD))
    model.graph.node.insert(index + 1, helper.make_node("Add", ["sensitive_head_out", "sensitive_head.bias"],
                                                        [gemm.output[0]], name="sensitive_head/Add"))
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return folder


def scenes(count: int, seed: int = 11) -> list:
    """Varied synthetic pictures (waves, shapes, noise) of several sizes, as calibration images."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    pictures = []
    for index in range(count):
        width, height = [(320, 240), (240, 320), (400, 300), (256, 256)][index % 4]
        y, x = np.mgrid[0:height, 0:width].astype(np.float32)
        phase = rng.uniform(0, 6.28, 3)
        rgb = np.stack([127 + 120 * np.sin(x / rng.uniform(10, 100) + phase[c]) * np.cos(y / rng.uniform(10, 100))
                        for c in range(3)], axis=-1)
        picture = Image.fromarray(rgb.clip(0, 255).astype(np.uint8), "RGB")
        draw = ImageDraw.Draw(picture)
        for _ in range(int(rng.integers(3, 12))):
            box = sorted(rng.uniform(0, width, 2)) + sorted(rng.uniform(0, height, 2))
            draw.ellipse([box[0], box[2], box[1], box[3]], fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
        pictures.append(picture)
    return pictures
