"""Model folders in the layouts users have → `ModelSpec`.

Layouts (MODELS.md): an Optimum export (`model.onnx` + `config.json` +
`preprocessor_config.json`), a transformers.js / "-ONNX" repo (configs at the root,
`onnx/model.onnx` and its `_quantized`/`_int8`/`_uint8`/`_fp16` variants), a timm folder
(`config.json` with `pretrained_cfg`, plus an exported `model.onnx`), or a bare `.onnx`
whose labels and preprocessing the user gives. Everything the spec holds is read from the
folder's own files; command-line overrides exist for what a folder does not say.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from engine.errors import ModelError
from engine.util.hashing import sha256_bytes, sha256_file
from engine.models.onnx_facts import OnnxFacts, read_onnx_facts
from engine.models.spec import LabelMeaning, ModelSpec, confirmed_meaning
from engine.models.preprocess import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    PreprocessRecipe,
    recipe_from_hf,
    recipe_from_timm,
)

FIXTURE_MARKER = "DFW_TEST_FIXTURE"
# Every file beside the .onnx files that loading a folder may read (or, for the marker, look
# for): what the model store checks against its manifest at each load.
CONFIG_FILES = ("config.json", "preprocessor_config.json", "export_info.json", FIXTURE_MARKER)
_DEFAULT_LABEL = re.compile(r"^LABEL_\d+$")
_VARIANT_FILE = re.compile(r"^model(?:_(?P<variant>[A-Za-z0-9]+))?\.onnx$")


@dataclass(frozen=True)
class ModelOverrides:
    """What the user states on the command line (or in the import dialog)."""

    name: str | None = None
    labels: Sequence[str] | None = None
    judges: str | None = None  # "authenticity" | "other"
    manipulated_labels: Sequence[str] | None = None
    preprocess: str | None = None  # "hf" | "timm" for a bare .onnx
    input_size: int | None = None
    resample: str | None = None
    mean: Sequence[float] | None = None
    std: Sequence[float] | None = None
    crop_pct: float | None = None
    # Where the files came from (e.g. a Hugging Face repo and commit), when the folder does not
    # say: a report then names them instead of "source, revision unknown".
    source: str | None = None
    revision: str | None = None


def _read_json(path: Path, hashes: dict[str, str] | None = None) -> dict[str, Any]:
    """The JSON object in `path`; its SHA-256 (of the very bytes parsed) goes into `hashes`."""
    try:
        raw = path.read_bytes()
        data = json.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path.name} is not readable JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelError(f"{path.name} does not hold a JSON object")
    if hashes is not None:
        hashes[path.name] = sha256_bytes(raw)
    return data


def find_variants(onnx_dir: Path) -> dict[str, Path]:
    """`model.onnx` → "default", `model_quantized.onnx` → "quantized", …"""
    variants: dict[str, Path] = {}
    for candidate in sorted(onnx_dir.glob("model*.onnx")):
        match = _VARIANT_FILE.match(candidate.name)
        if match and candidate.is_file():
            variants[match.group("variant") or "default"] = candidate
    return variants


def _locate(folder: Path) -> tuple[str, Path, Path]:
    """(layout, folder holding configs, folder holding the .onnx files)."""
    config = folder / "config.json"
    if (folder / "onnx").is_dir() and find_variants(folder / "onnx"):
        return "transformers.js", folder, folder / "onnx"
    if find_variants(folder):
        if config.is_file() and "pretrained_cfg" in _read_json(config):
            return "timm", folder, folder
        return "optimum", folder, folder
    if (folder / "model.safetensors").is_file() or (folder / "pytorch_model.bin").is_file():
        raise ModelError(
            f"{folder.name} is a PyTorch checkpoint, not an ONNX model: convert it first with "
            "`python main.py models export CHECKPOINT_DIR OUT_DIR`"
        )
    raise ModelError(f"no model.onnx found in {folder.name} (nor in {folder.name}/onnx)")


def _labels_from_hf(config: Mapping[str, Any]) -> list[str] | None:
    id2label = config.get("id2label")
    if not isinstance(id2label, Mapping) or not id2label:
        return None
    try:
        ordered = sorted((int(key), str(value)) for key, value in id2label.items())
    except (TypeError, ValueError) as exc:
        raise ModelError(f"config.json id2label has keys that are not numbers: {list(id2label)[:4]}") from exc
    if [index for index, _ in ordered] != list(range(len(ordered))):
        raise ModelError("config.json id2label does not number its labels 0..n-1")
    labels = [label for _, label in ordered]
    if all(_DEFAULT_LABEL.match(label) for label in labels):
        return None  # transformers' placeholders say nothing about meaning
    return labels


def _labels_from_timm(config: Mapping[str, Any]) -> list[str] | None:
    names = config.get("label_names") or config.get("pretrained_cfg", {}).get("label_names")
    if names:
        return [str(name) for name in names]
    return None


def _recipe_from_overrides(overrides: ModelOverrides, base: PreprocessRecipe | None) -> PreprocessRecipe | None:
    if overrides.preprocess is None and overrides.input_size is None and base is not None:
        return base
    if overrides.preprocess is None and base is None:
        return None
    size = overrides.input_size or (base.input_size[0] if base else 224)
    family = overrides.preprocess or (base.family if base else "hf")
    if family == "timm":
        cfg: dict[str, Any] = {"input_size": (3, size, size), "crop_pct": overrides.crop_pct or 0.875,
                               "interpolation": overrides.resample or "bicubic",
                               "mean": overrides.mean or IMAGENET_MEAN, "std": overrides.std or IMAGENET_STD}
        return recipe_from_timm(cfg)
    if family != "hf":
        raise ModelError(f"unknown preprocessing {family!r}: choose hf or timm")
    return recipe_from_hf({"size": {"height": size, "width": size}, "resample": overrides.resample or 2,
                           "image_mean": overrides.mean or (0.5, 0.5, 0.5),
                           "image_std": overrides.std or (0.5, 0.5, 0.5)})


def load_model(path: str | Path, variant: str | None = None,
               overrides: ModelOverrides | None = None, sha256: str | None = None,
               facts: OnnxFacts | None = None) -> ModelSpec:
    """Read a model folder (or a bare .onnx) into a ModelSpec; raise ModelError on anything unusable.

    `sha256` and `facts` skip re-hashing and re-parsing the graph when the caller (the model
    store) holds them for a file whose hash it has just verified: parsing a ViT-B graph with
    its weights inline takes about a second.
    """
    overrides = overrides or ModelOverrides()
    path = Path(path)
    if not path.exists():
        raise ModelError(f"no model at {path}")
    try:
        if path.is_file():
            if path.suffix.lower() != ".onnx":
                raise ModelError(f"{path.name} is neither a model folder nor an .onnx file")
            return _load_bare(path, overrides, sha256, facts)
        return _load_folder(path, variant, overrides, sha256, facts)
    except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
        # Config values of the wrong type ("image_mean": "x", "size": null, ...) surface as
        # these deep inside the readers; each is one unusable field of a config file.
        raise ModelError(f"{path.name}: a configuration value has the wrong form "
                         f"({type(exc).__name__}: {str(exc)[:200]})") from None


def _load_folder(path: Path, variant: str | None, overrides: ModelOverrides, sha256: str | None,
                 facts: OnnxFacts | None) -> ModelSpec:
    layout, config_dir, onnx_dir = _locate(path)
    variants = find_variants(onnx_dir)
    chosen = variant or "default"
    if chosen not in variants:
        raise ModelError(f"{path.name} has no {chosen!r} variant; it has {', '.join(variants)}")
    onnx_path = variants[chosen]
    config_path = config_dir / "config.json"
    hashes: dict[str, str] = {}
    if not config_path.is_file():
        if overrides.labels is None:
            raise ModelError(f"{path.name} has no config.json; give the labels with --labels")
        config: dict[str, Any] = {}
    else:
        config = _read_json(config_path, hashes)
    facts = facts or read_onnx_facts(onnx_path)
    if layout == "timm":
        labels = _labels_from_timm(config)
        recipe: PreprocessRecipe | None = recipe_from_timm(config["pretrained_cfg"])
        architecture = str(config.get("architecture", "timm model"))
        source = config["pretrained_cfg"].get("hf_hub_id") or None
        revision = None
        problem_type = None
    else:
        labels = _labels_from_hf(config)
        processor_path = config_dir / "preprocessor_config.json"
        recipe = recipe_from_hf(_read_json(processor_path, hashes)) if processor_path.is_file() else None
        architectures = config.get("architectures") or [config.get("model_type", "unknown")]
        architecture = str(architectures[0])
        source = config.get("_name_or_path") or None
        revision = config.get("_commit_hash") or None
        problem_type = config.get("problem_type")
    recipe = _recipe_from_overrides(overrides, recipe)
    if recipe is None:
        raise ModelError(f"{path.name} has no preprocessor_config.json; give --preprocess hf|timm and --input-size")
    labels = list(overrides.labels) if overrides.labels else labels
    export_info = config_dir / "export_info.json"
    if source is None and export_info.is_file():
        source = _read_json(export_info, hashes).get("source")
    return _finish(
        name=overrides.name or path.name, architecture=architecture, onnx_path=onnx_path, facts=facts,
        recipe=recipe, labels=labels, layout=layout, variant=chosen, variants=tuple(variants),
        folder=path, source=source, revision=revision, overrides=overrides, sha256=sha256,
        is_fixture=(config_dir / FIXTURE_MARKER).is_file(), problem_type=problem_type, config_sha256=hashes,
    )


def _load_bare(onnx_path: Path, overrides: ModelOverrides, sha256: str | None,
               facts: OnnxFacts | None) -> ModelSpec:
    if not overrides.labels:
        raise ModelError(f"{onnx_path.name} is a bare ONNX file: give its labels in index order with --labels")
    facts = facts or read_onnx_facts(onnx_path)
    recipe = _recipe_from_overrides(overrides, None)
    if recipe is None:
        raise ModelError(f"{onnx_path.name} is a bare ONNX file: give --preprocess hf|timm and --input-size")
    return _finish(
        name=overrides.name or onnx_path.stem, architecture="onnx", onnx_path=onnx_path, facts=facts,
        recipe=recipe, labels=list(overrides.labels), layout="bare", variant="default",
        variants=("default",), folder=None, source=None, revision=None, overrides=overrides,
        sha256=sha256, is_fixture=(onnx_path.parent / FIXTURE_MARKER).is_file(), problem_type=None,
        config_sha256={},
    )


def _finish(*, name: str, architecture: str, onnx_path: Path, facts: OnnxFacts,
            recipe: PreprocessRecipe, labels: list[str] | None, layout: str, variant: str,
            variants: tuple[str, ...], folder: Path | None, source: str | None,
            revision: str | None, overrides: ModelOverrides, sha256: str | None,
            is_fixture: bool, problem_type: str | None, config_sha256: Mapping[str, str]) -> ModelSpec:
    if not labels:
        raise ModelError(f"{name}: the config names no labels; give them in index order with --labels")
    outputs = facts.output_size
    if outputs is not None and outputs != len(labels):
        raise ModelError(f"{name}: the model outputs {outputs} values but the config names {len(labels)} labels {labels}")
    if problem_type == "multi_label_classification" and len(labels) > 1:
        raise ModelError(f"{name}: multi-label classifiers are not supported")
    if facts.input_hw is not None and facts.input_hw != recipe.input_size:
        raise ModelError(
            f"{name}: the preprocessing makes {recipe.input_size[1]}×{recipe.input_size[0]} images "
            f"but the ONNX input is {facts.input_hw[1]}×{facts.input_hw[0]}"
        )
    activation = "sigmoid" if len(labels) == 1 else "softmax"
    meaning: LabelMeaning = confirmed_meaning(labels, activation, overrides.judges, overrides.manipulated_labels)
    return ModelSpec(
        name=name,
        architecture=architecture,
        onnx_path=onnx_path,
        onnx_sha256=sha256 or sha256_file(onnx_path),
        input_name=facts.input_name,
        output_name=facts.output_name,
        input_size=recipe.input_size,
        preprocess=recipe,
        labels=tuple(labels),
        activation=activation,
        meaning=meaning,
        layout=layout,
        variant=variant,
        variants=variants,
        folder=folder,
        source=overrides.source or source,
        revision=overrides.revision or revision,
        fixed_batch=facts.fixed_batch,
        is_test_fixture=is_fixture,
        extras={"opset": facts.opset, "softmax_nodes": facts.softmax_count,
                "external_files": list(facts.external_files), "onnx_facts": facts.to_dict()},
        config_sha256=dict(config_sha256),
    )
