"""What the self-test reports: one `StepResult` per step and the `SelfTestReport` around them.

Frozen plain values, so the window can show them from another thread and the command line
can print them as lines or as JSON. A step that was not reached because an earlier one
failed is "skipped", never "ok": the report passes only when every step ran and passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

OK, FAILED, SKIPPED = "ok", "FAILED", "skipped"


@dataclass(frozen=True)
class StepResult:
    name: str  # e.g. "import models"
    status: str  # ok, FAILED or skipped
    detail: str  # what was done, or why it failed, in one line
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == OK

    def line(self) -> str:
        return f"{self.status:<8}{self.name}: {self.detail}"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "seconds": round(self.seconds, 3)}


@dataclass(frozen=True)
class SelfTestReport:
    steps: tuple[StepResult, ...]
    providers_available: tuple[str, ...]  # what onnxruntime offers here (short names)
    provider_requested: str  # auto, cpu, cuda or directml
    providers_used: tuple[str, ...]  # what the sessions really ran on
    versions: Mapping[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    @property
    def failed(self) -> tuple[StepResult, ...]:
        return tuple(step for step in self.steps if step.status == FAILED)

    def summary(self) -> str:
        outcome = "passed" if self.ok else f"FAILED ({', '.join(s.name for s in self.failed) or 'incomplete'})"
        used = ", ".join(self.providers_used) or "nothing"
        return (f"self-test {outcome} in {self.seconds:.1f} s; onnxruntime offers "
                f"{', '.join(self.providers_available) or 'no provider'}, ran on {used}")

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "steps": [step.to_json() for step in self.steps],
                "providers": {"available": list(self.providers_available), "requested": self.provider_requested,
                              "used": list(self.providers_used)},
                "versions": dict(self.versions), "seconds": round(self.seconds, 3)}
