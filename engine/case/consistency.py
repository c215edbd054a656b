"""What `verify` checks inside the case besides files and the hash chain.

Two things the audit chain alone cannot see:
- Each evidence row against the audit log's own "evidence added" entry: the row's SHA-256,
  size and path must be the ones logged when it was added, so replacing a file and its
  recorded hash together (without touching the log) is caught.
- Stored values of the right kind: numbers where numbers belong, JSON that parses where JSON
  is kept, no NUL characters in paths. SQLite accepts any value in any column, so an edited
  file could otherwise hold values every reader trips over.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable

from engine.case.schema import expected_columns

JSON_COLUMNS = {
    "evidence": ("metadata",), "runs": ("models", "settings"), "results": ("box", "probabilities"),
    "verdicts": ("rule_params", "details"), "overlays": ("meta",), "audit": ("details",),
}
PATH_COLUMNS = {"evidence": ("path_given", "path_resolved")}
_ALLOWED = {int: ("integer", "null"), float: ("real", "integer", "null")}
_SHOWN = 5  # problems listed per kind before "and N more"


def bulk_records_digest(records: Iterable[tuple[str, str, int]]) -> str:
    """SHA-256 over (path, sha256, size) of evidence added in one bulk step, in id order."""
    text = json.dumps([list(record) for record in records], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def evidence_against_audit(evidence_rows: list[dict[str, Any]], entries: Iterable[Any]) -> list[str]:
    """Evidence rows that differ from, or are missing in, the audit log's "evidence added" entries."""
    single: dict[int, dict[str, Any]] = {}
    bulk: list[dict[str, Any]] = []
    for entry in entries:
        if entry.action != "evidence added" or not isinstance(entry.details, dict):
            continue
        if entry.details.get("bulk"):
            bulk.append(entry.details)
        elif isinstance(entry.details.get("evidence_id"), int):
            single[entry.details["evidence_id"]] = entry.details
    problems: list[str] = []
    covered: set[int] = set()
    by_id = {row["id"]: row for row in evidence_rows}
    for details in bulk:
        first, last = details.get("first_id"), details.get("last_id")
        if not isinstance(first, int) or not isinstance(last, int):
            continue  # logged before bulk digests existed: its items can only be checked by count
        ids = list(range(first, last + 1))
        covered.update(ids)
        rows = [by_id.get(i) for i in ids]
        if any(row is None for row in rows) or bulk_records_digest(
                (row["path_given"], row["sha256"], row["size"]) for row in rows) != details.get("records_sha256"):
            problems.append(f"evidence {first}–{last}: the rows differ from what the audit log recorded when they were added")
    for row in evidence_rows:
        logged = single.get(row["id"])
        if logged is None:
            if row["id"] not in covered and not any(not isinstance(d.get("first_id"), int) for d in bulk):
                problems.append(f"evidence {row['id']}: no \"evidence added\" entry in the audit log")
            continue
        for field, key in (("sha256", "sha256"), ("size", "size"), ("path_given", "path")):
            if key in logged and logged[key] != row[field]:
                problems.append(f"evidence {row['id']}: {field} is {str(row[field])[:80]!r} but the audit log "
                                f"recorded {str(logged[key])[:80]!r} when it was added")
    return problems


def stored_value_problems(conn: Any, version: int) -> list[str]:
    """Columns holding values of the wrong kind, per table and column (first ids shown)."""
    problems: list[str] = []
    for table, columns in expected_columns(version).items():
        checks: list[tuple[str, str]] = []
        for column, kind in columns.items():
            allowed = _ALLOWED.get(kind)
            if allowed:
                listed = ", ".join(f"'{t}'" for t in allowed)
                checks.append((column, f'typeof("{column}") NOT IN ({listed})'))
        for column in JSON_COLUMNS.get(table, ()):
            checks.append((column, f'"{column}" IS NOT NULL AND (typeof("{column}") != \'text\' OR NOT json_valid("{column}"))'))
        for column in PATH_COLUMNS.get(table, ()):
            checks.append((column, f'instr(CAST("{column}" AS BLOB), x\'00\') > 0 OR typeof("{column}") != \'text\''))
        key = "rowid"
        for column, condition in checks:
            rows = conn.execute(f'SELECT {key} FROM "{table}" WHERE {condition} LIMIT {_SHOWN + 1}').fetchall()
            if rows:
                ids = ", ".join(str(r[0]) for r in rows[:_SHOWN]) + (" …" if len(rows) > _SHOWN else "")
                problems.append(f"table {table}, column {column}: values of the wrong kind (rows {ids})")
    return problems
