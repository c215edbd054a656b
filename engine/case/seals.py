"""Seals: digests of exactly what was stored, carried by the audit entry of the write.

The audit chain (audit.py) proves the order and content of the log; a seal extends that to
the rows a log entry speaks for. When an item is stored, its "item stored" entry carries the
SHA-256 of the item's result and overlay rows as they sit in the file; "verdicts stored"
carries the digest of an item's verdict rows; "run started" the digest of the run's own row.
`verify` recomputes each digest from the file and names every row set that differs, so a
score edited to another plausible number is caught, not only a value of the wrong kind.

A digest is the SHA-256 of the canonical JSON (audit.canonical_json) of the rows' columns in
a fixed order, rows in id order, values as SQLite returns them: stored text stays text (the
JSON of a box is hashed as the text it is), numbers are numbers. Recomputing it never
depends on parsing what was stored.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any, Iterable, Sequence

# audit.canonical_json for a row of plain values (no objects, so key order never arises), with
# one encoder kept: building one per row was most of what sealing 200,000 rows cost.
_ROW_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)

RESULT_COLUMNS = ("frame_index", "timestamp", "track_id", "box", "probabilities", "p_manipulated")
OVERLAY_COLUMNS = ("frame_index", "method", "sha256", "size", "meta")
VERDICT_COLUMNS = ("model", "score", "rule", "rule_params", "threshold", "label", "details", "created_at")
RUN_COLUMNS = ("models", "settings", "provider", "app_version", "started_by", "started_at")
ITEM_SEAL = "item stored"
VERDICT_SEAL = "verdicts stored"


class RowDigest:
    """A running digest over rows, fed one row at a time (verify streams 200,000 of them)."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256(b"[")
        self.count = 0

    def add(self, row: Sequence[Any]) -> None:
        self._hash.update((b"," if self.count else b"") + _ROW_ENCODER.encode(list(row)).encode("utf-8"))
        self.count += 1

    def hexdigest(self) -> str:
        final = self._hash.copy()
        final.update(b"]")
        return final.hexdigest()


def digest_rows(rows: Iterable[Sequence[Any]]) -> tuple[int, str]:
    digest = RowDigest()
    for row in rows:
        digest.add(row)
    return digest.count, digest.hexdigest()


def _columns(names: Sequence[str]) -> str:
    return ", ".join(names)


def item_seal(conn: sqlite3.Connection, run_id: int, evidence_id: int, model: str) -> dict[str, Any]:
    """The "item stored" details of one item (evidence × model) of a run, from what the file holds."""
    where = "WHERE run_id = ? AND evidence_id = ? AND model = ? ORDER BY id"
    params = [run_id, evidence_id, model]
    results, results_sha = digest_rows(conn.execute(f"SELECT {_columns(RESULT_COLUMNS)} FROM results {where}", params))
    overlays, overlays_sha = digest_rows(conn.execute(f"SELECT {_columns(OVERLAY_COLUMNS)} FROM overlays {where}",
                                                      params))
    return {"run_id": run_id, "evidence_id": evidence_id, "model": model, "results": results,
            "results_sha256": results_sha, "overlays": overlays, "overlays_sha256": overlays_sha}


def verdict_seal(conn: sqlite3.Connection, run_id: int, evidence_id: int) -> dict[str, Any]:
    """The "verdicts stored" details of one evidence item of a run."""
    rows = conn.execute(f"SELECT {_columns(VERDICT_COLUMNS)} FROM verdicts WHERE run_id = ? AND evidence_id = ? "
                        "ORDER BY id", [run_id, evidence_id]).fetchall()
    count, digest = digest_rows(rows)
    return {"run_id": run_id, "evidence_id": evidence_id, "verdicts": {row[0]: [row[1], row[5]] for row in rows},
            "count": count, "verdicts_sha256": digest}


def run_row_digest(conn: sqlite3.Connection, run_id: int) -> str | None:
    row = conn.execute(f"SELECT {_columns(RUN_COLUMNS)} FROM runs WHERE id = ?", [run_id]).fetchone()
    return None if row is None else digest_rows([row])[1]
