"""The case file schema as an ordered list of migrations, applied with sqlite-utils.

`schema_version` in the `meta` table says how many migrations a case has had. Migration N
turns a version N-1 case into a version N case inside one transaction, so a case is always
at a whole version. Migrations are only ever appended: a released migration never changes,
because cases made with it are already in examiners' hands.
"""

from __future__ import annotations

import functools
from typing import Callable

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]


def _v1_core(db: sqlite_utils.Database) -> None:
    # One long declarative list on purpose: a released migration is never edited or split.
    db.table("meta").create({"key": str, "value": str}, pk="key")
    db.table("evidence").create(
        {
            "id": int,
            "path_given": str,
            "path_resolved": str,
            "size": int,
            "mtime": str,
            "mtime_ns": int,
            "sha256": str,
            "media_kind": str,
            "media_format": str,
            "media_description": str,
            "metadata": str,
            "added_by": str,
            "added_at": str,
        },
        pk="id",
        not_null={"path_given", "path_resolved", "size", "sha256", "added_by", "added_at"},
    )
    db.table("evidence").create_index(["sha256"], unique=True)
    db.table("runs").create(
        {
            "id": int,
            "models": str,
            "settings": str,
            "provider": str,
            "app_version": str,
            "started_by": str,
            "started_at": str,
            "finished_at": str,
            "status": str,
        },
        pk="id",
        not_null={"models", "settings", "started_at", "status"},
    )
    db.table("run_items").create(
        {
            "run_id": int,
            "evidence_id": int,
            "model": str,
            "status": str,
            "frames": int,
            "finished_at": str,
        },
        pk=("run_id", "evidence_id", "model"),
        foreign_keys=[("run_id", "runs", "id"), ("evidence_id", "evidence", "id")],
        not_null={"status"},
    )
    db.table("item_errors").create(
        {
            "id": int,
            "run_id": int,
            "evidence_id": int,
            "model": str,
            "stage": str,
            "message": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id"), ("evidence_id", "evidence", "id")],
    )
    db.table("results").create(
        {
            "id": int,
            "run_id": int,
            "evidence_id": int,
            "model": str,
            "frame_index": int,
            "timestamp": float,
            "track_id": int,
            "box": str,
            "probabilities": str,
            "p_manipulated": float,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id"), ("evidence_id", "evidence", "id")],
        not_null={"run_id", "evidence_id", "model"},
    )
    db.table("results").create_index(["run_id", "evidence_id", "model", "frame_index"])
    db.table("overlays").create(
        {
            "id": int,
            "run_id": int,
            "evidence_id": int,
            "model": str,
            "frame_index": int,
            "method": str,
            "sha256": str,
            "size": int,
            "data": bytes,
            "meta": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id"), ("evidence_id", "evidence", "id")],
        not_null={"sha256", "data"},
    )
    db.table("overlays").create_index(["run_id", "evidence_id", "model", "frame_index"])
    db.table("verdicts").create(
        {
            "id": int,
            "run_id": int,
            "evidence_id": int,
            "model": str,
            "score": float,
            "rule": str,
            "rule_params": str,
            "threshold": float,
            "label": str,
            "details": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id"), ("evidence_id", "evidence", "id")],
        not_null={"run_id", "evidence_id", "model", "label"},
    )
    db.table("verdicts").create_index(["run_id", "evidence_id", "model"], unique=True)
    # `id` keeps physical insertion order apart from the `seq` written inside each row,
    # so a reordering shows up as a seq out of place rather than vanishing.
    db.table("audit").create(
        {
            "id": int,
            "seq": int,
            "time": str,
            "actor": str,
            "action": str,
            "details": str,
            "prev_hash": str,
            "row_hash": str,
        },
        pk="id",
        not_null={"seq", "time", "actor", "action", "details", "prev_hash", "row_hash"},
    )


def _v2_annotations_and_listing(db: sqlite_utils.Database) -> None:
    db.table("annotations").create(
        {
            "id": int,
            "evidence_id": int,
            "frame_index": int,
            "kind": str,
            "text": str,
            "author": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("evidence_id", "evidence", "id")],
        not_null={"evidence_id", "kind", "author", "created_at"},
    )
    db.table("annotations").create_index(["evidence_id", "frame_index"])
    # Listing evidence with its latest verdicts and item status must stay fast at 10k items.
    db.table("verdicts").create_index(["evidence_id", "run_id"])
    db.table("run_items").create_index(["evidence_id", "run_id"])
    db.table("item_errors").create_index(["run_id", "evidence_id"])
    # The program never updates or deletes audit rows; these make an accidental write
    # fail loudly. They are no defence against someone editing the file (see audit.py).
    db.execute(
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    )


def _v3_bookmark_status(db: sqlite_utils.Database) -> None:
    # A bookmark's triage (ok / check / warning); NULL for notes and tags, which have none.
    db.table("annotations").add_column("status", str)
    # Bookmarks made before statuses existed were never triaged by anyone: "to check" says so,
    # where "ok" would put a judgement in the examiner's name that they never made.
    db.execute("UPDATE annotations SET status = 'check' WHERE kind = 'bookmark'")


def _v4_track_exclusions(db: sqlite_utils.Database) -> None:
    # A face track the examiner judged "not a face" (a sleeve, a poster): kept out of that
    # item's verdicts in that run. Its frame results stay in the case, untouched.
    db.table("track_exclusions").create(
        {"id": int, "run_id": int, "evidence_id": int, "track_id": int, "reason": str, "author": str,
         "created_at": str},
        pk="id",
        foreign_keys=[("run_id", "runs", "id"), ("evidence_id", "evidence", "id")],
        not_null={"run_id", "evidence_id", "track_id", "author", "created_at"},
    )
    db.table("track_exclusions").create_index(["run_id", "evidence_id", "track_id"], unique=True)


def _v5_sealed_records(db: sqlite_utils.Database) -> None:
    # No table changes: from version 5 on, every stored item, verdict set and run row is sealed
    # by a digest in its audit entry (seals.py), and `verify` requires those seals. Runs stored
    # before the upgrade keep their older, unsealed entries; verify names them as such.
    del db


def _v6_kept_maps(db: sqlite_utils.Database) -> None:
    # A forensic map (error level, noise, spectrum) the examiner kept for the record: the PNG they
    # looked at, with what made it (kind, parameters, tool version) and what it can show, sealed
    # by its "forensic map kept" audit entry (keptmaps.py). Evidence is never written; this is.
    db.table("kept_maps").create(
        {"id": int, "evidence_id": int, "frame_index": int, "kind": str, "params": str, "figures": str,
         "legend": str, "statement": str, "tool_version": str, "evidence_sha256": str, "sha256": str, "size": int,
         "width": int, "height": int, "data": bytes, "note": str, "author": str, "created_at": str},
        pk="id",
        foreign_keys=[("evidence_id", "evidence", "id")],
        not_null={"evidence_id", "frame_index", "kind", "params", "sha256", "size", "data", "author", "created_at"},
    )
    db.table("kept_maps").create_index(["evidence_id", "frame_index"])


MIGRATIONS: tuple[Migration, ...] = (_v1_core, _v2_annotations_and_listing, _v3_bookmark_status,
                                     _v4_track_exclusions, _v5_sealed_records, _v6_kept_maps)
SCHEMA_VERSION = len(MIGRATIONS)
SEALED_FROM_VERSION = 5
AUDIT_TRIGGERS = ("audit_no_update", "audit_no_delete")
# The SQLite header's application id ("DFWC"): `file` and other tools can tell a case from any
# other SQLite database, and a case file whose header says otherwise was not written by this program.
APPLICATION_ID = 0x44465743
# Versions written before the header fields were set: their application id and user version are 0.
UNSTAMPED_BEFORE = 5


def read_version(db: sqlite_utils.Database) -> int:
    """The case's schema version; 0 for a database without a meta table.

    Raises ValueError when the stored version is not a whole number (a damaged case).
    """
    if "meta" not in db.table_names():
        return 0
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if not row:
        return 0
    text = str(row[0])
    if not text.isdigit():
        raise ValueError(f"schema_version is {text[:40]!r}, not a whole number")
    return int(text)


@functools.lru_cache(maxsize=None)
def expected_columns(version: int) -> dict[str, dict[str, type]]:
    """Table → {column: Python type} of a case at `version`, found by running the migrations in memory."""
    db = sqlite_utils.Database(memory=True)
    for migration in MIGRATIONS[:version]:
        migration(db)
    return {name: dict(db[name].columns_dict) for name in db.table_names()}


def expected_layout(version: int) -> dict[str, frozenset[str]]:
    """Table → column names a case at `version` has."""
    return {name: frozenset(columns) for name, columns in expected_columns(version).items()}


def layout_problems(db: sqlite_utils.Database, version: int) -> list[str]:
    """Tables and columns of `version` the file lacks (empty when none): without them it cannot
    be read at all. What the file has beyond them is foreign.py's concern."""
    expected = expected_layout(version)
    actual = {name: frozenset(db[name].columns_dict) for name in db.table_names()
              if not name.startswith("sqlite_")}
    problems = [f"table {name} is missing" for name in sorted(set(expected) - set(actual))]
    for name in sorted(set(expected) & set(actual)):
        missing = sorted(expected[name] - actual[name])
        if missing:
            problems.append(f"table {name} lacks column(s) {', '.join(missing)}")
    return problems


def migrate(db: sqlite_utils.Database, target: int = SCHEMA_VERSION) -> list[int]:
    """Apply migrations from the case's version up to `target`, one transaction each.

    Returns the versions reached. Callers take the backup copy first; this only migrates.
    """
    reached = []
    current = read_version(db)
    for version in range(current + 1, target + 1):
        with db.atomic():
            MIGRATIONS[version - 1](db)
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                [str(version)],
            )
            # Header fields, in the same transaction (they are pages of the file like any other).
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {int(version)}")
        reached.append(version)
    return reached
