"""Occlusion sensitivity: how much the target score drops when each window of the input is hidden.

For models whose attention cannot be read (CNNs, fused attention), windows of the
preprocessed input are replaced by a baseline (0 = the normalisation mean colour) in batches
of forward passes. Windows start every `stride` pixels and are clipped at the input edge, so
every stride×stride block is covered by a few windows; a block's value is the mean drop of
the windows overlapping it. The result covers the model input uniformly: one cell per block when
the stride divides the input size, otherwise one cell per input pixel. Values are scaled to
[0, 1] with negative drops (occlusion that raised the score) clipped to 0.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from engine.errors import Cancelled, ModelError

ScoreFn = Callable[[np.ndarray], np.ndarray]


def default_window(input_size: tuple[int, int]) -> tuple[int, int]:
    """About a seventh of the shorter side (32 px at 224) and half of that as stride."""
    window = max(4, min(input_size) // 7)
    return window, max(1, window // 2)


def score_function(runner: Any, target: str | int = "manipulated") -> ScoreFn:
    """pixels (B,3,H,W) → target score (B,) from a ModelRunner-like object.

    target: "manipulated" reads p(manipulated) (authenticity models only); "top" fixes the
    top class of the first batch scored — `occlusion_map` scores the unoccluded image first —
    and reads its probability; an integer reads that class's probability.
    """
    spec = runner.spec
    chosen: list[int] = []

    def scores(pixels: np.ndarray) -> np.ndarray:
        probabilities = spec.probabilities(runner.logits_from_pixels(pixels))
        if target == "manipulated":
            values = spec.p_manipulated(probabilities)
            if values is None:
                raise ModelError(f"{spec.name} does not judge authenticity; occlude for 'top' or a class index")
            return values
        if target == "top":
            if not chosen:
                chosen.append(int(np.argmax(probabilities[0])) if spec.activation != "sigmoid" else 0)
            return probabilities[:, chosen[0]]
        index = int(target)
        if not 0 <= index < probabilities.shape[1]:
            raise ModelError(f"occlusion target {index} is not a class of {spec.name}")
        return probabilities[:, index]

    return scores


def occlusion_map(score: ScoreFn, pixels: np.ndarray, *, window: int | None = None, stride: int | None = None,
                  baseline: float | str = 0.0, batch_size: int = 16,
                  is_cancelled: Callable[[], bool] | None = None) -> np.ndarray:
    """Map in [0, 1] (float32) of the score drop when each region of `pixels` (3,H,W) is occluded.

    baseline: a value for every occluded pixel (0.0 is the mean colour after normalisation)
    or "mean" for the image's own per-channel mean.
    """
    image = np.asarray(pixels, dtype=np.float32)
    if image.ndim != 3:
        raise ModelError(f"occlusion needs one preprocessed image (3, H, W), got shape {image.shape}")
    _, height, width = image.shape
    default_w, default_s = default_window((height, width))
    window = window or default_w
    stride = stride or (default_s if window == default_w else max(1, window // 2))
    if window < 1 or stride < 1 or stride > window:
        raise ModelError(f"occlusion window {window} and stride {stride} must be positive with stride ≤ window")
    if isinstance(baseline, str):
        if baseline != "mean":
            raise ModelError(f"unknown occlusion baseline {baseline!r}: a number or 'mean'")
        fill = image.mean(axis=(1, 2), keepdims=True)
    else:
        fill = np.full((image.shape[0], 1, 1), float(baseline), dtype=np.float32)
    ys, xs = list(range(0, height, stride)), list(range(0, width, stride))
    positions = [(y, x) for y in ys for x in xs]
    reference = float(np.asarray(score(image[None]))[0])
    flat = np.empty(len(positions), dtype=np.float64)
    step = max(1, batch_size)
    for start in range(0, len(positions), step):
        if is_cancelled is not None and is_cancelled():
            raise Cancelled("occlusion cancelled")
        chunk = positions[start:start + step]
        batch = np.repeat(image[None], len(chunk), axis=0)
        for item, (y, x) in enumerate(chunk):
            batch[item, :, y:y + window, x:x + window] = fill
        flat[start:start + len(chunk)] = reference - np.asarray(score(batch), dtype=np.float64)
    drops = flat.reshape(len(ys), len(xs))
    # Block (i, j) is covered by windows starting at blocks i-k+1 … i (k = ceil(window/stride)).
    span = -(-window // stride)
    total = np.zeros_like(drops)
    count = np.zeros_like(drops)
    for dy in range(span):
        for dx in range(span):
            total[dy:, dx:] += drops[: len(ys) - dy, : len(xs) - dx]
            count[dy:, dx:] += 1
    blocks = np.clip(total / count, 0.0, None)
    if height % stride or width % stride:
        blocks = np.repeat(np.repeat(blocks, stride, axis=0), stride, axis=1)[:height, :width]
    peak = blocks.max()
    return (blocks / peak if peak > 0 else np.zeros_like(blocks)).astype(np.float32)
