"""What in a case file this program did not write: foreign triggers, views, tables, indexes
and columns, and header fields that name another program.

SQLite runs a trigger stored in the file on every write that matches it, and the file's
schema decides what a name means (a view can stand where a table was). A case handed over by
someone else may hold either, planted with `sqlite3` and a text editor: a trigger that
rewrites every score the examiner's next analysis stores, or one that relabels every verdict
when `verify` appends its own audit row. So the schema is compared, object by object, with
what this program's migrations create at the case's version; anything else makes the case
"not as this program wrote it": it opens read-only, `verify` names each object, and the only
way to write again is `case repair`, which copies the known tables and rows into a new file.
"""

from __future__ import annotations

import functools
import re
import sqlite3

import sqlite_utils

from engine.case.schema import APPLICATION_ID, MIGRATIONS, UNSTAMPED_BEFORE

# SQLite's own bookkeeping, named by SQLite and never by a schema: an automatic index of a
# primary key or unique column belongs to its table and is compared through the table's SQL.
_AUTOINDEX = "sqlite_autoindex_"


def _normal_sql(sql: str | None) -> str:
    """SQL text compared without the quoting style and white space that do not change its meaning."""
    if sql is None:
        return ""
    return re.sub(r"\s+", " ", re.sub(r'[\[\]"`]', "", sql)).strip().lower()


@functools.lru_cache(maxsize=None)
def expected_objects(version: int) -> dict[tuple[str, str], str]:
    """(type, name) → normalised SQL of every schema object a case at `version` holds."""
    db = sqlite_utils.Database(memory=True)
    for migration in MIGRATIONS[:version]:
        migration(db)
    rows = db.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
    return {(kind, name): _normal_sql(sql) for kind, name, sql in rows if not name.startswith(_AUTOINDEX)}


def _stored_objects(conn: sqlite3.Connection) -> list[tuple[str, str, str, str | None]]:
    return conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()


def _header_problems(conn: sqlite3.Connection, version: int) -> list[str]:
    application_id = conn.execute("PRAGMA application_id").fetchone()[0]
    user_version = conn.execute("PRAGMA user_version").fetchone()[0]
    problems = []
    unstamped_ok = version < UNSTAMPED_BEFORE
    if application_id != APPLICATION_ID and not (unstamped_ok and application_id == 0):
        problems.append(f"the file header's application id is {application_id:#x}, not this program's "
                        f"{APPLICATION_ID:#x}")
    if user_version != version and not (unstamped_ok and user_version == 0):
        problems.append(f"the file header's user version is {user_version}, but the case says schema version {version}")
    return problems


def foreign_objects(conn: sqlite3.Connection, version: int) -> list[str]:
    """One sentence per object or header field that differs from what `version` creates; [] if none.

    Reads only `sqlite_master` and two header pragmas: nothing foreign is executed.
    """
    expected = expected_objects(version)
    problems = _header_problems(conn, version)
    seen: set[tuple[str, str]] = set()
    for kind, name, table, sql in _stored_objects(conn):
        if name.startswith(_AUTOINDEX):
            continue
        key = (kind, name)
        seen.add(key)
        if key not in expected:
            where = f" on table {table}" if kind in ("trigger", "index") and table else ""
            problems.append(f"{kind} {name}{where} is not part of this program's schema (version {version})")
        elif _normal_sql(sql) != expected[key]:
            problems.append(f"{kind} {name} differs from this program's definition of it"
                            + (" (an added or changed column or constraint)" if kind == "table" else ""))
    for kind, name in sorted(set(expected) - seen):
        problems.append(f"{kind} {name} of this program's schema is missing")
    return problems


def missing_tables(conn: sqlite3.Connection, version: int) -> list[str]:
    """Tables the schema has and the file lacks: without them the case cannot even be read."""
    present = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}
    return sorted(name for kind, name in expected_objects(version) if kind == "table" and name not in present)
