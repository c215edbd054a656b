"""CaseStore: opening, creating and closing a case file, and the transaction + audit plumbing
every write goes through.

A case is one SQLite file in WAL mode with foreign keys on. Before anything writes to a
file it is checked read-only (opening.py): the SQLite header, `PRAGMA integrity_check`, that it is a case
and that its schema is not newer than this program; so a corrupt, foreign or too-new file is
refused untouched. Writing needs the case's writer lock (lock.py); read-only opening takes
no lock and opens the file with `mode=ro`. Each write method is one short transaction that
also appends its audit row, so what is committed is always both done and logged.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any, Mapping

import sqlite_utils

from engine.case import audit
from engine.case.annotations import AnnotationsMixin
from engine.case.checkpoints import CheckpointsMixin
from engine.case.evidence import EvidenceMixin
from engine.case.exclusions import ExclusionsMixin
from engine.case.keptmaps import KeptMapsMixin
from engine.case.lock import WriterLock
from engine.case.records import CaseInfo
from engine.case.foreign import foreign_objects
from engine.case.opening import CASE_FORMAT, check_case_file, connect, connect_readonly, foreign_refusal, probe_file
from engine.case.schema import SCHEMA_VERSION, migrate
from engine.case.timeutil import now_iso
from engine.errors import CaseError, CaseNotWritable
from engine.version import __version__

SUFFIX = ".dfwcase"


def default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user database entry (containers): still record something
        return "unknown"


class CaseStore(EvidenceMixin, CheckpointsMixin, AnnotationsMixin, ExclusionsMixin, KeptMapsMixin):
    """An open case. Use `CaseStore.create` / `CaseStore.open`, ideally as a context manager."""

    def __init__(self, path: str, conn: sqlite3.Connection, readonly: bool, lock: WriterLock | None, actor: str):
        self.path = path
        self.readonly = readonly
        self.actor = actor
        self._conn: sqlite3.Connection | None = conn
        self._writer_lock = lock
        self._mutex = threading.RLock()
        self.db = sqlite_utils.Database(conn, execute_plugins=False, recursive_triggers=False)
        self.interrupted_runs: list[int] = []  # runs found "running" at open, now "interrupted"
        self.migrated_from: int | None = None
        self.foreign: tuple[str, ...] = ()  # schema objects this program did not write (read-only then)

    # ----- opening and closing -------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | os.PathLike,
        title: str,
        examiner: str,
        number: str | None = None,
        organisation: str | None = None,
        actor: str | None = None,
    ) -> "CaseStore":
        path = os.fspath(path)
        if os.path.lexists(path):
            raise CaseError(f"cannot create case: {path} already exists")
        if not title.strip() or not examiner.strip():
            raise CaseError("cannot create case: a title and an examiner are required")
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise CaseError(f"cannot create case: folder {parent} does not exist")
        lock = WriterLock.acquire(path)
        try:
            conn = connect(path)
        except sqlite3.Error as exc:
            lock.release()
            raise CaseError(f"cannot create case {path}: {exc}") from None
        store = cls(path, conn, False, lock, actor or default_actor())
        try:
            store._configure_writer()  # the first write: the file exists from here on
            lock.hold_file(path)
            migrate(store.db)
            stamp = now_iso()
            with store.transaction():
                for key, value in {
                    "format": CASE_FORMAT,
                    "case_uid": str(uuid.uuid4()),
                    "title": title.strip(),
                    "number": number,
                    "examiner": examiner.strip(),
                    "organisation": organisation,
                    "created_at": stamp,
                    "updated_at": stamp,
                    "app_version": __version__,
                }.items():
                    store._set_meta(key, value)
                store._audit(
                    "case created",
                    {"title": title, "number": number, "examiner": examiner, "organisation": organisation,
                     "app_version": __version__, "schema_version": SCHEMA_VERSION},
                    actor,
                )
        except BaseException:
            store.close()
            for leftover in (path, path + "-wal", path + "-shm"):
                with contextlib.suppress(OSError):
                    os.remove(leftover)
            raise
        return store

    @classmethod
    def open(
        cls, path: str | os.PathLike, readonly: bool = False, actor: str | None = None, check: str = "full"
    ) -> "CaseStore":
        """Open an existing case. `check` is "full" (integrity_check, the default), "quick"
        (quick_check: structure without index contents) or "none"."""
        path = os.fspath(path)
        check_case_file(path)
        if not readonly and not os.access(path, os.W_OK):
            # Checked before SQLite opens it: a failed write would leave -wal/-shm files made
            # with the case's read-only mode, which then block writing even after a chmod.
            raise CaseNotWritable(f"case file {path} is write-protected; it can only be opened read-only",
                                  "the file is write-protected")
        lock = None if readonly else WriterLock.acquire(path)
        try:
            try:
                probe = connect_readonly(path)
            except sqlite3.DatabaseError as exc:
                raise CaseError(f"case file is damaged or unreadable: {path}: {exc}") from None
            try:
                version, foreign = probe_file(probe, path, check)
            except BaseException:
                probe.close()
                raise
            if readonly:
                probe.execute("PRAGMA query_only = ON")
                store = cls(path, probe, True, None, actor or default_actor())
                store.foreign = foreign
                return store
            probe.close()
            if foreign:
                raise foreign_refusal(path, foreign)
            conn = connect(path)
            # Checked again on the connection that writes: the file may have changed since the probe.
            foreign = tuple(foreign_objects(conn, version))
            if foreign:
                conn.close()
                raise foreign_refusal(path, foreign)
            store = cls(path, conn, False, lock, actor or default_actor())
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        try:
            if version < SCHEMA_VERSION:
                store._backup(version)  # before anything, even the journal mode, changes the file
            store._configure_writer()
            if version < SCHEMA_VERSION:
                store._migrate_from(version)
            store._mark_interrupted()
        except BaseException:
            store.close()
            raise
        return store

    def _configure_writer(self) -> None:
        try:
            # A short busy timeout: readers never block a WAL writer for long, and a second
            # writer is already stopped by the lock, so waiting longer would only hide a hang.
            self._connection().execute("PRAGMA busy_timeout = 2000")
            mode = self._connection().execute("PRAGMA journal_mode = WAL").fetchone()[0]
            self._connection().execute("PRAGMA foreign_keys = ON")
            self._connection().execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as exc:
            raise CaseError(f"cannot open case {self.path} for writing: {exc}") from None
        if str(mode).lower() != "wal":
            raise CaseError(f"cannot open case {self.path} for writing: the file system does not support WAL mode")

    def _backup(self, version: int) -> None:
        backup = f"{self.path}.bak-v{version}"
        try:
            target = connect(backup)
            with target:
                self._connection().backup(target)
            target.close()
        except sqlite3.Error as exc:
            raise CaseError(f"cannot back up case {self.path} before upgrading it: {exc}") from None

    def _migrate_from(self, version: int) -> None:
        backup = f"{self.path}.bak-v{version}"
        migrate(self.db)
        with self.transaction():
            self._audit("case migrated", {"from_schema": version, "to_schema": SCHEMA_VERSION, "backup": backup,
                                          "app_version": __version__})
        self.migrated_from = version

    def _mark_interrupted(self) -> None:
        running = [r for (r,) in self._connection().execute("SELECT id FROM runs WHERE status = 'running'").fetchall()]
        for run_id in running:
            with self.transaction():
                self.db.execute("UPDATE runs SET status = 'interrupted' WHERE id = ?", [run_id])
                self._audit("run interrupted", {"run_id": run_id, "found_at_open": True})
        self.interrupted_runs = running

    def close(self) -> None:
        with self._mutex:
            if self._conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.close()
                self._conn = None
            if self._writer_lock is not None:
                self._writer_lock.release()
                self._writer_lock = None

    @property
    def closed(self) -> bool:
        return self._conn is None

    def __enter__(self) -> "CaseStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- case-level API ----------------------------------------------------------------------
    def info(self) -> CaseInfo:
        meta = {row["key"]: row["value"] for row in self._query("SELECT key, value FROM meta")}
        return CaseInfo(
            uid=meta.get("case_uid", ""),
            title=meta.get("title", ""),
            number=meta.get("number"),
            examiner=meta.get("examiner", ""),
            organisation=meta.get("organisation"),
            created_at=meta.get("created_at", ""),
            updated_at=meta.get("updated_at", ""),
            app_version=meta.get("app_version", ""),
            schema_version=int(meta.get("schema_version") or 0),
            audit_count=int(meta.get("audit_count") or 0),
            audit_head=meta.get("audit_head"),
        )

    def log(self, action: str, details: Mapping[str, Any] | None = None, actor: str | None = None) -> audit.AuditEntry:
        """Record an action done outside the store (e.g. "report exported") in the audit log."""
        with self.transaction():
            return self._audit(action, details, actor)

    def last_audit_entry(self, action: str) -> audit.AuditEntry | None:
        """The newest audit entry with this action, or None."""
        with self._mutex:
            return audit.last_entry(self.db, action)

    def audit_entries(self) -> list[audit.AuditEntry]:
        with self._mutex:
            return audit.entries(self.db)

    def verify_audit_chain(self) -> list[str]:
        with self._mutex:
            return audit.verify_audit_chain(self.db)

    def integrity_check(self) -> list[str]:
        """`PRAGMA integrity_check` now: ["ok"] when the file is sound."""
        return [row["integrity_check"] for row in self._query("PRAGMA integrity_check")]


def default_case_path(path: str | os.PathLike) -> str:
    """The path as given, with `.dfwcase` added when it has no suffix at all."""
    p = Path(path)
    return os.fspath(p if p.suffix else p.with_suffix(SUFFIX))
