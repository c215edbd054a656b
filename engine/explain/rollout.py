"""Attention rollout (Abnar & Zuidema 2020) from per-layer head-mean attention, one vector at a time.

Per layer l the head-mean attention A_l (N×N) optionally loses its floor(d·N²) smallest
entries (the order of a stable argsort of the flattened matrix), then Ã_l = rows of
(0.5·A_l + 0.5·I) normalised to sum 1, and R = Ã_L ··· Ã_1. Only one row combination of R is
ever read — the CLS row for ViT/timm, the mean of all rows for mean-pooled SigLIP — so a
vector v is pushed through the layers (v ← v·Ã_L, then ·Ã_{L−1}, …): O(L·N²), not O(L·N³),
and Ã is never formed. The patch part of v, reshaped row-major to the patch grid and scaled
to [0, 1], is the map. Arithmetic is float64, as in the stored PyTorch references.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from engine.errors import ModelError

READOUTS = ("cls", "mean")


@dataclass(frozen=True)
class TokenLayout:
    """How a model's N tokens split into prefix tokens (CLS, registers) and the patch grid."""

    readout: str  # "cls": row 0 of R; "mean": mean of the patch rows of R
    prefix_tokens: int
    grid: tuple[int, int]  # (rows, cols) of patches

    @property
    def tokens(self) -> int:
        return self.prefix_tokens + self.grid[0] * self.grid[1]


def default_readout(architecture: str) -> str:
    """SigLIP classifiers mean-pool their patch tokens and have no CLS token."""
    return "mean" if "siglip" in architecture.lower() else "cls"


def token_layout(n_tokens: int, input_size: tuple[int, int], *, architecture: str = "",
                 patch_size: tuple[int, int] | None = None, readout: str | None = None) -> TokenLayout:
    """Work out prefix tokens and patch grid from the token count and the input size.

    With the patch size known (from the patch-embedding Conv) the grid is exact and the
    prefix is whatever is left; otherwise the smallest prefix giving a whole grid of square
    patches is taken. A "cls" readout with no prefix token at all becomes "mean".
    """
    height, width = input_size
    wanted = readout or default_readout(architecture)
    if wanted not in READOUTS:
        raise ModelError(f"unknown rollout readout {wanted!r}: use cls or mean")
    grid: tuple[int, int] | None = None
    if patch_size:
        candidate = (height // patch_size[0], width // patch_size[1])
        if 0 < candidate[0] * candidate[1] <= n_tokens:
            grid = candidate
    if grid is None:
        for prefix in range(0, min(n_tokens, 17)):
            patches = n_tokens - prefix
            # Square patches: rows/cols follow the input's aspect ratio.
            rows = math.isqrt(patches * height // width) if width else 0
            for r in (rows - 1, rows, rows + 1):
                if r > 0 and patches % r == 0 and abs(height / r - width / (patches // r)) < 1e-6:
                    grid = (r, patches // r)
                    break
            if grid:
                break
    if grid is None:
        raise ModelError(f"cannot lay {n_tokens} attention tokens out on a patch grid for a {width}×{height} input")
    prefix = n_tokens - grid[0] * grid[1]
    if wanted == "cls" and prefix == 0:
        wanted = "mean"
    return TokenLayout(readout=wanted, prefix_tokens=prefix, grid=grid)


def discard_smallest(attention: np.ndarray, ratio: float) -> np.ndarray:
    """Zero the floor(ratio·N²) smallest entries of each (N×N) matrix, ties in index order.

    Identical to zeroing the first k positions of `np.argsort(flat, kind="stable")`, found in
    O(N²) with a partition: every entry below the k-th value, then the earliest equal ones.
    """
    values = np.array(attention, dtype=np.float64, copy=True)
    *lead, n, m = values.shape
    flat = values.reshape(-1, n * m)
    k = int(math.floor(ratio * n * m))
    if k <= 0:
        return values
    k = min(k, n * m)
    for row in flat:
        if k == n * m:
            row[:] = 0.0
            continue
        threshold = np.partition(row, k - 1)[k - 1]
        below = row < threshold
        remaining = k - int(below.sum())
        equal = np.flatnonzero(row == threshold)[:remaining]
        row[below] = 0.0
        row[equal] = 0.0
    return values


def rollout_vector(attn_means: Sequence[np.ndarray], start: np.ndarray, discard_ratio: float = 0.0) -> np.ndarray:
    """v·Ã_L·…·Ã_1 for a batch of row vectors `start` (B, N); float64."""
    v = np.asarray(start, dtype=np.float64)
    for attention in reversed(list(attn_means)):
        a = np.asarray(attention, dtype=np.float64)
        if discard_ratio > 0:
            a = discard_smallest(a, discard_ratio)
        # Ã = (0.5·A + 0.5·I) / s with s the row sums; v·Ã = (v/s)·(0.5·A) + 0.5·(v/s).
        w = v / (0.5 * a.sum(axis=-1) + 0.5)
        v = 0.5 * np.matmul(w[:, None, :], a)[:, 0, :] + 0.5 * w
    return v


def normalise01(values: np.ndarray) -> np.ndarray:
    """(x − min) / (max − min) per item over the trailing axes; a flat map becomes zeros."""
    flat = values.reshape(len(values), -1)
    low = flat.min(axis=1, keepdims=True)
    span = flat.max(axis=1, keepdims=True) - low
    scaled = np.divide(flat - low, span, out=np.zeros_like(flat), where=span > 0)
    return scaled.reshape(values.shape)


def rollout_from_outputs(attn_means: Sequence[np.ndarray], readout: str, grid: tuple[int, int],
                         discard_ratio: float = 0.0, prefix_tokens: int | None = None) -> np.ndarray:
    """Rollout maps (B, rows, cols) float32 in [0, 1] from head-mean attentions [(B, N, N)] per layer.

    `attn_means` are in layer order (first layer first). `prefix_tokens` defaults to
    N − rows·cols. "cls" reads row 0 of R; "mean" averages the patch rows of R (all rows
    when there is no prefix, which is SigLIP).
    """
    layers = [np.asarray(a) for a in attn_means]
    if not layers:
        raise ModelError("rollout needs at least one attention layer")
    shape = layers[0].shape
    if len(shape) != 3 or shape[1] != shape[2] or any(a.shape != shape for a in layers):
        raise ModelError(f"attention outputs must all be (batch, N, N); got {[a.shape for a in layers]}")
    if not 0.0 <= discard_ratio < 1.0:
        raise ModelError(f"discard ratio must be in [0, 1); got {discard_ratio}")
    batch, n = shape[0], shape[1]
    rows, cols = grid
    prefix = n - rows * cols if prefix_tokens is None else prefix_tokens
    if prefix < 0 or prefix + rows * cols != n:
        raise ModelError(f"{n} tokens do not hold {prefix} prefix tokens and a {rows}×{cols} patch grid")
    start = np.zeros((batch, n), dtype=np.float64)
    if readout == "cls":
        if prefix < 1:
            raise ModelError("a CLS readout needs a CLS token; this model has none (use the mean readout)")
        start[:, 0] = 1.0
    elif readout == "mean":
        start[:, prefix:] = 1.0 / (n - prefix)
    else:
        raise ModelError(f"unknown rollout readout {readout!r}: use cls or mean")
    v = rollout_vector(layers, start, discard_ratio)
    maps = v[:, prefix:].reshape(batch, rows, cols)
    return normalise01(maps).astype(np.float32)
