"""What every part of an open case store shares: the connection, transactions that log, queries.

`CaseStore` (store.py) opens and closes the file; its mixins (evidence, runs, annotations)
each add one family of records. They all write through `transaction()` and `_audit()`, so
what is committed is always both done and logged, and read through `_query()` and
`_iter_filtered()`, which bind every value as a parameter.
"""

from __future__ import annotations

import contextlib
import glob
import sqlite3
import threading
from typing import Any, Iterator, Mapping

import sqlite_utils

from engine.case import audit
from engine.errors import CaseError


class StorePlumbing:
    path: str
    readonly: bool
    actor: str
    db: sqlite_utils.Database
    _conn: sqlite3.Connection | None
    _mutex: threading.RLock

    def own_files(self) -> list[str]:
        """The case file and every file beside it that belongs to it: SQLite's -wal/-shm/-journal,
        the writer lock and migration backups. None of them may become evidence or a report."""
        names = [self.path + suffix for suffix in ("", "-wal", "-shm", "-journal", ".lock")]
        return names + sorted(glob.glob(glob.escape(self.path) + ".bak-v*"))

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise CaseError(f"case {self.path} is closed")
        return self._conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """One transaction (nested calls become savepoints); only on a case open for writing."""
        self._connection()
        if self.readonly:
            raise CaseError(f"case {self.path} is open read-only")
        with self._mutex:
            try:
                with self.db.atomic():
                    yield self.db
            except sqlite3.DatabaseError as exc:
                raise CaseError(f"could not save to case {self.path}: {exc}") from exc

    def _filtered(self, select: str, order: str, **filters: Any) -> list[dict[str, Any]]:
        """Rows of `select` narrowed to the filters that are not None (column = value), in `order`."""
        return list(self._iter_filtered(select, order, **filters))

    def _iter_filtered(self, select: str, order: str, page: int = 2000, **filters: Any) -> Iterator[dict[str, Any]]:
        """The rows of `_filtered`, fetched `page` at a time from one cursor.

        Column names come from the calling code, never from input; values are bound parameters.
        """
        chosen = {column: value for column, value in filters.items() if value is not None}
        where = " WHERE " + " AND ".join(f"{column} = ?" for column in chosen) if chosen else ""
        with self._mutex:
            cursor = self._connection().execute(f"{select}{where} ORDER BY {order}", list(chosen.values()))
            names = [d[0] for d in cursor.description]
        while True:
            with self._mutex:
                rows = cursor.fetchmany(page)
            if not rows:
                return
            for row in rows:
                yield dict(zip(names, row))

    def _query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        with self._mutex:
            cursor = self._connection().execute(sql, params)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

    def _audit(self, action: str, details: Mapping[str, Any] | None = None, actor: str | None = None) -> audit.AuditEntry:
        return audit.append(self.db, actor or self.actor, action, details)

    def _meta(self, key: str) -> str | None:
        row = self._connection().execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str | None) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value])
