"""One session for scores and attention: a `ModelRunner` over the attention-exposing model copy.

When overlays are on, the pipeline runs this instead of the plain runner: the same logits
output (so predictions are unchanged) plus one head-mean attention matrix per layer, so an
overlay costs only the extra outputs and the rollout arithmetic, not a second forward pass.
The attention outputs are checked on every run: (batch, N, N), equal N for all layers, rows
summing to 1; anything else is a ModelError (the caller then falls back to occlusion).
"""

from __future__ import annotations

import os
from typing import Any, Callable

import numpy as np

from engine.errors import Cancelled, ModelError
from engine.explain.attention_graph import AttentionGraph, attention_model_path
from engine.explain.rollout import TokenLayout, rollout_from_outputs, token_layout
from engine.models.inference import ModelRunner
from engine.models.spec import ModelSpec
from engine.models.runtime import run_batched

ROW_SUM_TOLERANCE = 1e-3


def check_attention(outputs: list[np.ndarray], batch: int) -> None:
    """Raise ModelError unless every output is a (batch, N, N) row-stochastic matrix."""
    if not outputs:
        raise ModelError("the model produced no attention outputs")
    shape = outputs[0].shape
    for index, attention in enumerate(outputs):
        if attention.ndim != 3 or attention.shape != shape or shape[0] != batch or shape[1] != shape[2]:
            raise ModelError(
                f"attention output {index} has shape {attention.shape}; expected ({batch}, N, N) for every layer"
            )
        # Only the first item: enough to catch a misidentified Softmax, cheap for big N.
        if not np.allclose(attention[0].sum(axis=-1), 1.0, atol=ROW_SUM_TOLERANCE):
            raise ModelError(f"attention output {index} is not a probability matrix (rows do not sum to 1)")


class AttentionRunner(ModelRunner):
    """A ModelRunner whose session also returns head-mean attention for rollout overlays."""

    def __init__(self, spec: ModelSpec, graph: AttentionGraph, provider: str = "auto", *,
                 threads: int | None = None, batch_size: int = 8, ort_module: Any = None) -> None:
        super().__init__(spec, provider, threads=threads, batch_size=batch_size,
                         onnx_path=str(graph.path), ort_module=ort_module)
        self.graph = graph
        self._layout: TokenLayout | None = None

    def logits_and_attention(self, pixels: np.ndarray,
                             is_cancelled: Callable[[], bool] | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
        """Logits (B, K) and the layers' head-mean attention [(B, N, N)], first layer first."""
        if len(pixels) == 0:
            return np.zeros((0, len(self.spec.labels)), dtype=np.float32), []
        names = [self.spec.output_name, *self.graph.output_names]
        if len(pixels) <= self.batch_size and not self.spec.fixed_batch:
            # One chunk: skip run_batched's concatenation, a full copy of every N×N output.
            if is_cancelled is not None and is_cancelled():
                raise Cancelled("inference cancelled")
            batch = np.ascontiguousarray(pixels, dtype=np.float32)
            logits, *attention = self.session.run(names, {self.spec.input_name: batch})
        else:
            logits, *attention = run_batched(
                self.session, self.spec.input_name, pixels, self.batch_size, output_names=names,
                fixed_batch=self.spec.fixed_batch, is_cancelled=is_cancelled, lanes=self.info.lanes,
            )
        check_attention(attention, len(pixels))
        return logits, attention

    def layout(self, n_tokens: int) -> TokenLayout:
        if self._layout is None or self._layout.tokens != n_tokens:
            self._layout = token_layout(n_tokens, self.spec.input_size, architecture=self.spec.architecture,
                                        patch_size=self.graph.patch_size)
        return self._layout

    def rollout(self, attention: list[np.ndarray], discard_ratio: float = 0.0) -> np.ndarray:
        """Rollout maps (B, rows, cols) in [0, 1] on the model's patch grid."""
        layout = self.layout(attention[0].shape[1])
        return rollout_from_outputs(attention, layout.readout, layout.grid, discard_ratio, layout.prefix_tokens)

    def logits_and_rollout(self, pixels: np.ndarray, discard_ratio: float = 0.0,
                           is_cancelled: Callable[[], bool] | None = None) -> tuple[np.ndarray, np.ndarray]:
        logits, attention = self.logits_and_attention(pixels, is_cancelled)
        if not attention:
            return logits, np.zeros((0, 0, 0), dtype=np.float32)
        return logits, self.rollout(attention, discard_ratio)


def open_attention_runner(spec: ModelSpec, cache_dir: str | os.PathLike, provider: str = "auto", *,
                          threads: int | None = None, batch_size: int = 8,
                          precision: str = "float64") -> AttentionRunner | None:
    """An AttentionRunner for the model, or None when its graph exposes no attention (use occlusion)."""
    graph = attention_model_path(spec.onnx_path, spec.onnx_sha256, cache_dir, precision)
    if graph is None:
        return None
    return AttentionRunner(spec, graph, provider, threads=threads, batch_size=batch_size)
