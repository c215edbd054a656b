"""One small class per loaded detector: `ModelRunner` owns its ONNX session.

It turns Pillow images into the model's probabilities the way the Hugging Face
`image-classification` pipeline reports them (labels with scores, highest first), plus
p(manipulated) when the model judges authenticity. The session is built once and reused;
the provider that really runs is read back from the session and exposed as `provider`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from PIL import Image

from engine.errors import ModelError
from engine.models.spec import ModelSpec
from engine.models.preprocess import preprocess_batch
from engine.models.runtime import SessionInfo, build_lane_session, planned_provider, run_batched


@dataclass(frozen=True)
class Prediction:
    """One image's result from one model."""

    labels: tuple[str, ...]
    probabilities: tuple[float, ...]  # in label index order
    logits: tuple[float, ...]
    p_manipulated: float | None

    def ranked(self, top_k: int | None = None) -> list[dict[str, Any]]:
        """[{"label", "score"}] highest first, like the HF image-classification pipeline."""
        order = sorted(range(len(self.labels)), key=lambda i: -self.probabilities[i])
        if top_k is not None:
            order = order[:top_k]
        return [{"label": self.labels[i], "score": float(self.probabilities[i])} for i in order]


def predictions_from_logits(spec: ModelSpec, logits: np.ndarray) -> list[Prediction]:
    """Logits → predictions; raises ModelError for non-finite outputs rather than store them.

    NaN or infinite logits (a broken graph, a zero std in the preprocessing config) would
    otherwise become scores that every later step quietly skips.
    """
    logits = np.asarray(logits)
    if logits.ndim != 2 or logits.shape[1] != len(spec.labels):
        raise ModelError(f"model {spec.name!r} returned outputs of shape {logits.shape}, not "
                         f"(images, {len(spec.labels)}) as its graph declares; its results are not used")
    finite = np.isfinite(logits).all(axis=-1)
    if not finite.all():
        bad = int((~finite).sum())
        raise ModelError(f"model {spec.name!r} gave non-finite outputs (NaN or infinity) for {bad} of "
                         f"{len(finite)} image(s); its results are not used")
    probabilities = spec.probabilities(logits)
    p_manipulated = spec.p_manipulated(probabilities)
    return [
        Prediction(
            labels=spec.labels,
            probabilities=tuple(float(p) for p in probabilities[i]),
            logits=tuple(float(v) for v in logits[i]),
            p_manipulated=None if p_manipulated is None else float(p_manipulated[i]),
        )
        for i in range(len(logits))
    ]


LARGE_INPUT_PIXELS = 300 * 300
LARGE_INPUT_PIXELS_OPENVINO = 400 * 400


def one_lane_cpu_batch(spec: ModelSpec, requested: int, openvino: bool = False) -> int:
    """The batch a CPU session with one lane (OpenVINO, or a single core) runs.

    Large inputs have long token sequences whose attention dominates; onnxruntime's CPU
    kernels then run one image at a time faster than a batch (ViT-S/16-384 and SigLIP-512 lose
    10–25 % at batch 8) and without a batch's attention tensors (hundreds of MB). OpenVINO
    gains from batch 8 at 384 px (ViT-S/16-384 bf16: 8.0 vs 6.4 images/s) and not at 512 px
    (SigLIP-512: 1.89 vs 1.91), where a batch only costs memory.
    """
    height, width = spec.input_size
    return 1 if height * width > (LARGE_INPUT_PIXELS_OPENVINO if openvino else LARGE_INPUT_PIXELS) else requested


def open_session(spec: ModelSpec, provider: str = "auto", *, threads: int | None = None,
                 onnx_path: str | None = None, ort_module: Any = None) -> tuple[Any, SessionInfo]:
    """The session a variant runs on: onnxruntime on the chosen provider, or OpenVINO's CPU
    plugin for a variant validated on it (its figures name the runtime and the precision).

    On the CPU, onnxruntime's session gets one thread and runs one image per core at once
    (`SessionInfo.lanes`, engine/models/lanes.py): faster on every seed shape than all cores
    on one batch, and loads the stored fused-attention graph when there is one
    (scoring_graph.py; `SessionInfo.graph` says which ran). A caller's own `onnx_path` (the
    attention-overlay graph) and GPU sessions keep the exported file. OpenVINO schedules its
    own threads and keeps one lane."""
    figures = spec.extras.get("quantization") or {}
    if figures.get("runtime") != "openvino":
        fused = spec.extras.get("fused_attention")
        if onnx_path is None and fused and planned_provider(provider, ort_module) == "cpu":
            try:
                session, info = build_lane_session(fused["path"], provider, threads=threads, ort_module=ort_module)
                info.graph = f"fused attention ({fused['blocks']} blocks)"
                info.graph_sha256 = fused["sha256"]
                return session, info
            except ModelError as exc:  # an onnxruntime without the fused kernel: the exported graph runs
                failure = f"exported (the fused graph did not load: {exc})"
                session, info = build_lane_session(spec.onnx_path, provider, threads=threads, ort_module=ort_module)
                info.graph = failure
                return session, info
        return build_lane_session(onnx_path or spec.onnx_path, provider, threads=threads, ort_module=ort_module)
    if provider not in ("auto", "cpu"):
        raise ModelError(f"the {spec.variant!r} variant of {spec.name!r} runs on the CPU through OpenVINO, not on "
                         f"{provider}; choose the fp32 or INT8 variant for {provider}")
    from engine.models.openvino_runtime import build_openvino_session  # noqa: PLC0415 - optional package

    return build_openvino_session(onnx_path or spec.onnx_path, str(figures.get("precision") or "bf16"),
                                  threads=threads)


class ModelRunner:
    """A detector ready to run: spec + session + the provider that really runs it."""

    def __init__(self, spec: ModelSpec, provider: str = "auto", *, threads: int | None = None,
                 batch_size: int = 8, onnx_path: str | None = None, ort_module: Any = None) -> None:
        self.spec = spec
        self.session, self.info = open_session(spec, provider, threads=threads, onnx_path=onnx_path,
                                               ort_module=ort_module)
        self.requested_batch_size = max(1, batch_size)
        self.batch_size = self.requested_batch_size
        if self.info.lanes > 1:
            self.batch_size = 1  # each lane runs one image at a time (engine/models/lanes.py)
        elif self.info.provider == "cpu":
            openvino = self.info.runtime.startswith("openvino")
            self.batch_size = one_lane_cpu_batch(spec, self.requested_batch_size, openvino)

    @property
    def provider(self) -> str:
        return self.info.provider

    @property
    def ran_on(self) -> str:
        """"cpu", "cuda", or "cpu (openvino 2026.4.1, bf16)": the provider, and the runtime when not onnxruntime."""
        if self.info.runtime.startswith("onnxruntime") or not self.info.runtime:
            return self.info.provider
        precision = f", {self.info.precision}" if self.info.precision else ""
        return f"{self.info.provider} ({self.info.runtime}{precision})"

    def logits(self, images: Sequence[Image.Image], is_cancelled: Callable[[], bool] | None = None) -> np.ndarray:
        pixels = preprocess_batch(images, self.spec.preprocess)
        return self.logits_from_pixels(pixels, is_cancelled)

    def logits_from_pixels(self, pixels: np.ndarray, is_cancelled: Callable[[], bool] | None = None) -> np.ndarray:
        if len(pixels) == 0:
            return np.zeros((0, len(self.spec.labels)), dtype=np.float32)
        (logits,) = run_batched(
            self.session, self.spec.input_name, pixels, self.batch_size,
            output_names=[self.spec.output_name], fixed_batch=self.spec.fixed_batch,
            is_cancelled=is_cancelled, lanes=self.info.lanes,
        )
        return logits

    def predictions_from_logits(self, logits: np.ndarray) -> list[Prediction]:
        return predictions_from_logits(self.spec, logits)

    def predict(self, images: Sequence[Image.Image], is_cancelled: Callable[[], bool] | None = None) -> list[Prediction]:
        return self.predictions_from_logits(self.logits(images, is_cancelled))
