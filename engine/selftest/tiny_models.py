"""Tiny models of each supported architecture, written in the folder layouts users import.

- `vit`: a Hugging Face ViT in the Optimum layout (`model.onnx`, `config.json` with id2label
  Real/Fake, `preprocessor_config.json`), 224×224, CLS readout.
- `siglip`: a SigLIP classifier in the Optimum layout, 96×96, no CLS token, mean-pooled,
  labels fake/real (reversed against the ViT, as in the published models).
- `timm`: a timm ViT folder (`config.json` with `pretrained_cfg` and `label_names: ["fake"]`,
  `model.onnx`), 64×64 with a 0.875 crop, one sigmoid logit.

Every folder carries the `DFW_TEST_FIXTURE` marker, so the model store refuses it unless
told otherwise and nothing ever offers it as a detector.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnx

from engine.models.loader import FIXTURE_MARKER
from engine.selftest.graph_parts import (
    INPUT,
    GraphBuilder,
    attention_block,
    cls_readout,
    finish_model,
    mean_readout,
    patch_tokens,
    prepend_cls,
)

MARKER_TEXT = "Made by the self-test: random weights, scores mean nothing. Never use it as a detector.\n"


@dataclass(frozen=True)
class TinyModel:
    """A written model folder and what the self-test expects of it."""

    key: str  # vit, siglip, timm
    folder: Path
    labels: tuple[str, ...]
    input_size: int
    attention_layers: int


@dataclass(frozen=True)
class _Shape:
    size: int
    patch: int
    dim: int
    heads: int
    layers: int
    classes: int
    cls_token: bool


def _graph(shape: _Shape, seed: int, name: str) -> Any:
    g = GraphBuilder(seed)
    x = patch_tokens(g, INPUT, shape.dim, shape.patch)
    if shape.cls_token:
        x = prepend_cls(g, x, INPUT, shape.dim)
    tokens = (shape.size // shape.patch) ** 2 + (1 if shape.cls_token else 0)
    x = g.op("Add", [x, g.weight("position", 1, tokens, shape.dim, scale=0.02)])
    for _ in range(shape.layers):
        x = attention_block(g, x, shape.dim, shape.heads)
    features = cls_readout(g, x) if shape.cls_token else mean_readout(g, x)
    return finish_model(g, features, shape.dim, shape.classes, shape.size, name)


def _write(folder: Path, model: Any, files: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=False)
    onnx.checker.check_model(model)
    onnx.save(model, str(folder / "model.onnx"))
    for filename, content in files.items():
        (folder / filename).write_text(json.dumps(content, indent=1) + "\n", encoding="utf-8")
    (folder / FIXTURE_MARKER).write_text(MARKER_TEXT, encoding="utf-8")


def _hf_processor(size: int, resample: int, processor_type: str) -> dict[str, Any]:
    return {"image_processor_type": processor_type, "do_resize": True, "size": {"height": size, "width": size},
            "resample": resample, "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
            "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}


def _write_optimum(parent: Path, key: str, architecture: str, labels: tuple[str, ...], shape: _Shape,
                   resample: int, processor_type: str, seed: int) -> TinyModel:
    """A Hugging Face model as Optimum exports it; `key` is also its `model_type`."""
    folder = parent / f"selftest_{key}"
    _write(folder, _graph(shape, seed, f"tiny_{key}"), {
        "config.json": {"architectures": [architecture], "model_type": key,
                        "id2label": {str(i): label for i, label in enumerate(labels)},
                        "label2id": {label: i for i, label in enumerate(labels)}},
        "preprocessor_config.json": _hf_processor(shape.size, resample, processor_type),
    })
    return TinyModel(key, folder, labels, shape.size, shape.layers)


def write_vit(parent: Path, seed: int = 11) -> TinyModel:
    shape = _Shape(size=224, patch=32, dim=16, heads=2, layers=2, classes=2, cls_token=True)
    return _write_optimum(parent, "vit", "ViTForImageClassification", ("Real", "Fake"), shape,
                          resample=2, processor_type="ViTImageProcessor", seed=seed)


def write_siglip(parent: Path, seed: int = 12) -> TinyModel:
    shape = _Shape(size=96, patch=16, dim=16, heads=2, layers=2, classes=2, cls_token=False)
    return _write_optimum(parent, "siglip", "SiglipForImageClassification", ("fake", "real"), shape,
                          resample=3, processor_type="SiglipImageProcessor", seed=seed)


def write_timm(parent: Path, seed: int = 13) -> TinyModel:
    labels = ("fake",)
    shape = _Shape(size=64, patch=16, dim=16, heads=2, layers=1, classes=1, cls_token=True)
    folder = parent / "selftest_timm"
    pretrained_cfg = {"input_size": [3, shape.size, shape.size], "fixed_input_size": True,
                      "interpolation": "bilinear", "crop_pct": 0.875, "crop_mode": "center",
                      "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "num_classes": 1,
                      "first_conv": "patch_embed.proj", "classifier": "head"}
    _write(folder, _graph(shape, seed, "tiny_timm_vit"), {"config.json": {
        "architecture": "vit_tiny_patch16_64", "num_classes": 1, "num_features": shape.dim, "global_pool": "token",
        "label_names": list(labels), "pretrained_cfg": pretrained_cfg}})
    return TinyModel("timm", folder, labels, shape.size, shape.layers)


WRITERS: tuple[Callable[[Path], TinyModel], ...] = (write_vit, write_siglip, write_timm)


def write_all(parent: Path) -> list[TinyModel]:
    """One folder per supported architecture under `parent`."""
    return [write(parent) for write in WRITERS]
