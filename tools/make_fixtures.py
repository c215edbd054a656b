"""Rebuild tests/fixtures/ from scratch: images, tiny random-weight models and their PyTorch references.

Run with the tools venv (torch, transformers, timm): `/work/fxvenv/bin/python tools/make_fixtures.py`.
Every model is first saved as a real checkpoint folder, exported with
engine.models.export.export_checkpoint, and placed in the folder layout users will have; the
reference logits, probabilities, preprocessed pixels and attention-rollout maps come from the
PyTorch model fed the way the reference pipeline feeds it (transformers' load_image and Pillow
processors, timm's eval transform). Seeds are fixed, so a rerun gives the same numbers.
The models' scores mean nothing: they are random weights that only prove the plumbing.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import onnx
import onnxruntime as ort
import PIL
import timm
import torch
import transformers
from PIL import Image, ImageDraw, ImageFont
from transformers.image_utils import load_image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.models.export import export_checkpoint  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
SEED = 1234
MARKER_NAME = "DFW_TEST_FIXTURE"
MARKER_TEXT = "Random-weight test fixture. Its scores mean nothing; never use it as a detector.\n"
PIXEL_IMAGES = ("rgb_640x480.jpg", "exif_rot6_480x320.jpg", "cmyk_320x240.jpg")
LAYER0_IMAGE = "rgb_640x480.jpg"
ORT_TOLERANCE = 1e-5
DISCARD_RATIOS = (0.0, 0.5)


# ----------------------------------------------------------------------------- images

def _scene(width: int, height: int, seed: int) -> Image.Image:
    """Gradients, hard-edged shapes, text and mild noise: resampling differences show up here."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    rgb = np.stack(
        [255 * x / max(width - 1, 1), 255 * y / max(height - 1, 1), 127.5 + 127.5 * np.sin((x + 2 * y) / 9.0)],
        axis=-1,
    )
    image = Image.fromarray(rgb.clip(0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    draw.ellipse([width * 0.1, height * 0.15, width * 0.45, height * 0.6], fill=(230, 30, 40), outline=(0, 0, 0))
    draw.rectangle([width * 0.55, height * 0.5, width * 0.9, height * 0.9], fill=(20, 40, 200))
    for i in range(0, width, max(width // 12, 2)):
        draw.line([(i, 0), (width - i, height)], fill=(255, 255, 255), width=1)
    font = ImageFont.load_default(size=max(8, height // 8))
    draw.text((width * 0.05, height * 0.7), "DFW 0123", fill=(255, 255, 0), font=font)
    noisy = np.asarray(image).astype(np.int16) + rng.integers(-6, 7, size=(height, width, 3))
    return Image.fromarray(noisy.clip(0, 255).astype(np.uint8), "RGB")


def make_images(folder: Path) -> None:
    folder.mkdir(parents=True)
    _scene(640, 480, 1).save(folder / "rgb_640x480.jpg", quality=88)

    rgba = _scene(300, 500, 2).convert("RGBA")
    alpha = np.tile(np.linspace(0, 255, 300), (500, 1))
    alpha[:120, :] = 0  # fully transparent band whose hidden colours differ from any matte
    rgba.putalpha(Image.fromarray(alpha.astype(np.uint8), "L"))
    rgba.save(folder / "rgba_300x500.png", optimize=True)

    _scene(257, 129, 3).convert("L").save(folder / "gray_257x129.png", optimize=True)
    _scene(200, 200, 4).quantize(colors=48, method=Image.Quantize.MEDIANCUT).save(folder / "palette_200x200.png")
    la = _scene(64, 48, 5).convert("LA")
    la.putalpha(Image.fromarray(np.tile(np.linspace(255, 40, 64), (48, 1)).astype(np.uint8), "L"))
    la.save(folder / "la_64x48.png")
    _scene(320, 240, 6).convert("CMYK").save(folder / "cmyk_320x240.jpg", quality=88)

    rotated = _scene(480, 320, 7)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, displayed portrait (rotate 90° clockwise)
    rotated.save(folder / "exif_rot6_480x320.jpg", quality=88, exif=exif.tobytes())

    _scene(17, 31, 8).save(folder / "tiny_17x31.png")
    frames = [_scene(96, 64, 9 + i).quantize(colors=32) for i in range(3)]
    frames[0].save(folder / "animated_3frames.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)

    ramp = (np.linspace(0, 65535, 100)[None, :] * np.linspace(0.2, 1.0, 80)[:, None]).astype(np.uint16)
    Image.frombytes("I;16", (100, 80), ramp.astype("<u2").tobytes()).save(folder / "i16_100x80.png")


def describe_images(folder: Path) -> dict[str, Any]:
    """How each file opens in Pillow and what load_image turns it into (size, bytes digest)."""
    out = {}
    for path in sorted(folder.iterdir()):
        with Image.open(path) as raw:
            stored = {"mode": raw.mode, "size": list(raw.size), "frames": getattr(raw, "n_frames", 1)}
        rgb = load_image(str(path))
        out[path.name] = {
            "stored": stored,
            "loaded_rgb_size": list(rgb.size),
            "loaded_rgb_sha256": hashlib.sha256(rgb.tobytes()).hexdigest(),
        }
    return out


# ----------------------------------------------------------------------------- models

@dataclass
class Built:
    """A checkpoint folder, the PyTorch model behind it and how to feed / read it."""

    name: str
    checkpoint: Path
    model: torch.nn.Module
    preprocess: Callable[[Image.Image], torch.Tensor]
    labels: list[str]
    readout: str  # "cls" or "mean"
    prefix_tokens: int
    patch: int
    attentions: Callable[[torch.Tensor], list[torch.Tensor]]


def _hf_attentions(model: torch.nn.Module) -> Callable[[torch.Tensor], list[torch.Tensor]]:
    def run(pixels: torch.Tensor) -> list[torch.Tensor]:
        return list(model(pixel_values=pixels, output_attentions=True).attentions)

    return run


def _vit(name: str, tmp: Path, patch: int, id2label: dict[int, str], seed: int) -> Built:
    torch.manual_seed(seed)
    config = transformers.ViTConfig(
        image_size=224, patch_size=patch, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, id2label=id2label, label2id={v: k for k, v in id2label.items()},
        architectures=["ViTForImageClassification"],
    )
    ckpt = tmp / f"{name}_checkpoint"
    transformers.ViTForImageClassification(config).save_pretrained(ckpt)
    transformers.ViTImageProcessor(
        size={"height": 224, "width": 224}, resample=2, image_mean=[0.5] * 3, image_std=[0.5] * 3
    ).save_pretrained(ckpt)
    return _hf_built(name, ckpt, transformers.ViTImageProcessorPil, "cls", 1, patch)


def _siglip(tmp: Path, seed: int) -> Built:
    torch.manual_seed(seed)
    id2label = {0: "fake", 1: "real"}
    config = transformers.SiglipConfig(
        text_config={"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                     "intermediate_size": 64, "vocab_size": 64, "max_position_embeddings": 16},
        vision_config={"hidden_size": 48, "num_hidden_layers": 2, "num_attention_heads": 2,
                       "intermediate_size": 96, "image_size": 128, "patch_size": 16},
        id2label=id2label, label2id={v: k for k, v in id2label.items()},
        architectures=["SiglipForImageClassification"],
    )
    ckpt = tmp / "siglip_optimum_checkpoint"
    transformers.SiglipForImageClassification(config).save_pretrained(ckpt)
    transformers.SiglipImageProcessor(
        size={"height": 128, "width": 128}, resample=3, image_mean=[0.5] * 3, image_std=[0.5] * 3
    ).save_pretrained(ckpt)
    return _hf_built("siglip_optimum", ckpt, transformers.SiglipImageProcessorPil, "mean", 0, 16)


def _hf_built(name: str, ckpt: Path, pil_class: Any, readout: str, prefix: int, patch: int) -> Built:
    model = transformers.AutoModelForImageClassification.from_pretrained(ckpt, attn_implementation="eager").eval()
    processor = pil_class.from_pretrained(ckpt)

    def preprocess(image: Image.Image) -> torch.Tensor:
        return processor(images=image, return_tensors="pt")["pixel_values"]

    labels = [model.config.id2label[i] for i in range(len(model.config.id2label))]
    return Built(name, ckpt, model, preprocess, labels, readout, prefix, patch, _hf_attentions(model))


def _timm(tmp: Path, seed: int, size: int = 96) -> Built:
    from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
    from timm.models._hub import save_for_hf

    torch.manual_seed(seed)
    model = timm.create_model(
        "vit_small_patch16_384", pretrained=False, num_classes=1, img_size=size, embed_dim=48, depth=2, num_heads=2
    )
    ckpt = tmp / "timm_vit_checkpoint"
    save_for_hf(
        model, str(ckpt), model_config={"label_names": ["fake"]}, safe_serialization=True,
        data_config={"input_size": (3, size, size), "interpolation": "bilinear", "crop_pct": 0.875,
                     "crop_mode": "center", "mean": IMAGENET_DEFAULT_MEAN, "std": IMAGENET_DEFAULT_STD},
    )
    # Rebuild the way a user of the published folder would, so pretrained_cfg comes from config.json.
    model = timm.create_model(f"local-dir:{ckpt}", pretrained=True).eval()
    for block in model.blocks:
        block.attn.fused_attn = False
    transform = timm.data.create_transform(**timm.data.resolve_data_config({}, model=model))
    captured: list[torch.Tensor] = []
    for block in model.blocks:
        block.attn.attn_drop.register_forward_pre_hook(lambda _m, args: captured.append(args[0].detach().clone()))

    def attentions(pixels: torch.Tensor) -> list[torch.Tensor]:
        captured.clear()
        model(pixels)
        return list(captured)

    return Built("timm_vit", ckpt, model, lambda image: transform(image).unsqueeze(0), ["fake"], "cls",
                 model.num_prefix_tokens, 16, attentions)


def check_timm_hook(built: Built, pixels: torch.Tensor) -> float:
    """Recompute block 0's softmax(q·kᵀ·scale) by hand; the hooked tensor must equal it."""
    attn = built.model.blocks[0].attn
    seen: list[torch.Tensor] = []
    handle = attn.register_forward_pre_hook(lambda _m, args: seen.append(args[0]))
    hooked = built.attentions(pixels)[0]
    handle.remove()
    x = seen[0]
    b, n, c = x.shape
    qkv = attn.qkv(x).reshape(b, n, 3, attn.num_heads, attn.head_dim).permute(2, 0, 3, 1, 4)
    q, k = attn.q_norm(qkv[0]), attn.k_norm(qkv[1])
    manual = ((q * attn.scale) @ k.transpose(-2, -1)).softmax(dim=-1)
    assert torch.allclose(hooked.sum(-1), torch.ones(()), atol=1e-5)
    return float((hooked - manual).abs().max())


# ----------------------------------------------------------------------------- references

def activation(logits: np.ndarray) -> tuple[str, np.ndarray]:
    if logits.shape[-1] == 1:
        return "sigmoid", 1.0 / (1.0 + np.exp(-logits))
    shifted = np.exp(logits - logits.max(-1, keepdims=True))
    return "softmax", shifted / shifted.sum(-1, keepdims=True)


def rollout(attentions: list[np.ndarray], discard: float, readout: str, prefix: int, grid: tuple[int, int]) -> np.ndarray:
    """Abnar & Zuidema rollout with optional discard of the smallest head-mean weights."""
    n = attentions[0].shape[-1]
    result = np.eye(n)
    for layer in attentions:
        a = layer.astype(np.float64).mean(axis=0)
        if discard > 0:
            flat = a.reshape(-1).copy()
            flat[np.argsort(flat, kind="stable")[: math.floor(discard * n * n)]] = 0.0
            a = flat.reshape(n, n)
        a = 0.5 * a + 0.5 * np.eye(n)
        a = a / a.sum(axis=-1, keepdims=True)
        result = a @ result
    r = result[0, prefix:] if readout == "cls" else result.mean(axis=0)
    r = r.reshape(grid)
    return (r - r.min()) / (r.max() - r.min())


def versions() -> dict[str, str]:
    return {"torch": torch.__version__, "transformers": transformers.__version__, "timm": timm.__version__,
            "onnx": onnx.__version__, "onnxruntime": ort.__version__, "pillow": PIL.__version__,
            "numpy": np.__version__}


def _run_ort(path: Path, pixels: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["logits"], {"pixel_values": pixels})[0]


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def make_references(built: Built, onnx_path: Path, images: Path, refs: Path, notes: dict[str, Any],
                    quantized: Path | None = None) -> None:
    header = {"generator": {"versions": versions(), "seed": SEED, "script": "tools/make_fixtures.py"}}
    result = {**header, "source": "pytorch", "labels": built.labels, "images": {}}
    quant = {**header, "source": "onnxruntime quantized onnx/model_quantized.onnx fed the PyTorch-preprocessed "
             "pixels", "labels": built.labels, "images": {}}
    pixels_out: dict[str, np.ndarray] = {}
    maps: dict[str, np.ndarray] = {}
    worst_ort = worst_quant = 0.0
    for name in sorted(p.name for p in images.iterdir()):
        image = load_image(str(images / name))
        pixels = built.preprocess(image)
        with torch.no_grad():
            logits = built.model(pixels)
            logits = (logits if isinstance(logits, torch.Tensor) else logits.logits).numpy()
            attn = [a[0].numpy() for a in built.attentions(pixels)]
        kind, probs = activation(logits.astype(np.float64))
        result["activation"] = kind
        result["images"][name] = {"logits": logits[0].tolist(), "probs": probs[0].tolist()}
        ort_probs = activation(_run_ort(onnx_path, pixels.numpy()).astype(np.float64))[1]
        worst_ort = max(worst_ort, float(np.abs(ort_probs - probs).max()))
        if quantized is not None:
            q_logits = _run_ort(quantized, pixels.numpy())
            q_kind, q_probs = activation(q_logits.astype(np.float64))
            quant["activation"] = q_kind
            quant["images"][name] = {"logits": q_logits[0].tolist(), "probs": q_probs[0].tolist()}
            worst_quant = max(worst_quant, float(np.abs(q_probs - probs).max()))
        if name in PIXEL_IMAGES:
            pixels_out[name] = pixels[0].numpy().astype(np.float32)
        h, w = pixels.shape[-2:]
        grid = (h // built.patch, w // built.patch)
        for d in DISCARD_RATIOS:
            maps[f"{name}|d={d}"] = rollout(attn, d, built.readout, built.prefix_tokens, grid)
        if name == LAYER0_IMAGE:
            maps[f"{name}|layer0_mean"] = attn[0].astype(np.float64).mean(axis=0)
    if worst_ort > ORT_TOLERANCE:
        raise SystemExit(f"{built.name}: onnxruntime probabilities differ from PyTorch by {worst_ort}")
    notes.setdefault("ort_fp32_vs_torch_max_prob_diff", {})[built.name] = worst_ort
    _write_json(refs / f"{built.name}.json", result)
    np.savez_compressed(refs / f"{built.name}_pixels.npz", **pixels_out)
    if quantized is None:  # the quality model needs no overlay reference
        np.savez_compressed(refs / f"{built.name}_rollout.npz", **maps)
    if quantized is not None:
        notes["quantized_vs_torch_max_prob_diff"] = worst_quant
        _write_json(refs / f"{built.name}_quantized_onnx.json", quant)


# ----------------------------------------------------------------------------- layouts

def _mark(folder: Path) -> None:
    (folder / MARKER_NAME).write_text(MARKER_TEXT, encoding="utf-8")


def place_optimum(built: Built, models: Path) -> Path:
    target = models / built.name
    export_checkpoint(built.checkpoint, target)
    _mark(target)
    return target / "model.onnx"


def place_tfjs(built: Built, models: Path) -> tuple[Path, Path]:
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.registry import IntegerOpsRegistry

    target = models / built.name
    export_checkpoint(built.checkpoint, target)
    (target / "onnx").mkdir()
    fp32 = target / "onnx" / "model.onnx"
    (target / "model.onnx").rename(fp32)
    # transformers.js "q8": QUInt8 weights when the graph has a Conv (the ViT patch embedding),
    # per-channel and reduced range for every model type outside its small exclusion list.
    graph_ops = {node.op_type for node in onnx.load(str(fp32)).graph.node}
    weight_type = QuantType.QUInt8 if "Conv" in graph_ops else QuantType.QInt8
    quantized = target / "onnx" / "model_quantized.onnx"
    quantize_dynamic(
        fp32, quantized, per_channel=True, reduce_range=True, weight_type=weight_type,
        op_types_to_quantize=list(IntegerOpsRegistry.keys()),
        extra_options={"EnableSubgraph": True, "MatMulConstBOnly": True},
    )
    _write_json(target / "quantize_config.json", {
        "modes": ["q8"], "per_channel": True, "reduce_range": True, "block_size": None, "is_symmetric": True,
        "accuracy_level": None, "quant_type": 1, "op_block_list": None,
    })
    _mark(target)
    return fp32, quantized


def keep_checkpoint(built: Built, checkpoints: Path) -> None:
    """The source checkpoint folder, for tests of checkpoint detection (it is never run in tests)."""
    target = checkpoints / built.name
    shutil.copytree(built.checkpoint, target)
    _mark(target)


def main() -> int:
    if FIXTURES.exists():
        for child in ("models", "images", "reference", "checkpoints"):
            shutil.rmtree(FIXTURES / child, ignore_errors=True)
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    images = FIXTURES / "images"
    make_images(images)
    models, refs, checkpoints = FIXTURES / "models", FIXTURES / "reference", FIXTURES / "checkpoints"
    for folder in (models, refs, checkpoints):
        folder.mkdir(parents=True)
    notes: dict[str, Any] = {"versions": versions(), "seed": SEED, "images": describe_images(images)}
    with tempfile.TemporaryDirectory() as tmp_name, torch.no_grad():
        tmp = Path(tmp_name)
        vit = _vit("vit_optimum", tmp, 16, {0: "Real", 1: "Fake"}, SEED + 1)
        make_references(vit, place_optimum(vit, models), images, refs, notes)
        keep_checkpoint(vit, checkpoints)

        quality = _vit("vit_quality_tfjs", tmp, 32, {0: "Issue In Deepfake", 1: "High Quality Deepfake"}, SEED + 2)
        fp32, quantized = place_tfjs(quality, models)
        make_references(quality, fp32, images, refs, notes, quantized=quantized)

        siglip = _siglip(tmp, SEED + 3)
        make_references(siglip, place_optimum(siglip, models), images, refs, notes)

        timm_vit = _timm(tmp, SEED + 4)
        make_references(timm_vit, place_optimum(timm_vit, models), images, refs, notes)
        keep_checkpoint(timm_vit, checkpoints)
        sample = timm_vit.preprocess(load_image(str(images / LAYER0_IMAGE)))
        notes["timm_hook_vs_manual_softmax_max_diff"] = check_timm_hook(timm_vit, sample)
        notes.update(measure_preprocessing(vit, siglip, timm_vit, images / LAYER0_IMAGE))
    for folder in (images, refs, checkpoints):
        _mark(folder)
    _write_json(refs / "notes.json", notes)
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file():
            print(f"{path.stat().st_size:>9}  {path.relative_to(FIXTURES)}")
    return 0


def measure_preprocessing(vit: Built, siglip: Built, timm_vit: Built, path: Path) -> dict[str, Any]:
    """How far the torchvision backend and a plain Pillow+numpy pipeline sit from the reference pixels."""
    image = load_image(str(path))
    fast = transformers.ViTImageProcessor.from_pretrained(vit.checkpoint)
    tv = fast(images=image, return_tensors="pt")["pixel_values"].numpy()
    pil = vit.preprocess(image).numpy()

    def manual(size: tuple[int, int], resample: int, mean: Any, std: Any, crop: tuple[int, int] | None = None) -> np.ndarray:
        resized = image.resize(size, resample=resample)
        if crop is not None:
            left, top = int(round((size[0] - crop[0]) / 2.0)), int(round((size[1] - crop[1]) / 2.0))
            resized = resized.crop((left, top, left + crop[0], top + crop[1]))
        x = np.asarray(resized, dtype=np.float32) / 255.0
        return ((x - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)).transpose(2, 0, 1)[None]

    cfg = timm_vit.model.pretrained_cfg
    s = cfg["input_size"][-1]
    short = math.floor(s / cfg["crop_pct"])
    w, h = image.size
    scaled = (short, int(short * h / w)) if w <= h else (int(short * w / h), short)
    return {
        "preprocessing_image": path.name,
        "vit_torchvision_backend_vs_pil_backend_max_abs": float(np.abs(tv - pil).max()),
        "vit_pil_backend_vs_manual_pillow_numpy_max_abs": float(np.abs(manual((224, 224), 2, [0.5] * 3, [0.5] * 3) - pil).max()),
        "siglip_pil_backend_vs_manual_pillow_numpy_max_abs": float(
            np.abs(manual((128, 128), 3, [0.5] * 3, [0.5] * 3) - siglip.preprocess(image).numpy()).max()),
        "timm_transform_vs_manual_pillow_numpy_max_abs": float(
            np.abs(manual(scaled, 2, cfg["mean"], cfg["std"], (s, s)) - timm_vit.preprocess(image).numpy()).max()),
        "timm_resize_shorter_side": short,
    }


if __name__ == "__main__":
    raise SystemExit(main())
