"""The OpenVINO bf16 variant of a stored model: the fp32 file on OpenVINO's CPU plugin in
bfloat16, kept only after it passes the gate INT8 variants pass.

Nothing new is written to the model folder: the variant is the default variant's own ONNX file
(already hashed in the manifest) plus the runtime and precision it runs at, recorded under
`quantization["openvino-bf16"]` with the agreement figures of both calibration splits and the
speed measured beside onnxruntime's fp32 on this machine. bfloat16 keeps fp32's range but only
8 bits of mantissa, so a head with a small decision margin can flip: the gate, not the hope
that bf16 is "close enough", decides.
"""

from __future__ import annotations

from typing import Any, Iterable

from PIL import Image

from engine.errors import ModelError
from engine.models.gate import VariantCheck, judge
from engine.models.inference import one_lane_cpu_batch
from engine.models.openvino_runtime import build_openvino_session, cpu_has_bf16, openvino_module, short_version
from engine.models.pixelset import PixelSet
from engine.models.quantize import QuantizeOutcome, Thresholds, compare_logits, gate_figures, gate_text
from engine.models.static import images_per_second, session_images_per_second
from engine.models.store import ModelStore
from engine.util.progress import IsCancelled, Progress

VARIANT = "openvino-bf16"
PRECISION = "bf16"
VALIDATION_BATCH = 8  # validated at the batch its runner uses (one lane: OpenVINO threads each batch itself)


def make_openvino_variant(store: ModelStore, name: str, images: Iterable[Image.Image], *, source: str,
                          count: int | None = None, thresholds: Thresholds = Thresholds(), force: bool = False,
                          progress: Progress | None = None, is_cancelled: IsCancelled | None = None) -> QuantizeOutcome:
    """Validate stored model `name` on OpenVINO bf16 against its onnxruntime fp32 results and
    record the variant when it agrees (or when `force`, marked so); ModelError otherwise.

    Refused up front when OpenVINO is missing or this CPU has no bf16 units: the variant would
    then be an fp32 run under another name.
    """
    openvino = openvino_module()
    if not cpu_has_bf16(openvino.Core()):
        raise ModelError("OpenVINO reports no bf16 support on this CPU (it needs AMX or AVX-512 BF16); "
                         "the INT8 variant (`models quantize NAME`) is the faster choice here")
    stored = store.get(name)
    reference = store.load(name, "default")
    with PixelSet(reference, images, progress=progress, total=count, is_cancelled=is_cancelled) as pixels:
        check = VariantCheck(reference, pixels, compare_logits, is_cancelled=is_cancelled)
        if progress:
            progress(pixels.count, count or pixels.count, "OpenVINO bf16")
        session, info = build_openvino_session(reference.onnx_path, PRECISION)
        batch = one_lane_cpu_batch(reference, VALIDATION_BATCH, openvino=True)
        if info.precision != PRECISION:
            raise ModelError(f"OpenVINO compiled {info.precision}, not {PRECISION}, on this CPU; no variant made")
        gate = judge(reference, check.reference, pixels.logits(session, batch, is_cancelled),
                     check.split, compare_logits)
        speed = session_images_per_second(session, pixels, reference.input_name, reference.output_name)
        fp32_speed = images_per_second(reference.onnx_path, pixels, reference.input_name, reference.output_name)
    accepted = gate.passes(thresholds)
    figures: dict[str, Any] = {
        "method": f"OpenVINO {short_version(openvino)} CPU plugin, inference precision bf16, on the fp32 file",
        "origin": "made",
        "weight_type": PRECISION,
        "runtime": "openvino",
        "precision": PRECISION,
        "compiled_precision": info.precision,
        "openvino_version": openvino.__version__,
        "from_variant": reference.variant,
        **gate_figures(gate, source=source, thresholds=thresholds, forced=force and not accepted,
                       batch_size=batch),
        "quantization_method": "openvino-bf16",
        "choice": {"openvino-bf16": {"passed": accepted, "images_per_second": round(speed, 2)},
                   "onnxruntime fp32": {"images_per_second": round(fp32_speed, 2)}},
        "sha256": reference.onnx_sha256,
    }
    if not accepted and not force:
        raise ModelError(f"OpenVINO bf16 results of {name!r} disagree with fp32: {gate_text(gate, thresholds)}; "
                         "not kept (use --force to keep it anyway)")
    relative = reference.onnx_path.relative_to(stored.folder).as_posix()
    store.record_quantization(name, VARIANT, relative, figures)
    return QuantizeOutcome(name, VARIANT, relative, "made", gate.whole, accepted, force and not accepted, figures)
