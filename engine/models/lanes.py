"""CPU lanes: one image per core at a time, instead of every core on one batch.

On the CPU provider a batch run splits each operator across the cores, and onnxruntime's
kernels pay for that split at every one of a ViT's ~200 nodes (a thread hand-off, then the
smaller operators — softmax, layer norm, transposes — divided too finely to keep two cores
busy). Giving each core its own images removes the hand-offs: one session built with one
intra-op thread, run concurrently from one Python thread per core (onnxruntime releases the
GIL and `InferenceSession.run` is safe to call from several threads; the weights are shared).

Measured on a 2-core AMX Xeon, images/s at 8 images, interleaved (bench/bench_inference.py
has the figures through the whole runner): ViT-S/16-384 fp32 2.4–2.7 → 3.5–3.8, ViT-B/16
fp32 3.2 → 3.6, ViT-B/16 INT8 9.8 → 11.7, SigLIP-B/16-512 fp32 0.34–0.37 → 0.42. Each image
runs exactly as it would alone, so results do not depend on the lane count (the tests check
that they are identical). The price is one image's latency when a call brings fewer images
than lanes: that image runs on one core.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence

import numpy as np

from engine.errors import Cancelled


def padded_chunk(pixels: np.ndarray, start: int, step: int, fixed_batch: int | None) -> tuple[np.ndarray, int]:
    """Images `start`…`start+step` as contiguous float32, zero-padded to `fixed_batch` for a
    graph with a fixed batch dimension; and how many of them are real images."""
    batch = np.ascontiguousarray(pixels[start : start + step], dtype=np.float32)
    count = len(batch)
    if fixed_batch and count < fixed_batch:
        batch = np.concatenate([batch, np.zeros((fixed_batch - count, *batch.shape[1:]), dtype=np.float32)])
    return batch, count


def run_in_lanes(
    session: Any,
    input_name: str,
    pixels: np.ndarray,
    lanes: int,
    step: int,
    output_names: Sequence[str] | None = None,
    fixed_batch: int | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> list[np.ndarray]:
    """Run `pixels` (N,3,H,W) `step` images at a time on `lanes` threads; outputs in image order.

    Lanes take the next chunk when they finish one (a busy core does not hold the others up).
    Each output is written into one array allocated when the first chunk returns, so large
    outputs (attention maps) are not held twice for a concatenation. A cancel is seen by every
    lane before its next chunk; the first error from any lane is raised after all have stopped.
    """
    total = len(pixels)
    starts = list(range(0, total, step))
    names = list(output_names) if output_names else None
    lock = threading.Lock()
    next_chunk = iter(starts)
    outputs: list[np.ndarray] = []
    failed = threading.Event()

    def take() -> int | None:
        with lock:
            return None if failed.is_set() else next(next_chunk, None)

    def place(start: int, results: Sequence[np.ndarray], count: int) -> None:
        with lock:
            if not outputs:
                outputs.extend(np.empty((total, *r.shape[1:]), dtype=r.dtype) for r in results)
        for target, result in zip(outputs, results):
            target[start : start + count] = result[:count]

    def lane() -> None:
        try:
            while (start := take()) is not None:
                if is_cancelled is not None and is_cancelled():
                    raise Cancelled("inference cancelled")
                batch, count = padded_chunk(pixels, start, step, fixed_batch)
                place(start, session.run(names, {input_name: batch}), count)
        except BaseException:
            failed.set()  # the other lanes stop before their next chunk
            raise

    pool = ThreadPoolExecutor(max_workers=min(lanes, len(starts)), thread_name_prefix="dfw-lane")
    try:
        futures = [pool.submit(lane) for _ in range(min(lanes, len(starts)))]
        for future in futures:
            future.exception()  # waits; a second Ctrl-C lands here as KeyboardInterrupt
    except BaseException:
        failed.set()  # the lanes finish the image in hand and take no other
        raise
    finally:
        pool.shutdown(wait=True)
    errors = [error for future in futures if (error := future.exception()) is not None]
    if errors:
        # A real failure says more than the Cancelled another lane may have raised beside it.
        raise next((e for e in errors if not isinstance(e, Cancelled)), errors[0])
    return outputs
