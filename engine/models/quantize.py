"""INT8 variants of a stored model, accepted only after they agree with the fp32 model.

A variant is either made here (onnxruntime dynamic quantization of the fp32 graph's MatMul
weights, signed 8-bit, no reduced range: the VNNI/AMX integer units need neither unsigned
weights nor the 7-bit workaround) or taken from the model folder itself (the `_quantized`,
`_int8` or `_uint8` file a transformers.js repo ships). Either way it is run beside the fp32
model on calibration images and judged by two numbers: top-1 agreement and the largest
|Δp(manipulated)| (|Δ top-1 probability| for a model that does not judge authenticity).
A published SigLIP export flipped verdicts after INT8 quantization, so a variant below the
thresholds is refused unless the user forces it, and the figures are stored with it in the
manifest, from where every run that uses the variant carries them.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
from PIL import Image

from engine.errors import ModelError
from engine.util.hashing import sha256_file
from engine.models.spec import ModelSpec
from engine.models.store import ModelStore
from engine.models.gate import VALIDATION_BATCH, GateResult, VariantCheck, make_variant
from engine.models.pixelset import PixelSet
from engine.models.quantizer import quantization_tools, run_quantizer
from engine.models.static import images_per_second, quantize_static_onnx
from engine.util.progress import IsCancelled, Progress

MADE_VARIANT = "int8"
# A folder's own quantized files, in the order they are preferred.
SHIPPED_VARIANTS = ("quantized", "int8", "uint8")
WEIGHT_TYPES = ("qint8", "quint8")
METHODS = ("dynamic", "static")
# What `models quantize --to` can make: an onnxruntime INT8 file, or the fp32 file validated on
# OpenVINO's CPU plugin in bf16 (openvino_variant.py).
VARIANT_TARGETS = (MADE_VARIANT, "openvino-bf16")



@dataclass(frozen=True)
class Thresholds:
    """What a variant must reach on the calibration set to be accepted."""

    min_top1_agreement: float = 0.99
    max_abs_delta_p: float = 0.03


@dataclass(frozen=True)
class QuantizeRecipe:
    """How a variant is made: onnxruntime dynamic quantization settings."""

    weight_type: str = "qint8"
    per_channel: bool = False
    reduce_range: bool = False
    op_types: tuple[str, ...] = ("MatMul",)
    # When the all-INT8 variant fails the gate, keep the most sensitive nodes in fp32 (gate.py).
    mixed: bool = True
    # "dynamic" (weight MatMuls), "static" (every MatMul, ranges from the tuning images, static.py),
    # or "auto": both, and the faster of those that pass on this machine.
    method: str = "auto"


@dataclass(frozen=True)
class Agreement:
    """How a candidate's outputs compare with the fp32 model's on the same pixels."""

    images: int
    top1_agreement: float
    max_abs_delta_p: float
    delta_of: str  # "p_manipulated" or "top1_probability"
    disagreeing: tuple[int, ...] = ()  # calibration indices whose top-1 changed

    def passes(self, thresholds: Thresholds) -> bool:
        return (self.images > 0 and self.top1_agreement >= thresholds.min_top1_agreement
                and self.max_abs_delta_p <= thresholds.max_abs_delta_p)


@dataclass(frozen=True)
class QuantizeOutcome:
    """What `quantize_stored_model` did: the variant, its figures, and whether it was accepted."""

    name: str
    variant: str
    relative_path: str
    origin: str  # "made" or "shipped"
    agreement: Agreement
    accepted: bool
    forced: bool
    figures: dict[str, Any] = field(default_factory=dict)


def _top1(spec: ModelSpec, probabilities: np.ndarray) -> np.ndarray:
    if spec.activation == "sigmoid":
        return (probabilities[:, 0] >= 0.5).astype(np.int64)
    return probabilities.argmax(axis=1)


def compare_logits(spec: ModelSpec, reference: np.ndarray, candidate: np.ndarray) -> Agreement:
    """Top-1 agreement and max |Δp| of candidate logits against the fp32 reference logits."""
    reference = np.asarray(reference, dtype=np.float64)
    candidate = np.asarray(candidate, dtype=np.float64)
    if reference.shape != candidate.shape:
        raise ModelError(f"the variant outputs shape {candidate.shape}, the fp32 model {reference.shape}")
    if len(reference) == 0:
        return Agreement(0, 0.0, float("inf"), "p_manipulated" if spec.meaning.is_authenticity else "top1_probability")
    p_ref, p_cand = spec.probabilities(reference), spec.probabilities(candidate)
    top_ref, top_cand = _top1(spec, p_ref), _top1(spec, p_cand)
    manipulated_ref = spec.p_manipulated(p_ref)
    if manipulated_ref is not None:
        delta = np.abs(spec.p_manipulated(p_cand) - manipulated_ref)
        delta_of = "p_manipulated"
    else:
        if spec.activation == "sigmoid":
            delta = np.abs(p_cand[:, 0] - p_ref[:, 0])
        else:
            rows = np.arange(len(p_ref))
            delta = np.abs(p_cand[rows, top_ref] - p_ref[rows, top_ref])
        delta_of = "top1_probability"
    if not np.all(np.isfinite(delta)):
        return Agreement(len(reference), float(np.mean(top_ref == top_cand)), float("inf"), delta_of,
                         tuple(int(i) for i in np.flatnonzero(top_ref != top_cand)))
    return Agreement(
        images=len(reference),
        top1_agreement=float(np.mean(top_ref == top_cand)),
        max_abs_delta_p=float(delta.max()),
        delta_of=delta_of,
        disagreeing=tuple(int(i) for i in np.flatnonzero(top_ref != top_cand)),
    )


def quantize_onnx(source: str | os.PathLike, target: str | os.PathLike,
                  recipe: QuantizeRecipe = QuantizeRecipe(), keep_fp32: Sequence[str] = ()) -> Path:
    """Write a dynamically quantized copy of `source` to `target` (onnxruntime.quantization),
    leaving the nodes named in `keep_fp32` as they are."""
    if recipe.weight_type not in WEIGHT_TYPES:
        raise ModelError(f"unknown weight type {recipe.weight_type!r}: choose {' or '.join(WEIGHT_TYPES)}")
    tools = quantization_tools()
    weight = tools.QuantType.QInt8 if recipe.weight_type == "qint8" else tools.QuantType.QUInt8
    target = Path(target)
    return run_quantizer(lambda: tools.quantize_dynamic(
        Path(source), target, weight_type=weight, per_channel=recipe.per_channel, reduce_range=recipe.reduce_range,
        op_types_to_quantize=list(recipe.op_types), nodes_to_exclude=list(keep_fp32)), source, target, "quantizing")


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else float("nan")


def describe_quantization(figures: dict[str, Any]) -> str:
    """One line for lists, runs and reports: how a variant compares with its fp32 model."""
    # Figures come from a manifest on disk: a damaged one still gives a line, not a crash.
    agreement = _number(figures.get("top1_agreement"))
    delta = _number(figures.get("max_abs_delta_p"))
    images = figures.get("calibration", {}).get("images")
    what = "Δp(manipulated)" if figures.get("delta_of") == "p_manipulated" else "Δ top-1 p"
    runtime = " OpenVINO" if figures.get("runtime") == "openvino" else ""
    text = (f"{str(figures.get('weight_type', 'int8')).upper()}{runtime} {figures.get('origin', '')} variant: "
            f"top-1 agreement {agreement * 100:.1f} % and max |{what}| {delta:.4f} vs fp32 "
            f"on {images} calibration images")
    if figures.get("forced"):
        text += " — FORCED below the thresholds"
    elif not figures.get("passed", True):
        text += " — BELOW the thresholds, refused"
    return text


def split_lines(figures: dict[str, Any]) -> list[str]:
    """The gate's two splits and the nodes kept in fp32, a line each (nothing for older figures)."""
    lines = []
    for key, what in (("tune", "tuning images (choose nodes)"), ("held_back", "held-back images (judge only)")):
        part = figures.get(key)
        if isinstance(part, dict) and part.get("images"):
            lines.append(f"{what}: top-1 agreement {_number(part.get('top1_agreement')) * 100:.1f} %, max |Δp| "
                         f"{_number(part.get('max_abs_delta_p')):.4f} on {part.get('images')}")
    kept = figures.get("kept_fp32")
    if isinstance(kept, list) and kept:
        shown = ", ".join(str(n) for n in kept[:6]) + (f" and {len(kept) - 6} more" if len(kept) > 6 else "")
        lines.append(f"kept in fp32 after {len(figures.get('attempts') or [])} attempt(s): {shown}")
    return lines


def _figures(gate: GateResult, *, origin: str, recipe: QuantizeRecipe | None, source: str,
             thresholds: Thresholds, forced: bool, sha256: str, from_variant: str) -> dict[str, Any]:
    method = "shipped with the model folder"
    if recipe:
        method = ("onnxruntime.quantize_static (QDQ, every MatMul, ranges from the tuning images)"
                  if gate.method == "static" else "onnxruntime.quantize_dynamic")
    if recipe and gate.kept_fp32:
        method += f", {len(gate.kept_fp32)} MatMul node(s) kept in fp32"
    return {
        "method": method,
        "origin": origin,
        "weight_type": recipe.weight_type if recipe else "int8",
        "recipe": asdict(recipe) | {"op_types": list(recipe.op_types)} if recipe else None,
        "from_variant": from_variant,
        **gate_figures(gate, source=source, thresholds=thresholds, forced=forced),
        "sha256": sha256,
    }


def gate_figures(gate: GateResult, *, source: str, thresholds: Thresholds, forced: bool,
                 batch_size: int = VALIDATION_BATCH) -> dict[str, Any]:
    """What every variant's manifest entry says about its gate, whichever runtime it runs on
    (`batch_size`: how many images each validation run held)."""
    agreement = gate.whole
    return {
        "calibration": {"images": agreement.images, "source": source},
        "validated_batch_size": batch_size,
        "top1_agreement": agreement.top1_agreement,
        "max_abs_delta_p": agreement.max_abs_delta_p,
        "delta_of": agreement.delta_of,
        "disagreeing_images": list(agreement.disagreeing),
        "thresholds": asdict(thresholds),
        "passed": gate.passes(thresholds),
        **gate.figures(),
        "forced": forced,
        "created_at": datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def quantize_stored_model(store: ModelStore, name: str, images: Iterable[Image.Image], *, source: str,
                          count: int | None = None, thresholds: Thresholds = Thresholds(),
                          force: bool = False, recipe: QuantizeRecipe = QuantizeRecipe(),
                          use: str = "auto", progress: Progress | None = None,
                          is_cancelled: IsCancelled | None = None) -> QuantizeOutcome:
    """Make (or take the folder's own) INT8 variant of stored model `name`, validate, record it.

    use: "auto" takes a shipped quantized file when the folder has one, else makes one;
    "shipped" insists on the folder's own file; "make" always quantizes the fp32 graph.
    A made variant below the thresholds is deleted and ModelError raised unless `force`;
    a shipped one stays in the folder (it came with it) with its failing figures recorded.
    Cancelling leaves the store as it was (a half-made file is deleted).
    """
    if use not in ("auto", "shipped", "make"):
        raise ModelError(f"unknown variant source {use!r}: choose auto, shipped or make")
    stored = store.get(name)
    reference = store.load(name, "default")
    made_before = {variant for variant, figures in stored.manifest.get("quantization", {}).items()
                   if figures.get("origin") == "made"}
    shipped = [v for v in SHIPPED_VARIANTS if v in reference.variants and v not in made_before]
    if use == "shipped" and not shipped:
        raise ModelError(f"model {name!r} ships no quantized variant ({', '.join(reference.variants)})")
    if shipped and use != "make":
        variant = shipped[0]
        candidate = store.load(name, variant).onnx_path
        origin, chosen_recipe, partial = "shipped", None, None
    else:
        if reference.extras.get("external_files"):
            raise ModelError(f"model {name!r} keeps its weights in external files; quantizing those is not supported")
        if MADE_VARIANT in reference.variants and MADE_VARIANT not in made_before:
            raise ModelError(f"model {name!r} already ships a model_{MADE_VARIANT}.onnx; validate it with --use shipped")
        variant, origin, chosen_recipe = MADE_VARIANT, "made", recipe
        candidate = reference.onnx_path.parent / f"model_{MADE_VARIANT}.onnx"
        # The half-made file must not look like a variant (model*.onnx) until it is accepted.
        partial = reference.onnx_path.parent / f".quantizing-{MADE_VARIANT}.onnx.partial"
    try:
        with PixelSet(reference, images, progress=progress, total=count, is_cancelled=is_cancelled) as pixels:
            check = VariantCheck(reference, pixels, compare_logits, is_cancelled=is_cancelled)
            if partial is not None:
                def say(text: str) -> None:
                    if progress:
                        progress(pixels.count, count or pixels.count, text)

                gate = _made_variant(reference, check, pixels, partial, recipe, thresholds, say)
            else:
                gate = check.judge(candidate)
        accepted = gate.passes(thresholds)
        relative = candidate.relative_to(stored.folder).as_posix()
        figures = _figures(gate, origin=origin, recipe=chosen_recipe, source=source, thresholds=thresholds,
                           forced=force and not accepted, sha256=sha256_file(partial or candidate),
                           from_variant=reference.variant)
        if not accepted and not force and origin == "made":
            raise ModelError(_refusal(name, gate, thresholds))
        if partial is not None:
            os.replace(partial, candidate)
            partial = None
        store.record_quantization(name, variant, relative, figures)
    finally:
        if partial is not None:
            partial.unlink(missing_ok=True)
    if not accepted and not force:
        raise ModelError(_refusal(name, gate, thresholds, shipped_kept=True))
    return QuantizeOutcome(name, variant, relative, origin, gate.whole, accepted, force and not accepted, figures)


def _made_variant(reference: ModelSpec, check: VariantCheck, pixels: PixelSet, target: Path, recipe: QuantizeRecipe,
                  thresholds: Thresholds, say: Callable[[str], None]) -> GateResult:
    """Make the variant each method asks for, gate each, and leave in `target` the fastest that
    passes on this machine (or, when none does, the first method's closest attempt)."""
    if recipe.method not in METHODS + ("auto",):
        raise ModelError(f"unknown quantization method {recipe.method!r}: choose auto, dynamic or static")
    methods = METHODS if recipe.method == "auto" else (recipe.method,)

    def dynamic(path: Path, kept: Sequence[str]) -> Path:
        return quantize_onnx(reference.onnx_path, path, recipe, keep_fp32=kept)

    def static(path: Path, kept: Sequence[str]) -> Path:
        return quantize_static_onnx(reference.onnx_path, path, pixels, check.split.tune, reference.input_name, kept)

    made: dict[str, tuple[Path, GateResult, float]] = {}
    try:
        for method in methods:
            path = target if method == methods[0] else target.with_name(f"{target.name}.{method}")
            say(f"{method} INT8")
            gate = make_variant(check, path, dynamic if method == "dynamic" else static, thresholds,
                                mixed=recipe.mixed, note=say)
            made[method] = (path, gate, images_per_second(path, pixels, reference.input_name, reference.output_name))
        passing = [m for m in methods if made[m][1].passes(thresholds)]
        chosen = max(passing, key=lambda m: made[m][2]) if passing else methods[0]
        if made[chosen][0] != target:
            os.replace(made[chosen][0], target)
    finally:
        for path, _, _ in made.values():
            if path != target:
                path.unlink(missing_ok=True)
    choice = {m: {"passed": made[m][1].passes(thresholds), "images_per_second": round(made[m][2], 2),
                  "kept_fp32": len(made[m][1].kept_fp32), "held_back_max_abs_delta_p": made[m][1].held_back.max_abs_delta_p}
              for m in methods}
    return replace(made[chosen][1], method=chosen, choice=choice)


def gate_text(gate: GateResult, thresholds: Thresholds) -> str:
    """Both splits' figures and what they needed, for a refusal: "tuning images: … (needs …)"."""
    parts = [(what, part) for what, part in (("tuning", gate.tune), ("held-back", gate.held_back)) if part.images]
    said = "; ".join(f"{what} images: top-1 agreement {part.top1_agreement * 100:.1f} %, max |Δp| "
                     f"{part.max_abs_delta_p:.4f} on {part.images}" for what, part in parts)
    return (f"{said} (needs ≥ {thresholds.min_top1_agreement * 100:.1f} % and ≤ {thresholds.max_abs_delta_p} "
            "on both)")


def _refusal(name: str, gate: GateResult, thresholds: Thresholds, shipped_kept: bool = False) -> str:
    tried = (f" (also with {len(gate.attempts) - 1} mixed-precision attempt(s) keeping sensitive nodes in fp32)"
             if len(gate.attempts) > 1 else "")
    text = f"the INT8 variant of {name!r} disagrees with fp32{tried}: {gate_text(gate, thresholds)}; "
    if shipped_kept:
        return text + "its figures are recorded and it is marked refused (use --force to accept it anyway)"
    return text + "refused and not kept (use --force to keep it anyway)"
