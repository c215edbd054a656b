"""What an analysis run says while it runs: one typed event stream for every client.

`Case.analyze` yields these in order: RunStarted once, then ItemScored / ItemFailed /
EvidenceVerdicts / RunProgress as work completes, and RunFinished last. The CLI prints them;
the window's engine thread emits each as one signal. All are frozen, so they can cross
threads as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from engine.analysis.verdicts import VerdictRecord
from engine.vocab import FailureStage, RunStatus


@dataclass(frozen=True)
class RunStarted:
    run_id: int
    models: tuple[str, ...]
    provider: str  # what really runs, e.g. "cpu" or "cuda,cpu" when models landed on different ones
    items: int  # evidence × model pairs to do
    notes: tuple[str, ...] = ()  # provider fallbacks, quantization figures
    frames_total: int = 0  # frames the run expects to score (RunProgress counts up to it)
    resumed: bool = False
    evidence: int = 0  # evidence files to do: the unit the command line counts in


@dataclass(frozen=True)
class ItemScored:
    """One evidence item × one model stored, with its frames and overlays."""

    run_id: int
    evidence_id: int
    model: str
    regions: int
    overlays: int = 0


@dataclass(frozen=True)
class ItemFailed:
    """One evidence item (every model when `model` is None) could not be done; the run goes on."""

    run_id: int
    evidence_id: int
    model: str | None
    stage: FailureStage
    message: str


@dataclass(frozen=True)
class EvidenceVerdicts:
    """Every model of the run is done with one evidence item: its verdicts are stored."""

    run_id: int
    evidence_id: int
    verdicts: tuple[VerdictRecord, ...]


@dataclass(frozen=True)
class RunProgress:
    """How far the run is, in sampled frames (an image is one frame)."""

    run_id: int
    done: int
    total: int
    evidence_id: int | None = None  # the item being worked on
    message: str = ""
    unit: str = "frames"


@dataclass(frozen=True)
class RunFinished:
    run_id: int
    status: RunStatus
    items_done: int
    items_failed: int


RunEvent = Union[RunStarted, ItemScored, ItemFailed, EvidenceVerdicts, RunProgress, RunFinished]
