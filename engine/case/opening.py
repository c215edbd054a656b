"""Opening a case file safely: everything checked before the program writes to it.

Before anything writes, a file is checked read-only: the SQLite header, `PRAGMA
integrity_check`, that it is a case (meta's format), that its schema is not newer than this
program, that its tables hold the columns its version needs, what in its schema this program
did not write (foreign.py), and that a -wal file beside it belongs to it. Every connection
distrusts the file's schema (`trusted_schema = OFF`, no extension loading).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from typing import Any
from urllib.parse import quote

import sqlite_utils

from engine.case.foreign import foreign_objects
from engine.case.schema import SCHEMA_VERSION, layout_problems, read_version
from engine.errors import CaseError, CaseForeign
from engine.media.sniff import sniff
from engine.version import __version__

SQLITE_MAGIC = b"SQLite format 3\x00"
CASE_FORMAT = "dfwcase"


def check_case_file(path: str) -> None:
    """Refuse a path that cannot be a case without letting SQLite near it."""
    if not os.path.exists(path):
        raise CaseError(f"case file not found: {path}")
    if not os.path.isfile(path):
        raise CaseError(f"not a case file: {path} is not a regular file")
    if os.path.getsize(path) == 0:
        raise CaseError(f"not a case file: {path} is empty")
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise CaseError(f"cannot read case file {path}: {exc.strerror}") from None
    if head != SQLITE_MAGIC:
        raise CaseError(f"not a case file: {path} is {sniff(path).description}")


def _distrust_schema(conn: sqlite3.Connection) -> sqlite3.Connection:
    # Functions with side effects may not run from a view or trigger stored in the file, and
    # no extension may load: the file's schema is input, not code (foreign.py checks the rest).
    conn.execute("PRAGMA trusted_schema = OFF")
    if hasattr(conn, "enable_load_extension"):  # absent where Python was built without extension loading
        conn.enable_load_extension(False)
    return conn


def connect(target: str, **kwargs: Any) -> sqlite3.Connection:
    return _distrust_schema(sqlite3.connect(target, check_same_thread=False, **kwargs))


def connect_readonly(path: str) -> sqlite3.Connection:
    side_files = [path + suffix for suffix in ("-wal", "-shm")]
    before = {side: os.path.exists(side) for side in side_files}
    try:
        return _connect_readonly(path)
    except sqlite3.DatabaseError as exc:
        if not isinstance(exc, sqlite3.OperationalError):
            # Not a database after all (a damaged header that happens to say WAL makes SQLite
            # create -wal and -shm before it finds out): take back what this open made.
            for side in side_files:
                if not before[side]:
                    with contextlib.suppress(OSError):
                        os.remove(side)
        raise


def _connect_readonly(path: str) -> sqlite3.Connection:
    uri = f"file:{quote(os.path.abspath(path))}?mode=ro"
    try:
        return _opened(uri)
    except sqlite3.OperationalError:
        # A WAL case in a folder we cannot write to cannot get its -shm file. Without a
        # -wal file there is nothing uncommitted to miss, so reading it as immutable is exact.
        if os.path.exists(path + "-wal"):
            raise
        return _opened(uri + "&immutable=1")


def _opened(uri: str) -> sqlite3.Connection:
    """A connection that has read the schema, or none at all (closed before raising, so its
    side files can be taken back)."""
    conn = connect(uri, uri=True)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        conn.close()
        raise
    return conn


def probe_file(conn: sqlite3.Connection, path: str, check: str) -> tuple[int, tuple[str, ...]]:
    """Integrity and identity of an opened file; returns its schema version and what in it
    this program did not write (foreign.py)."""
    pragma = "integrity_check" if check == "full" else "quick_check"
    try:
        if check != "none":
            result = [row[0] for row in conn.execute(f"PRAGMA {pragma}(20)").fetchall()]
            if result != ["ok"]:
                raise CaseError(f"case file is damaged: {path}: {result[0]}" + (f" (and {len(result) - 1} more problems)" if len(result) > 1 else ""))
        db = sqlite_utils.Database(conn, execute_plugins=False, recursive_triggers=False)
        version = read_version(db)
        fmt = conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone() if version else None
        count = conn.execute("SELECT value FROM meta WHERE key = 'audit_count'").fetchone() if version else None
    except (sqlite3.DatabaseError, ValueError) as exc:
        raise CaseError(f"case file is damaged or not a case: {path}: {exc}") from None
    if not version or not fmt or fmt[0] != CASE_FORMAT:
        raise CaseError(f"not a case file: {path} is an SQLite database of another program")
    if version > SCHEMA_VERSION:
        raise CaseError(
            f"case {path} uses schema version {version}, but this program ({__version__}) knows only up to "
            f"{SCHEMA_VERSION}; open it with a newer version of the program"
        )
    _check_wal_belongs(path, conn)
    if count is not None and not str(count[0]).isdigit():
        raise CaseError(f"case file is damaged: {path}: audit_count is {str(count[0])[:40]!r}, not a whole number")
    problems = layout_problems(db, version)
    if problems:
        # Checked before any migration or write: a case whose tables do not match its version
        # would fail half-way through both, and a report from it would be missing parts.
        raise CaseError(f"case file is damaged: {path}: " + "; ".join(problems[:5])
                        + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""))
    try:
        foreign = tuple(foreign_objects(conn, version))
    except sqlite3.DatabaseError as exc:
        raise CaseError(f"case file is damaged or not a case: {path}: {exc}") from None
    return version, foreign


def foreign_refusal(path: str, foreign: tuple[str, ...]) -> CaseForeign:
    listed = "; ".join(foreign[:5]) + (f" (and {len(foreign) - 5} more)" if len(foreign) > 5 else "")
    return CaseForeign(
        f"case {path} is not as this program wrote it: {listed}. It can be opened read-only and verified; "
        f"to work in it, write a clean copy with `case repair {path} NEW_CASE`", foreign)


def _uid_of(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'case_uid'").fetchone()
    return None if row is None else str(row[0])


def _check_wal_belongs(path: str, conn: sqlite3.Connection) -> None:
    """Refuse a -wal file beside the case that belongs to another case.

    SQLite applies any well-formed WAL it finds beside a database, whoever wrote it, so a WAL
    copied from another case turns this one into that one. The main file read alone (SQLite's
    `immutable`, which ignores the WAL) names this case's uid; the file as SQLite reads it,
    WAL included, must name the same. A main file that cannot be read alone (a case not yet
    checkpointed even once) has nothing to compare and passes.
    """
    if not os.path.exists(path + "-wal"):
        return
    try:
        alone = sqlite3.connect(f"file:{quote(os.path.abspath(path))}?mode=ro&immutable=1", uri=True)
        try:
            own = _uid_of(alone)
        finally:
            alone.close()
    except sqlite3.DatabaseError:
        return
    seen = _uid_of(conn)
    if own is not None and seen != own:
        raise CaseError(f"case file is damaged: {path}: its write-ahead log ({os.path.basename(path)}-wal) belongs "
                        f"to another case (case id {str(seen)[:40]}, not {own}); move that file away to open the case "
                        "as it was last saved")
