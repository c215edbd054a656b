"""Static INT8 (QDQ) variants: activation ranges calibrated on the tuning images.

Dynamic quantization converts only the MatMuls by a stored weight and measures each
activation's range at run time. Static quantization fixes every activation's range from
calibration images beforehand, so it can also convert the activation × activation MatMuls of
attention (queries × keys, weights × values), which dominate at 576 tokens (ViT-S/16-384) and
1024 (SigLIP-512). The ranges come from the tuning split only (mixed.held_back_split); the
held-back images, which judge the variant, are never seen by the calibrator.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from engine.models.pixelset import PixelSet
from engine.models.quantizer import quantization_tools, run_quantizer
from engine.models.runtime import build_lane_session, run_batched

CALIBRATION_BATCH = 1  # ranges are per tensor; one image at a time keeps the calibrator's memory small


def _tune_batches(pixels: PixelSet, indices: Sequence[int]) -> Iterator[np.ndarray]:
    wanted = set(indices)
    start = 0
    for path in pixels.chunks:
        chunk = np.load(path, mmap_mode="r")
        for offset in range(len(chunk)):
            if start + offset in wanted:
                yield np.ascontiguousarray(chunk[offset:offset + CALIBRATION_BATCH], dtype=np.float32)
        start += len(chunk)


def quantize_static_onnx(source: str | Path, target: str | Path, pixels: PixelSet, tune: Sequence[int],
                         input_name: str, keep_fp32: Sequence[str] = ()) -> Path:
    """Write a QDQ copy of `source` with every MatMul (weights and attention) in INT8:
    per-channel signed weights, unsigned activations with ranges from the tuning images."""
    tools = quantization_tools()

    class Reader(tools.CalibrationDataReader):  # type: ignore[name-defined]
        def __init__(self) -> None:
            self.batches = _tune_batches(pixels, tune)

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self.batches, None)
            return None if batch is None else {input_name: batch}

    target = Path(target)
    return run_quantizer(lambda: tools.quantize_static(
        Path(source), target, Reader(), quant_format=tools.QuantFormat.QDQ, op_types_to_quantize=["MatMul"],
        per_channel=True, activation_type=tools.QuantType.QUInt8, weight_type=tools.QuantType.QInt8,
        nodes_to_exclude=list(keep_fp32), calibrate_method=tools.CalibrationMethod.MinMax,
        extra_options={"WeightSymmetric": True, "ActivationSymmetric": False}), source, target, "static quantization of")


def images_per_second(onnx_path: str | Path, pixels: PixelSet, input_name: str, output_name: str,
                      batch_size: int = 8, repeats: int = 2) -> float:
    """How fast a variant scores `batch_size` of the calibration images on this machine, run as
    a CPU run runs them (one image per core at once, engine/models/lanes.py; best of `repeats`
    after one warm-up): what chooses between a static and a dynamic variant."""
    session, info = build_lane_session(onnx_path, "cpu")

    def run(batch: np.ndarray) -> None:
        run_batched(session, input_name, batch, 1 if info.lanes > 1 else len(batch), [output_name], lanes=info.lanes)

    return _best_images_per_second(run, pixels, batch_size, repeats)


def session_images_per_second(session: Any, pixels: PixelSet, input_name: str, output_name: str,
                              batch_size: int = 8, repeats: int = 2) -> float:
    """`images_per_second` for a session already built (any runtime's), fed whole batches."""
    return _best_images_per_second(lambda batch: session.run([output_name], {input_name: batch}),
                                   pixels, batch_size, repeats)


def _best_images_per_second(run: Callable[[np.ndarray], Any], pixels: PixelSet, batch_size: int,
                            repeats: int) -> float:
    batch = np.ascontiguousarray(np.load(pixels.chunks[0], mmap_mode="r")[:batch_size], dtype=np.float32)
    run(batch)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run(batch)
        best = min(best, time.perf_counter() - started)
    return len(batch) / best
