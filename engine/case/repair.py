"""`case repair`: a clean copy of a case that holds things this program did not write.

A case with a foreign trigger, view, table, index or column opens read-only (foreign.py).
Repair never runs or copies any of it: it creates a new file with this program's own schema
and copies, table by table, only the tables and columns that schema defines, with
`INSERT … SELECT` of those columns (no trigger of the source fires on a read). The audit log
is copied row for row, so its chain and head carry over unchanged, and one more entry,
"case repaired", names the source file and its SHA-256, every object left behind and the
rows copied. Whatever a foreign trigger may already have done to the stored values is not
undone: `verify` on the copy finds it through the seals, and says so.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from urllib.parse import quote

import sqlite_utils

from engine.case import audit
from engine.case.foreign import foreign_objects
from engine.case.lock import WriterLock
from engine.case.schema import SCHEMA_VERSION, expected_columns, migrate
from engine.case.store import CaseStore
from engine.errors import CaseError
from engine.util.hashing import sha256_file

# The meta keys the program writes; any other is foreign and left behind.
META_KEYS = ("format", "case_uid", "title", "number", "examiner", "organisation", "created_at", "updated_at",
             "app_version", "audit_count", "audit_head")
_COPY_ORDER = ("evidence", "runs", "run_items", "item_errors", "results", "overlays", "verdicts", "annotations",
               "track_exclusions", "kept_maps", "audit")


@dataclass(frozen=True)
class RepairResult:
    source: str
    out: str
    source_sha256: str
    dropped: tuple[str, ...]  # what was left behind, one sentence each
    copied: dict[str, int]  # table → rows copied
    from_schema: int


def _foreign_rows(conn: sqlite3.Connection, version: int) -> list[str]:
    """Rows in tables the schema does not have (their names come from the file: quoted)."""
    known = set(expected_columns(version)) | {"meta"}
    out = []
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"):
        if name not in known:
            quoted = '"' + str(name).replace('"', '""') + '"'
            count = conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0]
            out.append(f"{count} row(s) of foreign table {name}")
    return out


def _copy_tables(target: sqlite3.Connection, version: int) -> dict[str, int]:
    copied = {}
    columns = expected_columns(version)
    for table in [t for t in _COPY_ORDER if t in columns]:
        names = ", ".join(f'"{c}"' for c in columns[table])  # names from this program's schema only
        cursor = target.execute(f'INSERT INTO main."{table}" ({names}) SELECT {names} FROM source."{table}" ORDER BY rowid')
        copied[table] = cursor.rowcount
    placeholders = ", ".join("?" * len(META_KEYS))
    target.execute(f"INSERT OR REPLACE INTO main.meta (key, value) SELECT key, value FROM source.meta "
                   f"WHERE key IN ({placeholders})", META_KEYS)
    return copied


def repair_case(source: str | os.PathLike, out: str | os.PathLike, actor: str) -> RepairResult:
    """Write a clean copy of `source` to `out` (which must not exist); the source is only read."""
    source, out = os.fspath(source), os.fspath(out)
    if os.path.lexists(out):
        raise CaseError(f"cannot repair into {out}: it already exists")
    if os.path.realpath(out) == os.path.realpath(source):
        raise CaseError("the repaired copy needs a new file; it never replaces the case it comes from")
    with CaseStore.open(source, readonly=True) as store:
        version = store.info().schema_version
        dropped = list(store.foreign) + _foreign_rows(store._connection(), version)
        extra_meta = [k for (k,) in store._connection().execute("SELECT key FROM meta")
                      if k not in META_KEYS and k != "schema_version"]
    dropped += [f"meta key {str(k)[:60]!r}" for k in extra_meta]
    digest = sha256_file(source)
    lock = WriterLock.acquire(out)
    conn = None
    try:
        conn = sqlite3.connect(f"file:{quote(os.path.abspath(out))}", uri=True)  # URIs also for ATTACH below
        conn.execute("PRAGMA trusted_schema = OFF")
        conn.execute("PRAGMA journal_mode = WAL")
        db = sqlite_utils.Database(conn, execute_plugins=False, recursive_triggers=False)
        migrate(db, target=version)
        conn.execute("ATTACH DATABASE ? AS source", [f"file:{quote(os.path.abspath(source))}?mode=ro"])
        with db.atomic():
            copied = _copy_tables(conn, version)
        conn.execute("DETACH DATABASE source")
        migrate(db)
        with db.atomic():
            audit.append(db, actor, "case repaired", {
                "source": source, "source_sha256": digest, "from_schema": version, "schema_version": SCHEMA_VERSION,
                "dropped": dropped, "copied": copied})
        left = foreign_objects(conn, SCHEMA_VERSION)
        if left:  # cannot happen with this schema; a repaired case that is still foreign must not pass as clean
            raise CaseError(f"the repaired copy is still not clean: {'; '.join(left[:3])}")
        conn.close()
        conn = None
    except BaseException:
        if conn is not None:
            conn.close()
        for leftover in (out, out + "-wal", out + "-shm"):
            with contextlib.suppress(OSError):
                os.remove(leftover)
        raise
    finally:
        lock.release()
    return RepairResult(source, out, digest, tuple(dropped), copied, version)
