"""The case file schema as an ordered list of migrations, applied with sqlite-utils.

`schema_version` in the `meta` table says how many migrations a case has had. Migration N
turns a version N-1 case into a version N case inside one transaction, so a case is always
at a whole version. Migrations are only ever appended: a released migration never changes,
because cases made with it are already in examiners' hands.
"""

from __future__ import annotations

from typing import Callable

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]


def _v1_core(db: sqlite_utils.Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["evidence"].create(
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
    db["evidence"].create_index(["sha256"], unique=True)
    db["runs"].create(
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
    db["run_items"].create(
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
    db["item_errors"].create(
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
    db["results"].create(
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
    db["results"].create_index(["run_id", "evidence_id", "model", "frame_index"])
    db["overlays"].create(
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
    db["overlays"].create_index(["run_id", "evidence_id", "model", "frame_index"])
    db["verdicts"].create(
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
    db["verdicts"].create_index(["run_id", "evidence_id", "model"], unique=True)
    # `id` keeps physical insertion order apart from the `seq` written inside each row,
    # so a reordering shows up as a seq out of place rather than vanishing.
    db["audit"].create(
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
    db["annotations"].create(
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
    db["annotations"].create_index(["evidence_id", "frame_index"])
    # Listing evidence with its latest verdicts and item status must stay fast at 10k items.
    db["verdicts"].create_index(["evidence_id", "run_id"])
    db["run_items"].create_index(["evidence_id", "run_id"])
    db["item_errors"].create_index(["run_id", "evidence_id"])
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


MIGRATIONS: tuple[Migration, ...] = (_v1_core, _v2_annotations_and_listing)
SCHEMA_VERSION = len(MIGRATIONS)
AUDIT_TRIGGERS = ("audit_no_update", "audit_no_delete")


def read_version(db: sqlite_utils.Database) -> int:
    """The case's schema version; 0 for a database without a meta table."""
    if "meta" not in db.table_names():
        return 0
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


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
        reached.append(version)
    return reached
