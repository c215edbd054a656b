"""End-to-end check of a case: re-hash every evidence file, check the audit chain and the
SQLite file itself, and say exactly what differs. Used by `verify` and by reports."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from engine.case.blobs import overlay_problem
from engine.case.consistency import evidence_against_audit, stored_value_problems
from engine.case.files import hash_regular_file
from engine.case.recheck import recheck_problems
from engine.case.sealcheck import seal_problems
from engine.case.timeutil import now_iso
from engine.errors import CaseError
from engine.util.progress import Progress



# What a passed verification proves, said wherever its outcome is shown (CLI, reports, README).
SCOPE = ("verify proves that the evidence files hash as recorded, that the audit log is unbroken up to the head "
         "hash shown, and that every sealed record (results, overlays, verdicts, runs, notes, tags, bookmarks, "
         "exclusions, evidence metadata, kept forensic maps) is what its log entry says and agrees with the rest. "
         "It cannot prove who wrote the file: the log lives inside the case, so someone who knows this scheme can "
         "rewrite the whole file consistently. "
         "Compare the head hash with the one an earlier report or examiner recorded; a match proves nothing "
         "before it was changed.")


@dataclass(frozen=True)
class EvidenceCheck:
    evidence_id: int
    path: str
    status: str  # ok, changed, missing, unreadable
    expected_sha256: str
    actual_sha256: str | None
    expected_size: int
    actual_size: int | None
    message: str

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class VerifyReport:
    case_path: str
    checked_at: str
    evidence: tuple[EvidenceCheck, ...]
    audit_problems: tuple[str, ...]
    integrity: tuple[str, ...]
    audit_rows: int
    audit_head: str | None
    recorded: bool = False  # whether "verification done" went into the audit log
    notes: tuple[str, ...] = field(default=())
    record_problems: tuple[str, ...] = field(default=())  # rows against the audit log, stored value kinds
    # Evidence whose row differs from what the audit log recorded when it was added: its file
    # may still hash to the row's value (row and file swapped together), so "matches" means nothing.
    suspect_evidence: tuple[int, ...] = field(default=())
    foreign: tuple[str, ...] = field(default=())  # schema objects this program did not write (foreign.py)

    @property
    def ok(self) -> bool:
        return (self.integrity == ("ok",) and not self.audit_problems and not self.record_problems
                and not self.foreign and all(c.ok for c in self.evidence))

    @property
    def problems(self) -> list[str]:
        out = [] if self.integrity == ("ok",) else [f"SQLite integrity: {m}" for m in self.integrity]
        out += [f"not written by this program: {p}" for p in self.foreign]
        out += [f"evidence {c.evidence_id}: {c.message}" for c in self.evidence if not c.ok]
        out += [f"audit log: {p}" for p in self.audit_problems]
        out += [f"records: {p}" for p in self.record_problems]
        return out

    def to_dict(self) -> dict:
        return {
            "case": self.case_path,
            "checked_at": self.checked_at,
            "ok": self.ok,
            "integrity": list(self.integrity),
            "evidence": [c.__dict__ | {"ok": c.ok} for c in self.evidence],
            "audit": {"rows": self.audit_rows, "head": self.audit_head, "problems": list(self.audit_problems)},
            "records": {"problems": list(self.record_problems), "suspect_evidence": list(self.suspect_evidence)},
            "foreign": list(self.foreign),
            "scope": SCOPE,
            "problems": self.problems,
            "recorded": self.recorded,
            "notes": list(self.notes),
        }


def check_evidence_file(evidence_id: int, path: str, fallback: str, sha256: str, size: int,
                        progress: Progress | None = None) -> EvidenceCheck:
    target = path if os.path.lexists(path) or not os.path.lexists(fallback) else fallback
    if not os.path.lexists(target):
        return EvidenceCheck(evidence_id, path, "missing", sha256, None, size, None, f"file missing: {path}")
    try:
        hashed = hash_regular_file(target, progress)
    except CaseError as exc:
        return EvidenceCheck(evidence_id, target, "unreadable", sha256, None, size, None, str(exc))
    if hashed.sha256 != sha256:
        return EvidenceCheck(
            evidence_id, target, "changed", sha256, hashed.sha256, size, hashed.size,
            f"content changed: {target}: SHA-256 is {hashed.sha256}, the case recorded {sha256}"
            + (f" (size {hashed.size} bytes, was {size})" if hashed.size != size else ""),
        )
    return EvidenceCheck(evidence_id, target, "ok", sha256, hashed.sha256, size, hashed.size, "matches")


def _record_problems(conn, entries, schema_version: int) -> tuple[tuple[str, ...], list[str]]:
    """Stored values of the wrong kind, records against their seals, verdicts and scores judged
    again, and overlay blobs against their SHA-256. Values of the wrong kind come first: when
    there are any, the deeper checks still run, on what can be read."""
    kinds = stored_value_problems(conn, schema_version)
    found = seal_problems(conn, entries, schema_version)
    recheck_problems(conn, found)
    for (overlay_id,) in conn.execute("SELECT id FROM overlays ORDER BY id").fetchall():
        problem = overlay_problem(conn, overlay_id)
        if problem:
            found.add("overlays damaged", problem)
    return tuple(kinds + found.problems()), found.notes


def verify_case(store, progress: Progress | None = None, record: bool = True) -> VerifyReport:
    """Check `store` (a CaseStore); when it is open for writing and `record` is set, the
    outcome is appended to the audit log as "verification done" after the checks."""
    integrity = tuple(store.integrity_check())
    items = store.list_evidence()
    checks = []
    for index, item in enumerate(items):
        if progress is not None:
            progress(index, len(items), os.path.basename(item.path_given))
        checks.append(check_evidence_file(item.id, item.path_resolved, item.path_given, item.sha256, item.size))
    if progress is not None:
        progress(len(items), len(items), "audit log")
    problems = tuple(store.verify_audit_chain())
    info = store.info()
    entries = store.audit_entries()
    evidence_problems, suspect = evidence_against_audit(items, entries)
    if progress is not None:
        progress(len(items), len(items), "stored records")
    records, notes = _record_problems(store._connection(), entries, info.schema_version)
    report = VerifyReport(store.path, now_iso(), tuple(checks), problems, integrity, info.audit_count, info.audit_head,
                          notes=tuple(notes), record_problems=tuple(evidence_problems) + records,
                          suspect_evidence=tuple(sorted(suspect)), foreign=tuple(store.foreign))
    if record and not store.readonly:
        store.log("verification done", {
            "ok": report.ok,
            "evidence_checked": len(checks),
            "evidence_problems": [c.evidence_id for c in checks if not c.ok],
            "audit_problems": len(problems),
            "record_problems": len(records),
            "integrity_ok": integrity == ("ok",),
            "audit_head_checked": info.audit_head,
        })
        report = VerifyReport(**{**report.__dict__, "recorded": True})
    return report
