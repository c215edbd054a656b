"""Run the self-test's steps in a temporary folder, record each outcome, always clean up.

Everything happens under one `tempfile.mkdtemp` folder (models, app home, evidence, case,
report), which is deleted at the end whatever happened; that deletion is reported as the
last step, so a self-test that leaves files behind does not pass. A failing step's
traceback goes to the log (engine/logs.py); the report holds its one-line reason.
"""

from __future__ import annotations

import gc
import logging
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from engine.errors import Cancelled, EngineError, SettingsError
from engine.models.runtime import PREFERENCES
from engine.selftest.environment import providers_available, version_facts
from engine.selftest.records import FAILED, OK, SKIPPED, SelfTestReport, StepResult
from engine.selftest.steps import STEPS, SelfTestContext, Step
from engine.util.progress import IsCancelled, Progress, report
from engine.util.text import first_line

log = logging.getLogger(__name__)
CLEAN_UP = "clean up"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, EngineError):
        return first_line(exc, 300)
    return f"unexpected {type(exc).__name__}: {first_line(exc, 300)}"


def _clean_up(ctx: SelfTestContext) -> StepResult:
    started = time.perf_counter()
    try:
        if ctx.case is not None:
            ctx.case.close()
        # Sessions and files still referenced from cycles are released first: Windows cannot
        # delete a file something still holds open.
        ctx.workstation = ctx.case = None
        gc.collect()
        shutil.rmtree(ctx.root)
    except OSError as exc:
        log.warning("self-test could not delete %s", ctx.root, exc_info=True)
        return StepResult(CLEAN_UP, FAILED, f"cannot delete {ctx.root}: {exc.strerror or exc}",
                          time.perf_counter() - started)
    if ctx.root.exists():
        return StepResult(CLEAN_UP, FAILED, f"{ctx.root} is still there", time.perf_counter() - started)
    return StepResult(CLEAN_UP, OK, "temporary models, app home, case and report deleted",
                      time.perf_counter() - started)


def _run_steps(ctx: SelfTestContext, steps: Sequence[tuple[str, Step]], progress: Progress | None,
               is_cancelled: IsCancelled | None) -> list[StepResult]:
    results: list[StepResult] = []
    stopped: str | None = None
    for index, (name, step) in enumerate(steps):
        report(progress, index, len(steps) + 1, name)
        if stopped is None and is_cancelled is not None and is_cancelled():
            stopped = "not run: the self-test was cancelled"
        if stopped is not None:
            results.append(StepResult(name, SKIPPED, stopped))
            continue
        started = time.perf_counter()
        try:
            detail = step(ctx)
        except Cancelled as exc:
            results.append(StepResult(name, FAILED, f"cancelled: {first_line(exc)}", time.perf_counter() - started))
            stopped = "not run: the self-test was cancelled"
        except Exception as exc:  # every failure, expected or not, is this step's outcome
            log.exception("self-test step %r failed", name)
            results.append(StepResult(name, FAILED, _reason(exc), time.perf_counter() - started))
            stopped = f"not run: {name} failed"
        else:
            results.append(StepResult(name, OK, detail, time.perf_counter() - started))
        log.info("self-test %s", results[-1].line())
    return results


def run_self_test(provider: str = "auto", progress: Progress | None = None, is_cancelled: IsCancelled | None = None,
                  *, workdir: str | Path | None = None,
                  steps: Sequence[tuple[str, Step]] = STEPS) -> SelfTestReport:
    """Run every step on `provider` (auto, cpu, cuda, directml) in a temporary folder made
    inside `workdir` (default: the system's temporary folder), then delete it."""
    if provider not in PREFERENCES:
        raise SettingsError(f"unknown provider {provider!r}: choose one of {', '.join(PREFERENCES)}")
    started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="dfw-selftest-", dir=workdir))
    ctx = SelfTestContext(root, provider)
    results: list[StepResult] = []
    try:
        results = _run_steps(ctx, steps, progress, is_cancelled)
    finally:
        results.append(_clean_up(ctx))
        report(progress, len(steps) + 1, len(steps) + 1, CLEAN_UP)
    try:
        versions = version_facts()
    except Exception as exc:  # a broken library must not hide the step lines that say which
        versions = {"error": _reason(exc)}
    outcome = SelfTestReport(tuple(results), ctx.available or _available(), provider, tuple(ctx.used),
                             versions, time.perf_counter() - started)
    log.info("%s", outcome.summary())
    return outcome


def _available() -> tuple[str, ...]:
    try:
        return providers_available()
    except Exception:  # onnxruntime itself failed to import: the runtime step says so
        return ()
