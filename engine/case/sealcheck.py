"""`verify`'s check of the stored records against the audit log: every seal recomputed
(seals.py), and every record the log describes replayed and compared.

What each table is held against:
- runs: the "run started" seal of the run's row, and the status its last entry logged;
- results and overlays: the "item stored" seal of each item (evidence × model), or for an
  unfinished item its latest "item checkpoint" (checkpoints.py);
- verdicts: the latest "verdicts stored" seal of each evidence item of a run;
- notes, tags and bookmarks: their "added", "changed" and "removed" entries, replayed;
- face-track exclusions: their "excluded" and "included again" entries, replayed;
- evidence metadata (description, provenance findings): its "evidence metadata recorded" digest;
- kept forensic maps: their "forensic map kept" seal (the row's digest, the PNG by SHA-256) and
  "forensic map removed" entries, replayed;
- meta's schema_version: the version the log last recorded (created or migrated).
Runs stored before seals existed (schema version < 5) are named in a note: their rows were
never sealed, so only the kind of their values can be checked.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any, Iterable, Mapping

from engine.case.audit import AuditEntry
from engine.case.checkpoints import CHECKPOINT, RESUMED, fold_checkpoint
from engine.case.findings import Findings
from engine.case.keptmaps import MAP_KEPT, MAP_REMOVED, map_row_digest
from engine.util.hashing import sha256_bytes
from engine.case.seals import (ITEM_SEAL, OVERLAY_COLUMNS, RESULT_COLUMNS, VERDICT_COLUMNS, VERDICT_SEAL, RowDigest,
                               run_row_digest)
from engine.vocab import AnnotationKind, BookmarkStatus, RunStatus

_ANNOTATION_FIELDS = ("evidence_id", "frame_index", "kind", "text", "status", "author")
_UNREADABLE = object()  # equal to no stored value
EMPTY_METADATA_SHA256 = sha256_bytes(b"{}")  # what add_evidence stores before the item is described


@dataclass
class LoggedState:
    """What the audit log says the records are, replayed in order."""

    started: dict[Any, dict] = field(default_factory=dict)
    status: dict[Any, Any] = field(default_factory=dict)
    items: dict[tuple, dict] = field(default_factory=dict)
    checkpoints: dict[tuple[Any, ...], Mapping[str, Any]] = field(default_factory=dict)  # unfinished items' latest checkpoint
    verdicts: dict[tuple, dict] = field(default_factory=dict)
    exclusions: dict[tuple, Any] = field(default_factory=dict)
    annotations: dict[Any, dict | None] = field(default_factory=dict)
    metadata: dict[Any, Any] = field(default_factory=dict)  # evidence id → SHA-256 of its metadata text
    kept_maps: dict[Any, dict | None] = field(default_factory=dict)  # map id → its seal; None once removed
    schema_version: Any = None

    @property
    def sealed_runs(self) -> set[Any]:
        return {run for run, details in self.started.items() if "run_sha256" in details}


def _replay_annotation(state: LoggedState, entry: AuditEntry) -> None:
    details, kind = entry.details, entry.action.split(" ", 1)[0]
    key = details.get("annotation_id")
    if entry.action.endswith(" added") and kind in set(AnnotationKind):
        status = details.get("status")
        if kind == AnnotationKind.BOOKMARK and status is None:
            status = BookmarkStatus.CHECK  # bookmarks added before statuses existed (migration 3)
        state.annotations[key] = {"evidence_id": details.get("evidence_id"), "frame_index": details.get("frame_index"),
                                  "kind": kind, "text": details.get("text"), "status": status, "author": entry.actor}
    elif entry.action == "bookmark changed" and isinstance(state.annotations.get(key), dict):
        after = details.get("after")
        logged = state.annotations[key]
        assert logged is not None
        # An entry whose "after" cannot be read leaves nothing the row could be held to.
        logged.update(after if isinstance(after, dict) else dict.fromkeys(_ANNOTATION_FIELDS, _UNREADABLE))
    elif entry.action.endswith(" removed") and kind in set(AnnotationKind):
        state.annotations[key] = None


def replay(entries: Iterable[AuditEntry]) -> LoggedState:
    state = LoggedState()
    for entry in entries:
        details, action = entry.details, entry.action
        run = details.get("run_id")
        if action == "run started":
            state.started[run] = details
            state.status[run] = RunStatus.RUNNING
        elif action == "run finished":
            state.status[run] = details.get("status")
        elif action == RESUMED:
            state.status[run] = RunStatus.RUNNING
            fold_checkpoint(state.checkpoints, action, details)
        elif action == CHECKPOINT:
            fold_checkpoint(state.checkpoints, action, details)
        elif action == "run interrupted":
            state.status[run] = RunStatus.INTERRUPTED
        elif action == ITEM_SEAL:
            state.items[(run, details.get("evidence_id"), details.get("model"))] = details
            state.checkpoints.pop((run, details.get("evidence_id"), details.get("model")), None)
        elif action == VERDICT_SEAL:
            state.verdicts[(run, details.get("evidence_id"))] = details
        elif action == "track excluded":
            state.exclusions[(run, details.get("evidence_id"), details.get("track_id"))] = details.get("reason")
        elif action == "track included again":
            state.exclusions.pop((run, details.get("evidence_id"), details.get("track_id")), None)
        elif action == "evidence added" and isinstance(details.get("evidence_id"), int):
            state.metadata[details["evidence_id"]] = EMPTY_METADATA_SHA256  # one item is added without any
        elif action == "evidence metadata recorded":
            # Entries from before metadata digests existed leave nothing to compare with (None).
            state.metadata[details.get("evidence_id")] = details.get("metadata_sha256")
        elif action == MAP_KEPT:
            state.kept_maps[details.get("map_id")] = details
        elif action == MAP_REMOVED:
            state.kept_maps[details.get("map_id")] = None
        elif action == "case created":
            state.schema_version = details.get("schema_version")
        elif action == "case migrated":
            state.schema_version = details.get("to_schema")
        elif action == "case repaired":
            state.schema_version = details.get("schema_version")
        else:
            _replay_annotation(state, entry)
    return state


def _check_runs(conn: sqlite3.Connection, state: LoggedState, found: Findings) -> None:
    legacy = []
    for run_id, status in conn.execute("SELECT id, status FROM runs ORDER BY id").fetchall():
        started = state.started.get(run_id)
        if started is None:
            found.add("runs without an entry", f"run {run_id}: no \"run started\" entry in the audit log")
            continue
        if "run_sha256" not in started:
            legacy.append(run_id)
        elif run_row_digest(conn, run_id) != started["run_sha256"]:
            found.add("run records altered", f"run {run_id}: its record (models, settings, provider, start) differs "
                                             "from what the audit log sealed when it started")
        if status != state.status.get(run_id):
            found.add("run statuses altered", f"run {run_id}: status is {str(status)[:40]!r} but the audit log last "
                                              f"recorded {state.status.get(run_id)!r}")
    if legacy:
        found.note(f"run(s) {', '.join(map(str, legacy[:20]))}{' …' if len(legacy) > 20 else ''} predate sealed "
                   "records (schema version < 5): their results and verdicts are checked for kind and "
                   "consistency, but no digest proves them")


def _stream_digests(conn: sqlite3.Connection, sql: str, key_width: int) -> Iterable[tuple[tuple, RowDigest]]:
    cursor = conn.execute(sql)
    for key, rows in groupby(cursor, key=lambda row: row[:key_width]):
        digest = RowDigest()
        for row in rows:
            digest.add(row[key_width:])
        yield key, digest


def _check_items(conn: sqlite3.Connection, state: LoggedState, found: Findings) -> None:
    sealed = state.sealed_runs
    item_status = {(r, e, m): s for r, e, m, s in conn.execute("SELECT run_id, evidence_id, model, status FROM run_items")}
    unsealed_pending = 0
    for table, columns, count_key, digest_key in (("results", RESULT_COLUMNS, "results", "results_sha256"),
                                                  ("overlays", OVERLAY_COLUMNS, "overlays", "overlays_sha256")):
        seen: set[tuple] = set()
        sql = (f"SELECT run_id, evidence_id, model, {', '.join(columns)} FROM {table} "
               "ORDER BY run_id, evidence_id, model, id")
        for key, digest in _stream_digests(conn, sql, 3):
            if key[0] not in sealed:
                continue
            seen.add(key)
            run_id, evidence_id, model = key
            seal: Mapping[str, Any] | None = state.items.get(key)
            if seal is None and item_status.get(key) == "pending":
                seal = state.checkpoints.get(key)  # frames stored before the item was finished
            if seal is None:
                if item_status.get(key) == "pending":
                    unsealed_pending += digest.count
                else:
                    found.add(f"{table} outside any seal", f"run {run_id}, evidence {evidence_id}, model "
                              f"{str(model)[:60]!r}: {digest.count} {table} row(s) no audit entry sealed")
            elif seal.get(count_key) != digest.count or seal.get(digest_key) != digest.hexdigest():
                when = "stored" if key in state.items else "last checkpointed"
                found.add(f"{table} altered", f"run {run_id}, evidence {evidence_id}, model {str(model)[:60]!r}: the "
                          f"{table} differ from what was sealed when the item was {when} ({digest.count} row(s) "
                          f"now, {seal.get(count_key)} sealed)")
        held: dict[tuple[Any, ...], Mapping[str, Any]] = {
            **{k: v for k, v in state.checkpoints.items() if item_status.get(k) == "pending"}, **state.items}
        for key, seal in held.items():
            if key[0] in sealed and key not in seen and seal.get(count_key):
                found.add(f"{table} removed", f"run {key[0]}, evidence {key[1]}, model {str(key[2])[:60]!r}: the "
                          f"{seal.get(count_key)} sealed {table} row(s) are gone")
    for key, status in item_status.items():
        if key[0] in sealed and (status == "done") != (key in state.items):
            found.add("item statuses altered", f"run {key[0]}, evidence {key[1]}, model {str(key[2])[:60]!r}: marked "
                      f"{str(status)[:20]} but the audit log {'never sealed it' if status == 'done' else 'sealed it as done'}")
    if unsealed_pending:
        found.note(f"{unsealed_pending} result(s) of unfinished items are not sealed yet; a resume redoes those items")


def _check_verdicts(conn: sqlite3.Connection, state: LoggedState, found: Findings) -> None:
    sealed = state.sealed_runs
    seen: set[tuple] = set()
    sql = f"SELECT run_id, evidence_id, {', '.join(VERDICT_COLUMNS)} FROM verdicts ORDER BY run_id, evidence_id, id"
    for key, digest in _stream_digests(conn, sql, 2):
        if key[0] not in sealed:
            continue
        seen.add(key)
        seal = state.verdicts.get(key)
        if seal is None:
            found.add("verdicts outside any seal", f"run {key[0]}, evidence {key[1]}: verdicts no audit entry sealed")
        elif seal.get("count") != digest.count or seal.get("verdicts_sha256") != digest.hexdigest():
            found.add("verdicts altered", f"run {key[0]}, evidence {key[1]}: the verdicts differ from what the audit "
                      "log sealed when they were stored")
    for key, seal in state.verdicts.items():
        if key[0] in sealed and key not in seen and seal.get("count"):
            found.add("verdicts removed", f"run {key[0]}, evidence {key[1]}: the sealed verdicts are gone")


def _check_annotations(conn: sqlite3.Connection, state: LoggedState, found: Findings) -> None:
    rows = conn.execute(f"SELECT id, {', '.join(_ANNOTATION_FIELDS)} FROM annotations ORDER BY id")
    present = set()
    for annotation_id, *values in rows:
        present.add(annotation_id)
        logged = state.annotations.get(annotation_id)
        if logged is None:
            why = "was removed according to the audit log" if annotation_id in state.annotations else \
                "has no \"added\" entry in the audit log"
            found.add("annotations outside the log", f"note/tag/bookmark {annotation_id} {why}")
            continue
        differing = [name for name, value in zip(_ANNOTATION_FIELDS, values) if logged.get(name) != value]
        if differing:
            found.add("annotations altered", f"note/tag/bookmark {annotation_id}: {', '.join(differing)} differ(s) "
                      "from what the audit log recorded")
    for annotation_id, logged in state.annotations.items():
        if logged is not None and annotation_id not in present:
            found.add("annotations removed", f"note/tag/bookmark {annotation_id} is gone, but the audit log never "
                      "recorded its removal")


def _check_exclusions(conn: sqlite3.Connection, state: LoggedState, found: Findings) -> None:
    stored = {(r, e, t): reason for r, e, t, reason in
              conn.execute("SELECT run_id, evidence_id, track_id, reason FROM track_exclusions")}
    for key in sorted(set(stored) | set(state.exclusions), key=str):
        if key not in state.exclusions:
            found.add("exclusions outside the log", f"run {key[0]}, evidence {key[1]}: face track {key[2]} is "
                      "excluded, but the audit log does not say so")
        elif key not in stored:
            found.add("exclusions removed", f"run {key[0]}, evidence {key[1]}: face track {key[2]} was excluded "
                      "according to the audit log, but is no longer")
        elif stored[key] != state.exclusions[key]:
            found.add("exclusions altered", f"run {key[0]}, evidence {key[1]}: the reason for excluding face track "
                      f"{key[2]} differs from the audit log")


def sha256_text(text: str) -> str:
    return sha256_bytes(text.encode("utf-8"))


def _check_metadata(conn: sqlite3.Connection, state: LoggedState, found: Findings) -> None:
    # Metadata recorded before its entries carried a digest (older cases) is checked for kind only.
    for evidence_id, text in conn.execute("SELECT id, metadata FROM evidence ORDER BY id"):
        sealed = state.metadata.get(evidence_id)
        if sealed is None or (text is None and sealed == EMPTY_METADATA_SHA256):  # NULL: no metadata either
            continue
        if not isinstance(text, str) or sha256_text(text) != sealed:
            found.add("evidence metadata altered", f"evidence {evidence_id}: its metadata (description, provenance "
                      "findings) differs from what the audit log sealed when it was recorded")


def _check_kept_maps(conn: sqlite3.Connection, state: LoggedState, found: Findings) -> None:
    present = set()
    for map_id, recorded in conn.execute("SELECT id, sha256 FROM kept_maps ORDER BY id").fetchall():
        present.add(map_id)
        seal = state.kept_maps.get(map_id)
        if seal is None:
            found.add("kept maps outside the log", f"kept map {map_id}: no \"forensic map kept\" entry seals it")
        elif seal.get("row_sha256") != map_row_digest(conn, map_id) or seal.get("sha256") != recorded:
            found.add("kept maps altered", f"kept map {map_id}: its record differs from what the audit log sealed "
                      "when it was kept")
        else:
            (data,) = conn.execute("SELECT data FROM kept_maps WHERE id = ?", [map_id]).fetchone()
            if not isinstance(data, bytes) or sha256_bytes(data) != recorded:
                found.add("kept maps altered", f"kept map {map_id}: its image is not the one the audit log sealed")
    for map_id, seal in state.kept_maps.items():
        if seal is not None and map_id not in present:
            found.add("kept maps removed", f"kept map {map_id} is gone, but the audit log never recorded its removal")


def seal_problems(conn: sqlite3.Connection, entries: Iterable[AuditEntry], schema_version: int) -> Findings:
    """Every stored record that differs from what the audit log says it is."""
    state = replay(entries)
    found = Findings()
    if state.schema_version is not None and state.schema_version != schema_version:
        found.add("schema version altered", f"the case says schema version {schema_version}, but the audit log last "
                  f"recorded version {state.schema_version}")
    _check_runs(conn, state, found)
    _check_items(conn, state, found)
    _check_verdicts(conn, state, found)
    _check_annotations(conn, state, found)
    _check_exclusions(conn, state, found)
    _check_metadata(conn, state, found)
    if "kept_maps" in {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}:
        _check_kept_maps(conn, state, found)  # from schema version 6
    return found
