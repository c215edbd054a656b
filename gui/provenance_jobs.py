"""The details panel's provenance findings, read on the reader thread.

An image's findings are usually stored at intake (in its metadata, under "provenance"); they
are read back from there. When they are not (an item added by an older version, a report
this version cannot read, one about other bytes), they are computed from the file, which is
checked against its recorded SHA-256 first. A clip's findings are never stored (they mean
reading all of it again), so they are computed only when the analyst asks for them. Nothing
here writes to the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from engine.api import ProvenanceReport
from engine.errors import EngineError
from gui.jobs import Job, JobContext

STORED, COMPUTED, ON_REQUEST = "stored", "computed", "on request"


@dataclass(frozen=True)
class ProvenanceView:
    evidence_id: int
    sha256: str
    report: ProvenanceReport | None
    origin: str  # STORED (at intake), COMPUTED (just now), ON_REQUEST (a clip: not read until asked)
    note: str = ""  # why a stored report was not used
    error: str | None = None  # the file is missing or changed, or a check broke


@dataclass(frozen=True)
class LoadProvenance(Job):
    evidence_id: int
    read_clip: bool = False  # a clip is read (all of it) only when the analyst asks
    reads_only: ClassVar[bool] = True

    @property
    def title(self) -> str:
        return f"Provenance of item {self.evidence_id}"

    def run(self, ctx: JobContext) -> ProvenanceView:
        case = ctx.case
        evidence = case.evidence(self.evidence_id)
        stored = evidence.metadata.get("provenance")
        note = ""
        if isinstance(stored, dict):
            try:
                report = ProvenanceReport.from_dict(stored)
            except EngineError as exc:
                note = f"the findings stored at intake could not be read ({exc}); they were read from the file again"
            else:
                if report.sha256 == evidence.sha256:
                    return ProvenanceView(evidence.id, evidence.sha256, report, STORED)
                note = "the findings stored at intake are about other bytes; they were read from the file again"
        elif evidence.metadata.get("provenance_error"):
            note = f"reading them at intake failed ({evidence.metadata['provenance_error']}); read again now"
        if evidence.media_kind == "video" and not self.read_clip:
            return ProvenanceView(evidence.id, evidence.sha256, None, ON_REQUEST, note)
        try:
            report = case.provenance(evidence.id)
        except EngineError as exc:  # a missing or changed file: said in the panel, not as a job failure
            return ProvenanceView(evidence.id, evidence.sha256, None, COMPUTED, note, str(exc))
        return ProvenanceView(evidence.id, evidence.sha256, report, COMPUTED, note)
