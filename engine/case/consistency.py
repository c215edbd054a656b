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
from typing import Any, Iterable, Sequence

from engine.case.schema import expected_columns
from engine.vocab import AnnotationKind, BookmarkStatus, ItemStatus, RunStatus, VerdictLabel

JSON_COLUMNS = {
    "evidence": ("metadata",), "runs": ("models", "settings"), "results": ("box", "probabilities"),
    "verdicts": ("rule_params", "details"), "overlays": ("meta",), "audit": ("details",),
}
# The shape each JSON column must have (records.SHAPES is what readers enforce); checked only
# where the text is valid JSON, since invalid JSON is already reported above.
JSON_SHAPES = {
    ("evidence", "metadata"): "json_type({c}) != 'object'",
    ("runs", "models"): "json_type({c}) != 'array' OR EXISTS (SELECT 1 FROM json_each({c}) "
                        "WHERE type != 'object' OR json_type(value, '$.name') IS NOT 'text')",
    ("runs", "settings"): "json_type({c}) != 'object'",
    ("results", "box"): "json_type({c}) != 'array' OR json_array_length({c}) != 4 OR EXISTS "
                        "(SELECT 1 FROM json_each({c}) WHERE type NOT IN ('integer', 'real'))",
    ("results", "probabilities"): "json_type({c}) != 'object' OR EXISTS (SELECT 1 FROM json_each({c}) "
                                  "WHERE type NOT IN ('integer', 'real'))",
    ("verdicts", "rule_params"): "json_type({c}) != 'object'",
    ("verdicts", "details"): "json_type({c}) != 'object'",
    ("overlays", "meta"): "json_type({c}) != 'object'",
    ("audit", "details"): "json_type({c}) != 'object'",
}
PATH_COLUMNS = {"evidence": ("path_given", "path_resolved")}
# Columns that hold one word of the engine's vocabulary; anything else was written from outside.
WORD_COLUMNS = {("runs", "status"): RunStatus, ("run_items", "status"): ItemStatus,
                ("verdicts", "label"): VerdictLabel, ("annotations", "kind"): AnnotationKind,
                ("annotations", "status"): BookmarkStatus}
# Word columns only some rows fill: a word where the condition holds, NULL everywhere else
# (a bookmark has a status; a note or a tag with one was written from outside).
WORD_ROWS = {("annotations", "status"): "kind = 'bookmark'"}
_ALLOWED = {int: ("integer", "null"), float: ("real", "integer", "null")}
_SHOWN = 5  # problems listed per kind before "and N more"


def bulk_records_digest(records: Iterable[tuple[str, str, int]]) -> str:
    """SHA-256 over (path, sha256, size) of evidence added in one bulk step, in id order."""
    text = json.dumps([list(record) for record in records], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def evidence_against_audit(evidence: Sequence[Any], entries: Iterable[Any]) -> tuple[list[str], set[int]]:
    """Evidence items (case `Evidence` records) that differ from, or are missing in, the audit
    log's "evidence added" entries: one sentence each, and the ids of those items."""
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
    suspect: set[int] = set()
    covered: set[int] = set()
    # A bulk entry logged before bulk digests existed names no ids: any item may be one of its.
    unlisted_bulk = any(not isinstance(d.get("first_id"), int) for d in bulk)
    by_id = {item.id: item for item in evidence}
    for details in bulk:
        first, last = details.get("first_id"), details.get("last_id")
        if not isinstance(first, int) or not isinstance(last, int):
            continue
        ids = list(range(first, last + 1))
        covered.update(ids)
        items = [by_id[i] for i in ids if i in by_id]
        if len(items) != len(ids) or bulk_records_digest(
                (item.path_given, item.sha256, item.size) for item in items) != details.get("records_sha256"):
            problems.append(f"evidence {first}–{last}: the rows differ from what the audit log recorded when they were added")
            suspect.update(ids)
    for item in evidence:
        logged = single.get(item.id)
        if logged is None:
            if item.id not in covered and not unlisted_bulk:
                problems.append(f"evidence {item.id}: no \"evidence added\" entry in the audit log")
                suspect.add(item.id)
            continue
        for field, key in (("sha256", "sha256"), ("size", "size"), ("path_given", "path")):
            value = getattr(item, field)
            if key in logged and logged[key] != value:
                problems.append(f"evidence {item.id}: {field} is {str(value)[:80]!r} but the audit log "
                                f"recorded {str(logged[key])[:80]!r} when it was added")
                suspect.add(item.id)
    return problems, suspect


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
            shape = JSON_SHAPES.get((table, column))
            if shape:
                quoted = f'"{column}"'
                checks.append((column, f'typeof({quoted}) = \'text\' AND json_valid({quoted}) AND '
                                       f'({shape.format(c=quoted)})'))
        for (word_table, column), words in WORD_COLUMNS.items():
            if word_table == table and column in columns:
                listed = ", ".join("'" + str(w).replace("'", "''") + "'" for w in words)
                not_a_word = f'"{column}" IS NULL OR "{column}" NOT IN ({listed})'
                filled_when = WORD_ROWS.get((table, column))
                checks.append((column, f'CASE WHEN {filled_when} THEN ({not_a_word}) ELSE "{column}" IS NOT NULL END'
                               if filled_when else not_a_word))
        for column in PATH_COLUMNS.get(table, ()):
            checks.append((column, f'instr(CAST("{column}" AS BLOB), x\'00\') > 0 OR typeof("{column}") != \'text\''))
        for column, condition in checks:
            rows = conn.execute(f'SELECT rowid FROM "{table}" WHERE {condition} LIMIT {_SHOWN + 1}').fetchall()
            if rows:
                ids = ", ".join(str(r[0]) for r in rows[:_SHOWN]) + (" …" if len(rows) > _SHOWN else "")
                problem = f"table {table}, column {column}: values of the wrong kind (rows {ids})"
                if problem not in problems:
                    problems.append(problem)
    return problems
