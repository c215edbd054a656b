"""Pixel pipelines that reproduce the reference processors exactly, in numpy + Pillow.

Two families cover the detectors analysts bring (see MODELS.md):
- Hugging Face image processors (ViTImageProcessor, SiglipImageProcessor and their kin):
  resize with Pillow on uint8 — to an exact height×width, or the shorter side to
  `shortest_edge` — optional centre crop, ×rescale_factor, (x − mean) / std.
- timm's eval transform: shorter side to floor(size / crop_pct) with Pillow, centre crop
  (torchvision rounds the offset, Hugging Face floors it), /255, ImageNet-style mean/std.
Pillow anti-aliases when shrinking, which is why cv2.resize is not a substitute. Every
number comes from the model folder's own config, recorded in a `PreprocessRecipe`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Mapping

import numpy as np
from PIL import Image

from engine.errors import MediaError, ModelError

# Pillow resample codes, the integers Hugging Face configs store.
RESAMPLE_NAMES = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}
RESAMPLE_CODES = {name: code for code, name in RESAMPLE_NAMES.items()}

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class PreprocessRecipe:
    """Every number the pixel pipeline needs, as read from the model's own config.

    family: "hf" (Hugging Face image processor) or "timm" (timm eval transform).
    resize_to: exact (height, width), or None when resizing by the shorter side.
    shortest_edge: target for the shorter side when resize_to is None.
    crop: (height, width) of the centre crop, or None.
    """

    family: str
    input_size: tuple[int, int]
    resample: int = 2
    do_resize: bool = True
    resize_to: tuple[int, int] | None = None
    shortest_edge: int | None = None
    crop: tuple[int, int] | None = None
    do_rescale: bool = True
    rescale_factor: float = 1 / 255
    do_normalize: bool = True
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)

    def __post_init__(self) -> None:
        # Checked here so that every source (config files, overrides, stored manifests) is.
        if len(self.input_size) != 2 or any(not isinstance(v, int) or v < 1 for v in self.input_size):
            raise ModelError(f"input size must be two positive whole numbers, got {self.input_size!r}")
        for name, values in (("mean", self.mean), ("std", self.std)):
            if len(values) != 3 or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
                raise ModelError(f"preprocessing {name} must be three finite numbers, got {values!r}")
        if any(v == 0 for v in self.std):
            raise ModelError(f"preprocessing std must not be zero (every pixel would become infinite), got {self.std!r}")
        if not (isinstance(self.rescale_factor, (int, float)) and math.isfinite(self.rescale_factor)
                and self.rescale_factor > 0):
            raise ModelError(f"rescale factor must be a positive number, got {self.rescale_factor!r}")
        for name, size in (("resize", self.resize_to), ("crop", self.crop)):
            if size is not None and (len(size) != 2 or any(not isinstance(v, int) or v < 1 for v in size)):
                raise ModelError(f"{name} size must be two positive whole numbers, got {size!r}")
        edge = self.shortest_edge
        if edge is not None and (isinstance(edge, bool) or not isinstance(edge, int) or edge < 1):
            raise ModelError(f"shortest edge must be a positive whole number, got {self.shortest_edge!r}")

    def describe(self) -> str:
        """One line for reports: how pixels were prepared."""
        h, w = self.input_size
        steps = []
        if self.do_resize and self.resize_to:
            steps.append(f"resize to {self.resize_to[1]}×{self.resize_to[0]} ({RESAMPLE_NAMES.get(self.resample, self.resample)}, aspect not kept)")
        elif self.do_resize and self.shortest_edge:
            steps.append(f"resize shorter side to {self.shortest_edge} ({RESAMPLE_NAMES.get(self.resample, self.resample)})")
        if self.crop:
            steps.append(f"centre crop {self.crop[1]}×{self.crop[0]}")
        if self.do_rescale:
            steps.append(f"×{self.rescale_factor:.6g}")
        if self.do_normalize:
            steps.append(f"normalise mean {tuple(round(m, 4) for m in self.mean)} std {tuple(round(s, 4) for s in self.std)}")
        return f"{self.family}: " + ", ".join(steps) + f" → {w}×{h}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PreprocessRecipe":
        fields = dict(data)
        for key in ("input_size", "resize_to", "crop", "mean", "std"):
            if fields.get(key) is not None:
                fields[key] = tuple(fields[key])
        return cls(**fields)


def _triple(value: Any, name: str) -> tuple[float, float, float]:
    if isinstance(value, (int, float)):
        return (float(value),) * 3
    values = tuple(float(v) for v in value)
    if len(values) == 1:
        return values * 3
    if len(values) != 3:
        raise ModelError(f"{name} must have 3 values (one per RGB channel), got {len(values)}")
    return (values[0], values[1], values[2])


def _resample_code(value: Any) -> int:
    if isinstance(value, str):
        key = value.lower().replace("pil.image.", "").replace("resampling.", "")
        if key in RESAMPLE_CODES:
            return RESAMPLE_CODES[key]
        raise ModelError(f"unknown resampling filter {value!r}")
    code = int(value)
    if code not in RESAMPLE_NAMES:
        raise ModelError(f"unknown Pillow resample code {code}")
    return code


def recipe_from_hf(config: Mapping[str, Any]) -> PreprocessRecipe:
    """From a Hugging Face `preprocessor_config.json` (ViT, SigLIP, DeiT-style processors)."""
    size = config.get("size", 224)
    do_resize = bool(config.get("do_resize", True))
    resize_to: tuple[int, int] | None = None
    shortest: int | None = None
    if isinstance(size, (int, float)):
        # Older configs give one number; ViT-style processors treat it as a square.
        resize_to = (int(size), int(size))
    elif "height" in size and "width" in size:
        resize_to = (int(size["height"]), int(size["width"]))
    elif "shortest_edge" in size:
        shortest = int(size["shortest_edge"])
    else:
        raise ModelError(f"preprocessor size {size!r} is not a form this program knows")
    crop = None
    if config.get("do_center_crop"):
        crop_size = config.get("crop_size", size)
        if isinstance(crop_size, (int, float)):
            crop = (int(crop_size), int(crop_size))
        else:
            crop = (int(crop_size["height"]), int(crop_size["width"]))
    if crop:
        input_size = crop
    elif resize_to:
        input_size = resize_to
    else:
        raise ModelError("a shortest-edge resize without a centre crop gives no fixed input size")
    return PreprocessRecipe(
        family="hf",
        input_size=input_size,
        resample=_resample_code(config.get("resample", 2)),
        do_resize=do_resize,
        resize_to=resize_to,
        shortest_edge=shortest,
        crop=crop,
        do_rescale=bool(config.get("do_rescale", True)),
        rescale_factor=float(config.get("rescale_factor", 1 / 255)),
        do_normalize=bool(config.get("do_normalize", True)),
        mean=_triple(config.get("image_mean", (0.5, 0.5, 0.5)), "image_mean"),
        std=_triple(config.get("image_std", (0.5, 0.5, 0.5)), "image_std"),
    )


def recipe_from_timm(pretrained_cfg: Mapping[str, Any]) -> PreprocessRecipe:
    """From a timm `pretrained_cfg`: timm's eval transform (transforms_imagenet_eval)."""
    input_size = pretrained_cfg.get("test_input_size") or pretrained_cfg.get("input_size") or (3, 224, 224)
    if len(input_size) != 3:
        raise ModelError(f"timm input_size {input_size!r} is not (channels, height, width)")
    height, width = int(input_size[1]), int(input_size[2])
    crop_pct = pretrained_cfg.get("test_crop_pct") or pretrained_cfg.get("crop_pct") or 0.875
    crop_mode = pretrained_cfg.get("crop_mode", "center")
    interpolation = pretrained_cfg.get("interpolation", "bilinear")
    if crop_mode not in ("center", "squash"):
        raise ModelError(f"timm crop_mode {crop_mode!r} is not supported (center, squash)")
    scale_h = math.floor(height / crop_pct)
    scale_w = math.floor(width / crop_pct)
    if crop_mode == "squash":
        resize_to, shortest = (scale_h, scale_w), None
    elif height == width:
        resize_to, shortest = None, scale_h
    else:
        # timm passes a (h, w) tuple to Resize here: an exact resize, aspect not kept.
        resize_to, shortest = (scale_h, scale_w), None
    return PreprocessRecipe(
        family="timm",
        input_size=(height, width),
        resample=_resample_code(interpolation),
        do_resize=True,
        resize_to=resize_to,
        shortest_edge=shortest,
        crop=(height, width),
        do_rescale=True,
        rescale_factor=1 / 255,
        do_normalize=True,
        mean=_triple(pretrained_cfg.get("mean", IMAGENET_MEAN), "mean"),
        std=_triple(pretrained_cfg.get("std", IMAGENET_STD), "std"),
    )


def shorter_side_size(width: int, height: int, target: int) -> tuple[int, int]:
    """Output (width, height) when the shorter side becomes `target`.

    torchvision (timm) and transformers both truncate the longer side the same way.
    """
    short, long = (width, height) if width <= height else (height, width)
    new_long = int(target * long / short)
    return (target, new_long) if width <= height else (new_long, target)


def crop_start(size: int, crop: int, family: str) -> int:
    """Where a centre crop of `crop` pixels starts along an axis of `size` pixels; negative
    when the crop is larger and the image is padded (with zeros) by that much first.

    timm rounds the offsets, Hugging Face floors them; both pad a too-small image.
    """
    if crop > size:
        return -(int(round((crop - size) / 2.0)) if family == "timm" else (crop - size) // 2)
    return int(round((size - crop) / 2.0)) if family == "timm" else (size - crop) // 2


def _centre_crop(image: Image.Image, crop: tuple[int, int], family: str) -> Image.Image:
    crop_h, crop_w = crop
    width, height = image.size
    left, top = crop_start(width, crop_w, family), crop_start(height, crop_h, family)
    if left < 0 or top < 0:
        canvas = Image.new("RGB", (max(width, crop_w), max(height, crop_h)))
        canvas.paste(image, (max(0, -left), max(0, -top)))
        image, left, top = canvas, max(0, left), max(0, top)
    return image.crop((left, top, left + crop_w, top + crop_h))


# Pillow resizes in two passes, through an image as wide as the output and as tall as the
# input (or the reverse). A 1×140,000,000 strip passes the decoder's pixel limit yet would
# need a 224×140,000,000 intermediate: refuse it with a reason instead of a MemoryError.
MAX_RESIZE_PIXELS = 100_000_000


def _resize_target(size: tuple[int, int], recipe: PreprocessRecipe) -> tuple[int, int] | None:
    """(width, height) the recipe resizes an image of `size` to, or None when it is not resized."""
    if not recipe.do_resize:
        return None
    if recipe.resize_to is not None:
        target = (recipe.resize_to[1], recipe.resize_to[0])
    elif recipe.shortest_edge is not None:
        target = shorter_side_size(*size, recipe.shortest_edge)
    else:
        return None
    return None if target == size else target


def check_resizable(size: tuple[int, int], recipe: PreprocessRecipe) -> None:
    """Raise MediaError when the recipe's resize of an image of `size` (width, height) would
    need more than MAX_RESIZE_PIXELS in Pillow's intermediate image."""
    target = _resize_target(size, recipe)
    if target is None:
        return
    (in_w, in_h), (out_w, out_h) = size, target
    if max(out_w * out_h, out_w * in_h, in_w * out_h) > MAX_RESIZE_PIXELS:
        raise MediaError(f"image of {in_w}×{in_h} pixels is too elongated to resize to {out_w}×{out_h} for this model")


def resize_and_crop(image: Image.Image, recipe: PreprocessRecipe) -> Image.Image:
    """The geometric half of the pipeline on an RGB Pillow image (uint8 stays uint8)."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    target = _resize_target(image.size, recipe)
    if target is not None:
        check_resizable(image.size, recipe)
        image = image.resize(target, resample=recipe.resample, reducing_gap=None)
    if recipe.crop is not None:
        image = _centre_crop(image, recipe.crop, recipe.family)
    return image


def preprocess(image: Image.Image, recipe: PreprocessRecipe) -> np.ndarray:
    """One RGB image → float32 CHW array, exactly as the model's reference processor makes it."""
    prepared = resize_and_crop(image, recipe)
    pixels = np.asarray(prepared, dtype=np.uint8)
    if recipe.do_rescale:
        # transformers rescales in float64 and casts to float32; (x/255) in float32 equals it.
        values = (pixels.astype(np.float64) * recipe.rescale_factor).astype(np.float32)
    else:
        values = pixels.astype(np.float32)
    if recipe.do_normalize:
        mean = np.asarray(recipe.mean, dtype=np.float32)
        std = np.asarray(recipe.std, dtype=np.float32)
        values = (values - mean) / std
    return np.ascontiguousarray(values.transpose(2, 0, 1), dtype=np.float32)


def preprocess_batch(images: Iterable[Image.Image], recipe: PreprocessRecipe) -> np.ndarray:
    """Images → (N, 3, H, W) float32, filled in place (no list of intermediate arrays)."""
    images = list(images)
    height, width = recipe.input_size
    batch = np.empty((len(images), 3, height, width), dtype=np.float32)
    for index, image in enumerate(images):
        batch[index] = preprocess(image, recipe)
    return batch
