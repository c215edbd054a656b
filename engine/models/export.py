"""Turn a PyTorch checkpoint folder (Hugging Face ViT / SigLIP, or timm ViT) into an ONNX model folder.

The export keeps eager attention so that every transformer layer leaves one explicit Softmax
node whose output is that layer's attention matrix (the overlay code exposes those later),
verifies the result against the PyTorch model, and writes the folder in the layout the loader
imports as is: `model.onnx` beside the checkpoint's own `config.json` (and
`preprocessor_config.json` for Hugging Face models), plus `export_info.json` recording where
the weights came from. torch, transformers and timm are an optional extra, imported only here.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from engine.errors import ModelError
from engine.models.loader import FIXTURE_MARKER
from engine.util.hashing import sha256_file

MISSING_EXTRA = "exporting needs the optional 'export' extra: pip install '.[export]'"
WEIGHTS_FILE = "model.safetensors"
TOLERANCE = 1e-4
HF_CLASSES = {
    "vit": {"ViTForImageClassification"},
    "siglip": {"SiglipForImageClassification"},
}
# transformers builds SiglipForImageClassification only from a full SiglipConfig; a bare vision
# encoder config has no classifier and no logits.
HEADLESS = {"siglip_vision_model": "a SigLIP vision encoder without a classification head"}


@dataclass(frozen=True)
class _Prepared:
    """A PyTorch model ready to trace, and what the export must check and copy."""

    kind: str
    model: Any
    input_shape: tuple[int, int, int, int]
    layers: int
    copy_files: tuple[str, ...]


def _require(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ModelError(MISSING_EXTRA) from exc


def _version(name: str) -> str | None:
    try:
        return importlib.import_module(name).__version__
    except ImportError:
        return None


def _read_config(folder: Path) -> dict[str, Any]:
    path = folder / "config.json"
    if not path.is_file():
        raise ModelError(f"{folder.name} is not a checkpoint folder: it has no config.json.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{folder.name}/config.json cannot be read as JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelError(f"{folder.name}/config.json does not hold a JSON object.")
    return data


def _logits_only(torch: ModuleType, model: Any) -> Any:
    """Wrap a Hugging Face model so tracing sees a single `logits` tensor output."""

    class LogitsOnly(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, pixel_values: Any) -> Any:
            return self.inner(pixel_values=pixel_values).logits

    return LogitsOnly(model).eval()


def _prepare_hf(folder: Path, config: dict[str, Any]) -> _Prepared:
    model_type = config.get("model_type")
    architectures = set(config.get("architectures") or [])
    allowed = HF_CLASSES[model_type]
    if not architectures & allowed:
        raise ModelError(
            f"{folder.name} is a {model_type!r} checkpoint of class {sorted(architectures) or 'unknown'}; "
            f"only {sorted(allowed)} can be exported (an image classifier with logits)."
        )
    if not (folder / "preprocessor_config.json").is_file():
        raise ModelError(f"{folder.name} has no preprocessor_config.json; the exported model could not be fed.")
    torch = _require("torch")
    transformers = _require("transformers")
    try:
        # Eager attention keeps an explicit Softmax per layer; SDPA would fuse it away.
        model = transformers.AutoModelForImageClassification.from_pretrained(
            str(folder), attn_implementation="eager"
        ).eval()
    except Exception as exc:  # transformers raises many kinds for a bad checkpoint
        raise ModelError(f"{folder.name} cannot be loaded by transformers: {exc}") from exc
    hf_config = model.config
    vision = getattr(hf_config, "vision_config", None) or hf_config
    size = int(vision.image_size)
    channels = int(getattr(vision, "num_channels", 3))
    return _Prepared(
        kind=f"hf-{model_type}",
        model=_logits_only(torch, model),
        input_shape=(1, channels, size, size),
        layers=int(vision.num_hidden_layers),
        copy_files=("config.json", "preprocessor_config.json"),
    )


def _prepare_timm(folder: Path, config: dict[str, Any]) -> _Prepared:
    _require("torch")  # timm needs it; say so before timm fails to import
    timm = _require("timm")
    safetensors_torch = _require("safetensors.torch")
    architecture = config.get("architecture")
    pretrained_cfg = config.get("pretrained_cfg")
    if not isinstance(architecture, str) or not isinstance(pretrained_cfg, dict):
        raise ModelError(f"{folder.name}/config.json lacks timm's 'architecture' and 'pretrained_cfg' fields.")
    kwargs = dict(config.get("model_args") or {})
    kwargs["num_classes"] = config.get("num_classes", pretrained_cfg.get("num_classes"))
    try:
        model = timm.create_model(
            architecture, pretrained=False, pretrained_cfg_overlay=dict(pretrained_cfg), **kwargs
        )
        state = safetensors_torch.load_file(str(folder / WEIGHTS_FILE), device="cpu")
        model.load_state_dict(state, strict=True)
    except Exception as exc:  # unknown architecture, shape mismatch, corrupt weights
        raise ModelError(f"{folder.name} cannot be built as timm {architecture!r}: {exc}") from exc
    blocks = getattr(model, "blocks", None)
    if blocks is None:
        raise ModelError(f"{folder.name}: timm {architecture!r} is not a vision transformer with attention blocks.")
    for module in model.modules():
        # The fused kernel hides the attention probabilities; the explicit path exposes them.
        if hasattr(module, "fused_attn"):
            module.fused_attn = False
    model.eval()
    input_size = pretrained_cfg.get("input_size") or [3, 224, 224]
    return _Prepared(
        kind="timm",
        model=model,
        input_shape=(1, int(input_size[0]), int(input_size[1]), int(input_size[2])),
        layers=len(blocks),
        copy_files=("config.json",),
    )


def _prepare(folder: Path) -> _Prepared:
    config = _read_config(folder)
    if not (folder / WEIGHTS_FILE).is_file():
        found = sorted(p.name for p in folder.iterdir())
        raise ModelError(f"{folder.name} has no {WEIGHTS_FILE} (found: {', '.join(found) or 'nothing'}).")
    if "architecture" in config and "pretrained_cfg" in config:
        return _prepare_timm(folder, config)
    model_type = config.get("model_type")
    if model_type in HF_CLASSES:
        return _prepare_hf(folder, config)
    if model_type in HEADLESS:
        raise ModelError(
            f"{folder.name} holds {HEADLESS[model_type]} ({model_type!r}); it gives no logits to score with. "
            "Export the SiglipForImageClassification checkpoint (model_type 'siglip') instead."
        )
    raise ModelError(
        f"{folder.name} holds a {model_type or 'unrecognised'!s} checkpoint "
        f"(architectures: {config.get('architectures') or config.get('architecture') or 'none'}); "
        "only Hugging Face ViT / SigLIP image classifiers and timm ViTs can be exported."
    )


def _verify(torch: ModuleType, prepared: _Prepared, onnx_path: Path) -> dict[str, Any]:
    onnx = _require("onnx")
    ort = _require("onnxruntime")
    try:
        onnx.checker.check_model(str(onnx_path))
    except Exception as exc:
        raise ModelError(f"the exported ONNX model fails onnx.checker: {exc}") from exc
    graph = onnx.load(str(onnx_path)).graph
    softmax = sum(1 for node in graph.node if node.op_type == "Softmax")
    if softmax != prepared.layers:
        raise ModelError(
            f"the exported model has {softmax} Softmax nodes for {prepared.layers} layers; "
            "attention overlays need exactly one per layer."
        )
    generator = torch.Generator().manual_seed(0)
    sample = torch.randn(*prepared.input_shape, generator=generator)
    with torch.no_grad():
        expected = prepared.model(sample).numpy()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (got,) = session.run(["logits"], {"pixel_values": sample.numpy()})
    diff = float(abs(got - expected).max())
    if got.shape != expected.shape or not diff <= TOLERANCE:
        raise ModelError(
            f"the exported model disagrees with PyTorch (max difference {diff:.3g}, shapes {got.shape} "
            f"vs {expected.shape}); it was not written."
        )
    return {"softmax_nodes": softmax, "max_abs_diff_vs_torch": diff}


def export_checkpoint(
    checkpoint_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str], *, opset: int = 17
) -> Path:
    """Export the checkpoint in `checkpoint_dir` to `out_dir/model.onnx`; return `out_dir`.

    Raises ModelError when the extra is missing, the folder is not a supported checkpoint, or
    the exported graph fails its checks (checker, one Softmax per layer, logits within 1e-4).
    """
    folder = Path(checkpoint_dir)
    if not folder.is_dir():
        raise ModelError(f"{folder} is not a folder.")
    prepared = _prepare(folder)
    torch = _require("torch")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot create the output folder {out}: {exc}") from exc
    partial = out / "model.onnx.partial"
    try:
        with torch.no_grad():
            torch.onnx.export(
                prepared.model,
                (torch.zeros(*prepared.input_shape),),
                str(partial),
                dynamo=False,
                opset_version=opset,
                input_names=["pixel_values"],
                output_names=["logits"],
                dynamic_axes={"pixel_values": {0: "batch"}, "logits": {0: "batch"}},
            )
        checks = _verify(torch, prepared, partial)
    except ModelError:
        partial.unlink(missing_ok=True)
        raise
    except Exception as exc:  # tracing / serialisation failures surface as many types
        partial.unlink(missing_ok=True)
        raise ModelError(f"exporting {folder.name} to ONNX failed: {exc}") from exc
    os.replace(partial, out / "model.onnx")
    for name in prepared.copy_files:
        shutil.copyfile(folder / name, out / name)
    if (folder / FIXTURE_MARKER).is_file():
        # A random-weight test checkpoint stays marked as one once it is ONNX.
        shutil.copyfile(folder / FIXTURE_MARKER, out / FIXTURE_MARKER)
    info = {
        "source": folder.name,
        "kind": prepared.kind,
        "weights_file": WEIGHTS_FILE,
        "weights_sha256": sha256_file(folder / WEIGHTS_FILE),
        "torch": _version("torch"),
        "transformers": _version("transformers"),
        "timm": _version("timm"),
        "opset": opset,
        **checks,
    }
    (out / "export_info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return out
