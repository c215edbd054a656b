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

import logging
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
from PIL import Image

from engine.errors import Cancelled, ModelError
from engine.util.hashing import sha256_file
from engine.models.spec import ModelSpec
from engine.models.store import ModelStore
from engine.models.preprocess import preprocess_batch
from engine.models.runtime import build_session, run_batched
from engine.util.text import first_line
from engine.util.progress import IsCancelled, Progress

MADE_VARIANT = "int8"
# A folder's own quantized files, in the order they are preferred.
SHIPPED_VARIANTS = ("quantized", "int8", "uint8")
WEIGHT_TYPES = ("qint8", "quint8")
CHUNK_IMAGES = 16  # images preprocessed at a time: SigLIP-512 pixels are 3 MB per image
# Dynamic quantization scales activations per batch, so outputs depend slightly on what shares
# a batch; validation runs at the batch size scoring uses by default, and says so.
VALIDATION_BATCH = 8



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
                  recipe: QuantizeRecipe = QuantizeRecipe()) -> Path:
    """Write a dynamically quantized copy of `source` to `target` (onnxruntime.quantization)."""
    if recipe.weight_type not in WEIGHT_TYPES:
        raise ModelError(f"unknown weight type {recipe.weight_type!r}: choose {' or '.join(WEIGHT_TYPES)}")
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic  # noqa: PLC0415
    except ImportError as exc:
        raise ModelError(f"this onnxruntime has no quantization tools: {exc}") from exc
    weight = QuantType.QInt8 if recipe.weight_type == "qint8" else QuantType.QUInt8
    target = Path(target)
    # The quantizer logs an advisory about shape pre-processing on the root logger for every
    # model; it says nothing about this model, so it is kept off the user's terminal.
    logging.disable(logging.WARNING)
    try:
        quantize_dynamic(
            Path(source), target, weight_type=weight, per_channel=recipe.per_channel,
            reduce_range=recipe.reduce_range, op_types_to_quantize=list(recipe.op_types),
        )
    except Exception as exc:  # onnx / onnxruntime raise many kinds for graphs they cannot handle
        target.unlink(missing_ok=True)
        raise ModelError(f"quantizing {Path(source).name} failed: {first_line(exc, 300)}") from exc
    finally:
        logging.disable(logging.NOTSET)
    return target


def _chunks(images: Iterable[Image.Image], size: int) -> Iterator[list[Image.Image]]:
    chunk: list[Image.Image] = []
    for image in images:
        chunk.append(image)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def validate_variant(spec: ModelSpec, candidate: str | os.PathLike, images: Iterable[Image.Image], *,
                     batch_size: int = VALIDATION_BATCH, threads: int | None = None,
                     progress: Progress | None = None, total: int | None = None,
                     is_cancelled: IsCancelled | None = None) -> Agreement:
    """Run fp32 (`spec.onnx_path`) and `candidate` on the same preprocessed images; compare them.

    Raises Cancelled between chunks of images once `is_cancelled()` turns true."""
    reference_session, _ = build_session(spec.onnx_path, "cpu", threads=threads)
    candidate_session, _ = build_session(candidate, "cpu", threads=threads)
    reference: list[np.ndarray] = []
    produced: list[np.ndarray] = []
    done = 0
    for chunk in _chunks(images, CHUNK_IMAGES):
        if is_cancelled is not None and is_cancelled():
            raise Cancelled(f"validating the variant of {spec.name!r} cancelled after {done} images")
        pixels = preprocess_batch(chunk, spec.preprocess)
        for session, sink in ((reference_session, reference), (candidate_session, produced)):
            (logits,) = run_batched(session, spec.input_name, pixels, batch_size,
                                    output_names=[spec.output_name], fixed_batch=spec.fixed_batch)
            sink.append(logits)
        done += len(chunk)
        if progress:
            progress(done, total or done, f"{done} images")
    if not reference:
        raise ModelError("no calibration images: give --images or --case with usable images or videos")
    return compare_logits(spec, np.concatenate(reference), np.concatenate(produced))


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else float("nan")


def describe_quantization(figures: dict[str, Any]) -> str:
    """One line for lists, runs and reports: how a variant compares with its fp32 model."""
    # Figures come from a manifest on disk: a damaged one still gives a line, not a crash.
    agreement = _number(figures.get("top1_agreement"))
    delta = _number(figures.get("max_abs_delta_p"))
    images = figures.get("calibration", {}).get("images")
    what = "Δp(manipulated)" if figures.get("delta_of") == "p_manipulated" else "Δ top-1 p"
    text = (f"{figures.get('weight_type', 'int8').upper()} {figures.get('origin', '')} variant: "
            f"top-1 agreement {agreement * 100:.1f} % and max |{what}| {delta:.4f} vs fp32 "
            f"on {images} calibration images")
    if figures.get("forced"):
        text += " — FORCED below the thresholds"
    elif not figures.get("passed", True):
        text += " — BELOW the thresholds, refused"
    return text


def _figures(agreement: Agreement, *, origin: str, recipe: QuantizeRecipe | None, source: str,
             thresholds: Thresholds, forced: bool, sha256: str, from_variant: str) -> dict[str, Any]:
    method = "onnxruntime.quantize_dynamic" if recipe else "shipped with the model folder"
    return {
        "method": method,
        "origin": origin,
        "weight_type": recipe.weight_type if recipe else "int8",
        "recipe": asdict(recipe) | {"op_types": list(recipe.op_types)} if recipe else None,
        "from_variant": from_variant,
        "calibration": {"images": agreement.images, "source": source},
        "validated_batch_size": VALIDATION_BATCH,
        "top1_agreement": agreement.top1_agreement,
        "max_abs_delta_p": agreement.max_abs_delta_p,
        "delta_of": agreement.delta_of,
        "disagreeing_images": list(agreement.disagreeing),
        "thresholds": asdict(thresholds),
        "passed": agreement.passes(thresholds),
        "forced": forced,
        "created_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "sha256": sha256,
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
        quantize_onnx(reference.onnx_path, partial, recipe)
    try:
        agreement = validate_variant(reference, partial or candidate, images, progress=progress, total=count,
                                     is_cancelled=is_cancelled)
        accepted = agreement.passes(thresholds)
        relative = candidate.relative_to(stored.folder).as_posix()
        figures = _figures(agreement, origin=origin, recipe=chosen_recipe, source=source, thresholds=thresholds,
                           forced=force and not accepted, sha256=sha256_file(partial or candidate),
                           from_variant=reference.variant)
        if not accepted and not force and origin == "made":
            raise ModelError(_refusal(name, agreement, thresholds))
        if partial is not None:
            os.replace(partial, candidate)
            partial = None
        store.record_quantization(name, variant, relative, figures)
    finally:
        if partial is not None:
            partial.unlink(missing_ok=True)
    if not accepted and not force:
        raise ModelError(_refusal(name, agreement, thresholds, shipped_kept=True))
    return QuantizeOutcome(name, variant, relative, origin, agreement, accepted, force and not accepted, figures)


def _refusal(name: str, agreement: Agreement, thresholds: Thresholds, shipped_kept: bool = False) -> str:
    text = (f"the INT8 variant of {name!r} disagrees with fp32: top-1 agreement "
            f"{agreement.top1_agreement * 100:.1f} % (needs ≥ {thresholds.min_top1_agreement * 100:.1f} %), "
            f"max |Δp| {agreement.max_abs_delta_p:.4f} (needs ≤ {thresholds.max_abs_delta_p}) on "
            f"{agreement.images} images; ")
    if shipped_kept:
        return text + "its figures are recorded and it is marked refused (use --force to accept it anyway)"
    return text + "refused and not kept (use --force to keep it anyway)"
