"""Execution providers and ONNX sessions: choose CUDA → DirectML → CPU, record what really runs.

Provider choice is a pure function of the user's preference and the providers the installed
onnxruntime lists. Listing is not running: onnxruntime-gpu lists CUDA even where the CUDA or
cuDNN libraries are missing, logs a screen of errors and quietly runs on the CPU. So the
session is built first and `session.get_providers()` is read back; that, not the request,
is what every result records. onnxruntime's own log lines about a failed GPU provider are
caught and condensed into one readable sentence.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from engine.errors import ModelError
from engine.models.lanes import padded_chunk, run_in_lanes
from engine.util.text import first_line

CUDA = "CUDAExecutionProvider"
DIRECTML = "DmlExecutionProvider"
CPU = "CPUExecutionProvider"

PREFERENCES = ("auto", "cuda", "directml", "cpu")
SHORT_NAMES = {CUDA: "cuda", DIRECTML: "directml", CPU: "cpu"}


@dataclass(frozen=True)
class ProviderPlan:
    """What to ask onnxruntime for: providers in order, their options, session tweaks."""

    providers: tuple[str, ...]
    provider_options: tuple[dict[str, str], ...]
    # DirectML needs memory patterns off and sequential execution (one run at a time).
    directml_constraints: bool = False


def choose_providers(preference: str, available: Sequence[str], device_id: int = 0) -> ProviderPlan:
    """Map a preference (auto|cuda|directml|cpu) onto the providers onnxruntime lists.

    auto takes CUDA, then DirectML, then the CPU among those listed; an explicit GPU choice
    that the installed package cannot offer is refused rather than silently downgraded.
    The CPU provider is always appended as the fallback onnxruntime needs.
    """
    if preference not in PREFERENCES:
        raise ModelError(f"unknown provider {preference!r}: choose one of {', '.join(PREFERENCES)}")
    listed = set(available)
    if preference == "cpu":
        chosen: list[str] = []
    elif preference == "auto":
        chosen = [p for p in (CUDA, DIRECTML) if p in listed][:1]
    else:
        wanted = CUDA if preference == "cuda" else DIRECTML
        if wanted not in listed:
            package = "onnxruntime-gpu" if wanted == CUDA else "onnxruntime-directml"
            raise ModelError(
                f"{preference} was requested but the installed onnxruntime offers only "
                f"{', '.join(SHORT_NAMES.get(p, p) for p in available) or 'nothing'}; install {package}"
            )
        chosen = [wanted]
    options: list[dict[str, str]] = [{"device_id": str(device_id)} for _ in chosen]
    return ProviderPlan(
        providers=tuple(chosen + [CPU]),
        provider_options=tuple(options + [{}]),
        directml_constraints=DIRECTML in chosen,
    )


def _onnxruntime() -> Any:
    import onnxruntime  # noqa: PLC0415 - keep its import cost out of module load

    return onnxruntime


def planned_provider(preference: str, ort_module: Any = None) -> str:
    """The provider a session would be asked for first ("cuda", "directml" or "cpu").

    Only a plan: a listed GPU provider can still fail when the session is built. Callers
    that must size other work before any session exists (the decoder) use it as a first
    guess and correct it from `SessionInfo.provider` afterwards.
    """
    ort = ort_module if ort_module is not None else _onnxruntime()
    try:
        plan = choose_providers(preference, ort.get_available_providers())
    except ModelError:
        return "cpu"  # the session build will raise the real error
    return SHORT_NAMES.get(plan.providers[0], plan.providers[0])


def physical_core_count() -> int:
    """Physical cores this process may use: hyper-threads share one core's matrix units."""
    try:
        allowed = os.sched_getaffinity(0)
    except AttributeError:  # not Linux
        allowed = set(range(os.cpu_count() or 1))
    cores: set[str] = set()
    for cpu in allowed:
        siblings = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list")
        try:
            cores.add(siblings.read_text().strip())
        except OSError:
            cores.add(str(cpu))
    return max(1, len(cores))


_LIB_MISSING = re.compile(r"error:\s*([^\s:]+\.(?:so[.\d]*|dll|dylib)):\s*cannot open shared object file")
_REQUIRE = re.compile(r"Require (.+?\*)\.(?:\s|$)")
_DLL_MISSING = re.compile(r"LoadLibrary failed with error (\d+)")


# Every provider-fallback sentence carries this, so a client can say it once rather than at every command.
FALLBACK_MARK = "is listed by onnxruntime but could not start"


def summarize_provider_failure(requested: str, log_text: str) -> str:
    """One sentence on why a GPU provider did not start, from onnxruntime's log lines."""
    name = SHORT_NAMES.get(requested, requested)
    reasons = []
    missing = _LIB_MISSING.search(log_text)
    if missing:
        reasons.append(f"missing library {missing.group(1)}")
    dll = _DLL_MISSING.search(log_text)
    if dll:
        reasons.append(f"a provider DLL did not load (Windows error {dll.group(1)})")
    required = _REQUIRE.search(log_text)
    if required:
        reasons.append(f"it needs {required.group(1)}")
    if not reasons:
        reasons.append("onnxruntime gave no reason")
    return f"{name} {FALLBACK_MARK} ({'; '.join(reasons)}): running on the CPU"


@contextlib.contextmanager
def _captured_native_stderr() -> Iterator[list[str]]:
    """Capture what native code writes to file descriptor 2 while the block runs.

    onnxruntime logs provider failures from C++ straight to fd 2, past sys.stderr. A lock
    keeps two threads from swapping the descriptor at once.
    """
    lines: list[str] = []
    with _STDERR_LOCK, tempfile.TemporaryFile(mode="w+b") as sink:
        try:
            sys.stderr.flush()
        except (AttributeError, ValueError):
            pass
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines.extend(sink.read().decode("utf-8", "replace").splitlines())


_STDERR_LOCK = threading.Lock()


@dataclass
class SessionInfo:
    """What a built session really is: the provider that runs it and any fallback reason."""

    provider: str  # short name of the first provider the session really uses: cuda|directml|cpu
    providers: tuple[str, ...]
    requested: tuple[str, ...]
    fallback_reason: str | None = None
    threads: int = 0  # intra-op threads of the session
    lanes: int = 1  # images run at once, one per thread (engine/models/lanes.py); threads × lanes cores in use
    runtime: str = ""  # "onnxruntime 1.x" or "openvino 2026.x": which library really ran the graph
    precision: str | None = None  # what OpenVINO really compiled (bf16|f32); None: the file's own types
    graph: str = "exported"  # or "fused attention (N blocks)": the scoring graph (scoring_graph.py)
    graph_sha256: str | None = None  # of the fused graph, when that is what ran


def build_session(
    onnx_path: str | os.PathLike,
    preference: str = "auto",
    *,
    threads: int | None = None,
    ort_module: Any = None,
    optimization: str = "all",
    memory_pattern: bool = True,
) -> tuple[Any, SessionInfo]:
    """Create an InferenceSession on the best provider and report what really runs.

    `ort_module` replaces the onnxruntime module in tests that simulate provider lists.
    `memory_pattern=False` for a session run from several threads at once: each concurrent run
    would otherwise reserve its own planned block (SigLIP-512 on two lanes: 976 MB peak with
    patterns, 844 MB without, at the same speed).
    """
    ort = ort_module if ort_module is not None else _onnxruntime()
    plan = choose_providers(preference, ort.get_available_providers())
    options = ort.SessionOptions()
    threads = threads or physical_core_count()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle worker threads must not spin: the decoder and the GUI share these cores.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.graph_optimization_level = {
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "none": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    }[optimization]
    options.enable_mem_pattern = memory_pattern
    if plan.directml_constraints:
        options.enable_mem_pattern = False
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    wants_gpu = plan.providers[0] != CPU
    try:
        if wants_gpu:
            with _captured_native_stderr() as log_lines:
                session = ort.InferenceSession(
                    str(onnx_path), sess_options=options,
                    providers=list(plan.providers), provider_options=list(plan.provider_options),
                )
        else:
            log_lines = []
            session = ort.InferenceSession(
                str(onnx_path), sess_options=options,
                providers=list(plan.providers), provider_options=list(plan.provider_options),
            )
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/... types
        raise ModelError(f"onnxruntime cannot load {Path(onnx_path).name}: {first_line(exc, 300)}") from exc
    actual = tuple(session.get_providers())
    info = SessionInfo(
        provider=SHORT_NAMES.get(actual[0], actual[0]) if actual else "none",
        providers=actual,
        requested=plan.providers,
        threads=threads,
        runtime=f"onnxruntime {getattr(ort, '__version__', '?')}",
    )
    if wants_gpu and plan.providers[0] not in actual:
        info.fallback_reason = summarize_provider_failure(plan.providers[0], "\n".join(log_lines))
    return session, info


def build_lane_session(onnx_path: str | os.PathLike, preference: str = "auto", *, threads: int | None = None,
                       ort_module: Any = None) -> tuple[Any, SessionInfo]:
    """`build_session` as scoring uses it: on the CPU with more than one core, one intra-op
    thread and one lane per core (`SessionInfo.lanes`, engine/models/lanes.py), without memory
    patterns since its runs are concurrent; otherwise every core on each run, one lane."""
    cores = threads or physical_core_count()
    if cores > 1 and planned_provider(preference, ort_module) == "cpu":
        session, info = build_session(onnx_path, preference, threads=1, ort_module=ort_module, memory_pattern=False)
        info.lanes = cores
        return session, info
    return build_session(onnx_path, preference, threads=cores, ort_module=ort_module)


def probe_provider(preference: str = "auto", ort_module: Any = None) -> SessionInfo:
    """Build a session for a one-node graph and say what really runs it: the honest answer to
    "which provider would a run use now", since listing CUDA is not running on it."""
    from onnx import TensorProto, helper, save

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "probe",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    with tempfile.TemporaryDirectory(prefix="dfw-probe-") as folder:
        path = Path(folder) / "probe.onnx"
        save(model, str(path))
        _, info = build_session(path, preference, threads=1, ort_module=ort_module)
    return info


def run_batched(
    session: Any,
    input_name: str,
    pixels: np.ndarray,
    batch_size: int,
    output_names: Sequence[str] | None = None,
    fixed_batch: int | None = None,
    is_cancelled: Callable[[], bool] | None = None,
    lanes: int = 1,
) -> list[np.ndarray]:
    """Run `pixels` (N,3,H,W) in chunks; returns each output concatenated over N.

    Models exported with a fixed batch dimension are fed that many images at a time. With
    `lanes` > 1 the chunks run concurrently on that many threads (engine/models/lanes.py).
    """
    from engine.errors import Cancelled

    if pixels.ndim != 4:
        raise ModelError(f"expected a batch of images (N,3,H,W), got shape {pixels.shape}")
    step = fixed_batch or max(1, batch_size)
    if lanes > 1 and len(pixels) > step:
        return run_in_lanes(session, input_name, pixels, lanes, step, output_names, fixed_batch, is_cancelled)
    chunks: list[list[np.ndarray]] = []
    for start in range(0, len(pixels), step):
        if is_cancelled is not None and is_cancelled():
            raise Cancelled("inference cancelled")
        batch, count = padded_chunk(pixels, start, step, fixed_batch)
        outputs = session.run(list(output_names) if output_names else None, {input_name: batch})
        chunks.append([output[:count] for output in outputs])
    if not chunks:
        return []
    return [np.concatenate([chunk[i] for chunk in chunks], axis=0) for i in range(len(chunks[0]))]
