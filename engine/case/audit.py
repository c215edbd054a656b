"""The append-only audit log and its hash chain.

Every action on a case is one `audit` row: seq, time, actor, action, details (canonical
JSON), prev_hash and row_hash = SHA-256 of the canonical JSON of all those fields. Each row
names the hash of the row before it (the first names a genesis hash derived from the case's
uid), so editing, deleting, inserting or reordering rows breaks the chain at a point
`verify_audit_chain` can name. Cutting rows off the end leaves a valid but shorter chain,
so the number of rows and the last hash are also kept in `meta` (audit_count, audit_head),
written in the same transaction as each row.

What this does not stop: the anchor lives in the same file, so someone who knows this
scheme and can write the file can rewrite the log from the point of an edit onwards, update
the anchor, and produce a case that verifies. The chain proves that the program wrote the
log in this order and that nobody changed it without also recomputing every later hash; to
prove more, the head hash that `verify` prints must be kept outside the case (in the
report, in the examiner's notes) and compared later.

The rows the log speaks for are covered by seals (seals.py): an item's results and
overlays, an item's verdicts and a run's own record carry their digest in the entry that
stored them, and `verify` recomputes each (sealcheck.py) and judges every verdict again
(recheck.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Mapping

import sqlite_utils

from engine.case.schema import AUDIT_TRIGGERS
from engine.case.timeutil import now_iso


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def genesis_hash(case_uid: str) -> str:
    return hashlib.sha256(f"dfwcase audit genesis {case_uid}".encode("utf-8")).hexdigest()


def row_hash(seq: int, time: str, actor: str, action: str, details: str, prev_hash: str) -> str:
    # `details` is hashed as stored text, so re-parsing JSON can never change a hash.
    payload = canonical_json(
        {"seq": seq, "time": time, "actor": actor, "action": action, "details": details, "prev_hash": prev_hash}
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    time: str
    actor: str
    action: str
    details: dict
    prev_hash: str
    row_hash: str


def _meta(db: sqlite_utils.Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def _set_meta(db: sqlite_utils.Database, key: str, value: str) -> None:
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value])


def append(db: sqlite_utils.Database, actor: str, action: str, details: Mapping[str, Any] | None = None) -> AuditEntry:
    """Append one row and move the anchor; must run inside the caller's transaction so the
    action and its audit row commit together or not at all."""
    if not db.conn.in_transaction:
        raise RuntimeError("audit rows must be appended inside a transaction")
    # The anchor, not the last row, is what the new row extends: after a truncation the gap
    # stays visible instead of being papered over by the next action.
    count = int(_meta(db, "audit_count") or 0)
    prev = _meta(db, "audit_head") or genesis_hash(_meta(db, "case_uid") or "")
    seq = count + 1
    time = now_iso()
    text = canonical_json(dict(details or {}))
    digest = row_hash(seq, time, actor, action, text, prev)
    db.execute(
        "INSERT INTO audit (seq, time, actor, action, details, prev_hash, row_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [seq, time, actor, action, text, prev, digest],
    )
    _set_meta(db, "audit_count", str(seq))
    _set_meta(db, "audit_head", digest)
    _set_meta(db, "updated_at", time)
    return AuditEntry(seq, time, actor, action, json.loads(text), prev, digest)


def _entry(row: tuple) -> AuditEntry:
    seq, time, actor, action, details, prev, digest = row
    try:
        parsed = json.loads(details)
    except (TypeError, ValueError):
        parsed = {"unreadable": details}
    if not isinstance(parsed, dict):
        parsed = {"unreadable": details}
    return AuditEntry(seq, time, actor, action, parsed, prev, digest)


_COLUMNS = "seq, time, actor, action, details, prev_hash, row_hash"


def entries(db: sqlite_utils.Database) -> list[AuditEntry]:
    return [_entry(row) for row in db.execute(f"SELECT {_COLUMNS} FROM audit ORDER BY id").fetchall()]


def last_entry(db: sqlite_utils.Database, action: str) -> AuditEntry | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM audit WHERE action = ? ORDER BY id DESC LIMIT 1", [action]).fetchone()
    return _entry(row) if row else None


def _span(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}–{last}"


def _gaps(present: list[int], shown: int = 20) -> tuple[str, int]:
    """The runs of numbers from 1 to max(present) that `present` (sorted) lacks, as text, and
    how many numbers that is. Works on the gaps, never on every number: a stored sequence
    number of 10^12 must cost no more than a small one."""
    gaps, expected = [], 1
    for n in present:
        if n > expected:
            gaps.append((expected, n - 1))
        expected = n + 1
    text = ", ".join(_span(a, b) for a, b in gaps[:shown]) + (f" (and {len(gaps) - shown} more gaps)"
                                                                if len(gaps) > shown else "")
    return text, sum(b - a + 1 for a, b in gaps)


def _rows_by_seq(rows: list[tuple], problems: list[str]) -> tuple[dict[int, tuple], list[int], set[int]]:
    """Rows keyed by their sequence number, the numbers in storage order, and the rows whose
    hash no longer matches their content; duplicates and rows without a number are problems."""
    changed: set[int] = set()
    by_seq: dict[int, tuple] = {}
    positions: list[int] = []
    for row in rows:
        _, seq, time, actor, action, details, prev, digest = row
        if not isinstance(seq, int):
            problems.append(f"a row has no valid sequence number ({seq!r}): inserted or edited")
            continue
        if seq in by_seq:
            problems.append(f"row {seq} appears more than once: a row was inserted")
            continue
        by_seq[seq] = row
        positions.append(seq)
        if row_hash(seq, time, actor, action, details, prev) != digest:
            changed.add(seq)
            problems.append(f"row {seq}: content changed (its hash no longer matches what it says)")
    for index in range(1, len(positions)):
        if positions[index] < positions[index - 1]:
            problems.append(
                f"rows out of order at {positions[index - 1]}: row {positions[index]} is stored after row "
                f"{positions[index - 1]}"
            )
            break
    return by_seq, positions, changed


def _link_problems(by_seq: dict[int, tuple], changed: set[int], genesis: str) -> list[str]:
    problems = []
    for seq in sorted(by_seq):
        prev = by_seq[seq][6]
        expected_prev = genesis if seq == 1 else (by_seq[seq - 1][7] if seq - 1 in by_seq else None)
        if expected_prev is None or seq in changed or seq - 1 in changed:
            continue  # already explained by a missing or changed neighbour
        if prev != expected_prev:
            problems.append(
                f"row {seq}: does not follow row {seq - 1} (previous-hash link broken: a row before it was replaced)"
                if seq > 1
                else "row 1: does not start this case's log (wrong genesis hash)"
            )
    return problems


def _end_problems(by_seq: dict[int, tuple], last_seen: int, anchor_count: int, anchor_head: str | None) -> list[str]:
    """How the end of the chain differs from the length and head the case recorded."""
    if last_seen < anchor_count:
        return [f"chain ends at row {last_seen} but the case records {anchor_count} rows: "
                f"rows {_span(last_seen + 1, anchor_count)} were cut off the end"]
    if last_seen > anchor_count:
        return [f"rows {_span(anchor_count + 1, last_seen)} lie beyond the recorded end of the log "
                f"(the case records {anchor_count} rows): rows were appended from outside the program"]
    if last_seen and last_seen in by_seq and by_seq[last_seen][7] != anchor_head:
        return [f"the last row's hash {by_seq[last_seen][7][:16]}… differs from the recorded head "
                f"{(anchor_head or '')[:16]}…: the log was rewritten"]
    return []


def verify_audit_chain(db: sqlite_utils.Database) -> list[str]:
    """Every way the stored log differs from an untouched one, one sentence each; [] if intact."""
    problems: list[str] = []
    rows = db.execute(
        "SELECT id, seq, time, actor, action, details, prev_hash, row_hash FROM audit ORDER BY id"
    ).fetchall()
    genesis = genesis_hash(_meta(db, "case_uid") or "")
    anchor_count_text = _meta(db, "audit_count")
    anchor_head = _meta(db, "audit_head")
    try:
        anchor_count = int(anchor_count_text) if anchor_count_text is not None else None
    except ValueError:
        anchor_count = None
        problems.append(f"the case's record of the log length is unreadable ({anchor_count_text!r})")
    by_seq, _, changed = _rows_by_seq(rows, problems)
    last_seen = max(by_seq) if by_seq else 0
    missing, count = _gaps(sorted(by_seq))
    if count:
        problems.append(f"row {missing} missing" if count == 1 else f"rows {missing} missing")
    problems += _link_problems(by_seq, changed, genesis)
    if anchor_count is not None:
        problems += _end_problems(by_seq, last_seen, anchor_count, anchor_head)
    elif rows:
        problems.append("the case has no record of the log length: the log's end cannot be checked")
    triggers = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()}
    schema_version = int(_meta(db, "schema_version") or 0)
    if schema_version >= 2:
        removed = [t for t in AUDIT_TRIGGERS if t not in triggers]
        if removed:
            problems.append(f"the audit log's write protection was removed ({', '.join(removed)})")
    return problems
