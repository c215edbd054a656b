"""Provider choice and fallback, with onnxruntime's provider lists and failures simulated."""

from __future__ import annotations

import onnxruntime
import pytest

from engine.errors import ModelError
from engine.models.runtime import (
    CPU, CUDA, DIRECTML, build_session, choose_providers, physical_core_count, planned_provider,
    summarize_provider_failure,
)

ALL = [CUDA, DIRECTML, CPU]


class FakeSession:
    def __init__(self, path, sess_options=None, providers=None, provider_options=None):
        self.requested = list(providers)
        self.options = sess_options
        self._actual = [p for p in providers if p not in self.failing]
        if self.log and len(self._actual) < len(providers):
            import os
            os.write(2, self.log.encode())

    failing: set = set()
    log: str = ""

    def get_providers(self):
        return self._actual


class FakeOrt:
    """Stands in for the onnxruntime module: real SessionOptions, simulated providers."""

    SessionOptions = onnxruntime.SessionOptions
    GraphOptimizationLevel = onnxruntime.GraphOptimizationLevel
    ExecutionMode = onnxruntime.ExecutionMode

    def __init__(self, available, failing=(), log=""):
        self._available = list(available)
        self.InferenceSession = type("Session", (FakeSession,), {"failing": set(failing), "log": log})

    def get_available_providers(self):
        return self._available


CUDA_LOG = (
    "[E:onnxruntime:Default, provider_bridge_ort.cc:2458 operator()] ... Failed to load library "
    "libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: cannot open shared object file: "
    "No such file or directory\n[W:onnxruntime:Default] Failed to create CUDAExecutionProvider. "
    "Require cuDNN 9.* and CUDA 13.*. Please install all dependencies\n"
)


@pytest.mark.parametrize(
    "preference, available, expected",
    [
        ("auto", ALL, (CUDA, CPU)),
        ("auto", [DIRECTML, CPU], (DIRECTML, CPU)),
        ("auto", [CPU], (CPU,)),
        ("cpu", ALL, (CPU,)),
        ("cuda", ALL, (CUDA, CPU)),
        ("directml", ALL, (DIRECTML, CPU)),
    ],
)
def test_choose_providers(preference, available, expected):
    plan = choose_providers(preference, available)
    assert plan.providers == expected
    assert len(plan.provider_options) == len(expected)
    assert plan.directml_constraints == (expected[0] == DIRECTML)


def test_explicit_gpu_missing_is_refused_not_downgraded():
    with pytest.raises(ModelError, match="cuda was requested.*onnxruntime-gpu"):
        choose_providers("cuda", [CPU])
    with pytest.raises(ModelError, match="directml was requested.*onnxruntime-directml"):
        choose_providers("directml", [CUDA, CPU])
    with pytest.raises(ModelError, match="unknown provider"):
        choose_providers("tpu", ALL)


def test_cuda_listed_and_working(tiny_onnx):
    session, info = build_session(tiny_onnx, "auto", ort_module=FakeOrt(ALL))
    assert info.provider == "cuda"
    assert info.fallback_reason is None
    assert session.requested == [CUDA, CPU]


def test_cuda_listed_but_failing_reports_one_line(tiny_onnx, capfd):
    session, info = build_session(tiny_onnx, "auto", ort_module=FakeOrt(ALL, failing={CUDA}, log=CUDA_LOG))
    assert info.provider == "cpu"
    assert info.fallback_reason == (
        "cuda is listed by onnxruntime but could not start (missing library libcublasLt.so.13; "
        "it needs cuDNN 9.* and CUDA 13.*): running on the CPU"
    )
    captured = capfd.readouterr()
    assert "provider_bridge" not in captured.err  # the native spew was swallowed


def test_directml_only(tiny_onnx):
    session, info = build_session(tiny_onnx, "auto", ort_module=FakeOrt([DIRECTML, CPU]))
    assert info.provider == "directml"
    assert session.options.enable_mem_pattern is False
    assert session.options.execution_mode == onnxruntime.ExecutionMode.ORT_SEQUENTIAL


def test_cpu_only(tiny_onnx):
    session, info = build_session(tiny_onnx, "auto", ort_module=FakeOrt([CPU]))
    assert info.provider == "cpu"
    assert info.fallback_reason is None


def test_real_onnxruntime_reports_the_provider_that_runs(tiny_onnx):
    """The installed package, for real: whatever it lists, the recorded provider is what runs."""
    session, info = build_session(tiny_onnx, "auto")
    assert info.providers == tuple(session.get_providers())
    if CUDA in onnxruntime.get_available_providers() and CUDA not in session.get_providers():
        assert info.fallback_reason and info.fallback_reason.startswith("cuda is listed")
    assert session.get_session_options().intra_op_num_threads == physical_core_count()


def test_summary_without_reason():
    assert "onnxruntime gave no reason" in summarize_provider_failure(CUDA, "")


@pytest.mark.parametrize(
    "preference, available, expected",
    [("auto", ALL, "cuda"), ("auto", [DIRECTML, CPU], "directml"), ("auto", [CPU], "cpu"),
     ("cpu", ALL, "cpu"), ("cuda", [CPU], "cpu")],  # refused later by build_session, not here
)
def test_planned_provider_is_the_first_choice_before_any_session(preference, available, expected):
    assert planned_provider(preference, ort_module=FakeOrt(available)) == expected
