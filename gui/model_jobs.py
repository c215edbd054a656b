"""Jobs on the app home rather than the case: the model store, the providers, the self-test.

They run on the engine thread like every job (gui/jobs.py); the ones that touch no case at
that only ask (which provider would run) are `reads_only`, so they never wait behind a long
run; the self-test builds sessions, so it runs on the engine thread that owns them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, ClassVar

from engine.api import ModelOverrides, QuantizeOutcome, QuantizeRecipe, SelfTestReport, Thresholds, run_self_test
from gui.jobs import Job, JobContext


def variant_label(target: str) -> str:
    """"OpenVINO bf16", or "INT8" for every other variant `models quantize` makes or takes
    (int8, and a folder's own quantized/int8/uint8 file)."""
    return "OpenVINO bf16" if target == "openvino-bf16" else "INT8"


@dataclass(frozen=True)
class ListModels(Job):
    @property
    def title(self) -> str:
        return "Reading the model store"

    def run(self, ctx: JobContext) -> Any:
        return ctx.workstation.list_models()


@dataclass(frozen=True)
class InspectModel(Job):
    path: str
    overrides: ModelOverrides | None = None

    @property
    def title(self) -> str:
        return f"Reading {os.path.basename(self.path.rstrip(os.sep))}"

    def run(self, ctx: JobContext) -> Any:
        return ctx.workstation.inspect_model(self.path, overrides=self.overrides)


@dataclass(frozen=True)
class ImportModel(Job):
    path: str
    name: str | None = None
    overrides: ModelOverrides | None = None
    allow_test_fixture: bool = False

    @property
    def title(self) -> str:
        return f"Importing {self.name or os.path.basename(self.path.rstrip(os.sep))}"

    def run(self, ctx: JobContext) -> Any:
        return ctx.workstation.import_model(self.path, name=self.name, overrides=self.overrides,
                                            allow_test_fixture=self.allow_test_fixture, progress=ctx.progress)


@dataclass(frozen=True)
class VerifyModel(Job):
    name: str

    @property
    def title(self) -> str:
        return f"Verifying model {self.name}"

    def run(self, ctx: JobContext) -> Any:
        return ctx.workstation.verify_model(self.name, ctx.progress)


@dataclass(frozen=True)
class RemoveModel(Job):
    name: str

    @property
    def title(self) -> str:
        return f"Removing model {self.name}"

    def run(self, ctx: JobContext) -> None:
        ctx.workstation.remove_model(self.name)


@dataclass(frozen=True)
class Quantize(Job):
    name: str
    force: bool = False
    thresholds: Thresholds = Thresholds()
    target: str = "int8"  # or "openvino-bf16"
    unit: ClassVar[str] = "images"

    @property
    def title(self) -> str:
        return f"Making a validated {variant_label(self.target)} variant of {self.name}"

    def run(self, ctx: JobContext) -> QuantizeOutcome:
        calibration = ctx.case.calibration()
        if not calibration.files:
            from engine.errors import ModelError

            raise ModelError("the open case holds no images or videos to calibrate with")
        return ctx.workstation.quantize_model(self.name, calibration, thresholds=self.thresholds, force=self.force,
                                              recipe=QuantizeRecipe(), target=self.target, progress=ctx.progress,
                                              is_cancelled=ctx.is_cancelled)


@dataclass(frozen=True)
class ProbeProvider(Job):
    """Which provider a run would really use now (a tiny session is built to find out)."""

    preference: str
    reads_only: ClassVar[bool] = True  # touches no case: never waits behind a run

    @property
    def title(self) -> str:
        return "Checking the execution providers"

    def run(self, ctx: JobContext) -> Any:
        return ctx.workstation.probe_provider(self.preference)


@dataclass(frozen=True)
class SelfTest(Job):
    """The installation check `main.py self-test` runs: tiny models, a temporary case, a report.
    It uses its own temporary app home and case, so it never touches the open one."""

    preference: str = "auto"
    unit: ClassVar[str] = "steps"

    @property
    def title(self) -> str:
        return "Running the self-test"

    def run(self, ctx: JobContext) -> SelfTestReport:
        return run_self_test(self.preference, progress=ctx.progress, is_cancelled=ctx.is_cancelled)
