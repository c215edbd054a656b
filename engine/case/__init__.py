"""The case file: one SQLite file holding evidence, runs, results, verdicts, notes and a
hash-chained audit log. `CaseStore` is the way in; `verify_case` checks a case end to end."""

from engine.case.records import (
    Annotation,
    CaseInfo,
    Evidence,
    EvidenceOverview,
    ItemError,
    Run,
    Verdict,
)
from engine.case.checkpoints import Checkpoint
from engine.case.store import CaseStore
from engine.case.verify import EvidenceCheck, VerifyReport, verify_case

__all__ = [
    "Annotation",
    "CaseInfo",
    "Checkpoint",
    "CaseStore",
    "Evidence",
    "EvidenceCheck",
    "EvidenceOverview",
    "ItemError",
    "Run",
    "Verdict",
    "VerifyReport",
    "verify_case",
]
