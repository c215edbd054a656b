"""OpenVINO's CPU plugin as a second runtime behind the session interface the runners use.

On CPUs with AMX or AVX-512 BF16, OpenVINO runs the exported fp32 ONNX file unchanged in
bfloat16 and beats both onnxruntime's INT8 and PyTorch's bf16 autocast (README, "CPU speed").
It is optional (`pip install -e ".[openvino]"`); onnxruntime stays the runtime of the fp32 and
INT8 variants and of every GPU. A model runs on OpenVINO only through a variant that passed the
same agreement gate as INT8 (openvino_variant.py). The precision OpenVINO really compiled
(bf16, or f32 on a CPU without bf16 units) is read back from the compiled model, never taken
from the request, and recorded with every result like the provider.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from engine.errors import ModelError
from engine.models.runtime import SessionInfo, physical_core_count
from engine.util.text import first_line

DEVICE = "CPU"
PRECISIONS = ("bf16", "f32")
INSTALL_HINT = 'install it with `pip install -e ".[openvino]"`'


def openvino_module() -> Any:
    """The openvino package, or a ModelError saying how to install it."""
    try:
        import openvino  # noqa: PLC0415 - optional, and heavy to import
    except ImportError as exc:
        raise ModelError(f"this variant runs on OpenVINO, which is not installed; {INSTALL_HINT}") from exc
    return openvino


def short_version(openvino: Any) -> str:
    """"2026.4.1" from "2026.4.1-22982-e213a147257-releases/2026/4"."""
    return str(openvino.__version__).split("-")[0]


def is_installed() -> bool:
    try:
        openvino_module()
    except ModelError:
        return False
    return True


def _core() -> Any:
    return openvino_module().Core()


def cpu_has_bf16(core: Any = None) -> bool:
    """Whether OpenVINO's CPU plugin can compute in bfloat16 here (AMX or AVX-512 BF16)."""
    core = core or _core()
    try:
        return "BF16" in core.get_property(DEVICE, "OPTIMIZATION_CAPABILITIES")
    except Exception:  # noqa: BLE001 - a plugin that cannot say is treated as one without bf16
        return False


def _short_precision(element_type: Any) -> str:
    text = str(getattr(element_type, "get_type_name", lambda: element_type)()).lower()
    return {"bf16": "bf16", "bfloat16": "bf16", "f32": "f32", "float32": "f32", "f16": "f16"}.get(text, text)


class OpenVinoSession:
    """A compiled model that answers `run(output_names, feed)` like an onnxruntime session."""

    def __init__(self, compiled: Any) -> None:
        self._compiled = compiled
        self._request = compiled.create_infer_request()
        self._outputs = {name: port for port in compiled.outputs for name in port.get_names()}

    def run(self, output_names: Sequence[str] | None, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        results = self._request.infer(feed)
        ports = [self._outputs[name] for name in output_names] if output_names else list(self._compiled.outputs)
        # infer() copies outputs out of the request by default; the request is reused for the next batch.
        return [np.asarray(results[port]) for port in ports]

    def get_providers(self) -> list[str]:
        return [f"OpenVINO{DEVICE}"]


def build_openvino_session(onnx_path: str | os.PathLike, precision: str = "bf16", *,
                           threads: int | None = None) -> tuple[OpenVinoSession, SessionInfo]:
    """Compile `onnx_path` on OpenVINO's CPU plugin and report what really runs.

    bf16 on a CPU without bf16 units compiles in f32 (OpenVINO falls back by itself); the
    precision read back says so, and the result records it.
    """
    if precision not in PRECISIONS:
        raise ModelError(f"unknown OpenVINO precision {precision!r}: choose {' or '.join(PRECISIONS)}")
    openvino = openvino_module()
    threads = threads or physical_core_count()
    core = openvino.Core()
    try:
        compiled = core.compile_model(str(onnx_path), DEVICE, {
            "INFERENCE_PRECISION_HINT": precision,
            "PERFORMANCE_HINT": "LATENCY",  # one request at a time, all threads on it: the runners' pattern
            "INFERENCE_NUM_THREADS": threads,
        })
    except Exception as exc:  # openvino raises RuntimeError with its own long messages
        raise ModelError(f"OpenVINO cannot load {os.path.basename(onnx_path)}: {first_line(exc, 300)}") from exc
    really = _short_precision(compiled.get_property("INFERENCE_PRECISION_HINT"))
    session = OpenVinoSession(compiled)
    info = SessionInfo(provider="cpu", providers=tuple(session.get_providers()), requested=(f"OpenVINO{DEVICE}",),
                       threads=threads, runtime=f"openvino {short_version(openvino)}", precision=really)
    if really != precision:
        info.fallback_reason = f"OpenVINO was asked for {precision} but compiled {really} on this CPU"
    return session, info
