"""The one-writer-at-a-time lock of a case: an OS file lock on a `<case>.lock` sidecar file.

The lock belongs to an open file description, so the operating system drops it when the
holder exits for any reason, SIGKILL and power loss included: there is never a stale lock
to clean up.

One file can have several names. The sidecar is named after the case's real path, so a
symbolic link leads to the same lock; a hard link is another name for the same inode, which
no path can tell, so on POSIX systems the writer also holds a `flock` on the case file itself
(flock locks are kept apart from the POSIX byte locks SQLite uses, so the two never meet).
Without that, a second writer through a hard link gets its own -wal file and damages the case.
Windows locks are mandatory byte locks that would block SQLite's own reads, and hard links to
a case are rare there: it has the sidecar only. The sidecar file itself stays on disk after closing; deleting it would let a
process that opened the old file and one that creates a new one both believe they hold the
lock. The file's text (pid, host, time) only serves the "open elsewhere" message.
"""

from __future__ import annotations

import os
import socket
import sys
from datetime import datetime

from engine.errors import CaseNotWritable

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def lock_path(case_path: str | os.PathLike) -> str:
    return os.path.realpath(os.fspath(case_path)) + ".lock"


def _busy(case_path: str | os.PathLike, holder: str) -> CaseNotWritable:
    return CaseNotWritable(
        f"case is open elsewhere: {os.fspath(case_path)} is being written by {holder}; "
        "close it there; meanwhile it can be read (`case show`, `verify`, the window open it read-only)",
        "it is open for writing elsewhere",
    )


class WriterLock:
    """Held while a case is open for writing; `acquire` fails at once, never waits."""

    def __init__(self, fd: int, path: str):
        self._fd: int | None = fd
        self._file_fd: int | None = None  # the flock on the case file itself (POSIX)
        self.path = path

    def hold_file(self, case_path: str | os.PathLike) -> None:
        """Also lock the case file's inode, so that no other name of it lets a second writer in.

        Called once the file exists (at once when opening, after the first write when
        creating). The descriptor stays open until `release`, after SQLite has closed: closing
        a descriptor of a file drops every POSIX lock this process holds on it, SQLite's included.
        """
        if os.name == "nt" or self._file_fd is not None:  # pragma: no cover - Windows: sidecar only
            return
        try:
            fd = os.open(os.fspath(case_path), os.O_RDONLY)
        except OSError:
            return  # unreadable: SQLite refuses it next, with the reason
        if not _try_lock(fd):
            os.close(fd)
            self.release()
            raise _busy(case_path, "another program (through another name of the same file)")
        self._file_fd = fd

    @classmethod
    def acquire(cls, case_path: str | os.PathLike) -> "WriterLock":
        path = lock_path(case_path)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise CaseNotWritable(f"cannot open the case for writing: cannot create lock file {path}: {exc.strerror}",
                                  "its folder is write-protected") from exc
        if not _try_lock(fd):
            holder = _read_holder(fd)
            os.close(fd)
            raise _busy(case_path, holder)
        # Windows locks byte 0, so the holder text starts after it.
        text = f" pid {os.getpid()} on {socket.gethostname()} since {datetime.now().astimezone().isoformat(timespec='seconds')}\n"
        try:
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, text.encode("utf-8"))
        except OSError:
            pass  # the lock itself holds; only the courtesy text is missing
        lock = cls(fd, path)
        if os.path.exists(case_path):
            lock.hold_file(case_path)
        return lock

    def release(self) -> None:
        if self._file_fd is not None:
            os.close(self._file_fd)  # closing drops the flock
            self._file_fd = None
        if self._fd is None:
            return
        try:
            _unlock(self._fd)
        finally:
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None


def writer_active(case_path: str | os.PathLike) -> bool | None:
    """Whether some program holds the case open for writing right now, without taking the lock.

    None when this system cannot tell without writing (Windows byte locks need write access).
    A run still marked "running" while no writer is active was interrupted.
    """
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        return None
    try:
        fd = os.open(lock_path(case_path), os.O_RDONLY)
    except FileNotFoundError:
        return False
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops the shared lock if it was taken
    return False


def lock_holder(case_path: str | os.PathLike) -> str | None:
    """Who last took the writer lock (pid, host, since when), from the lock file's text; None
    when there is no lock file or it cannot be read. Only meaningful while the lock is held."""
    try:
        fd = os.open(lock_path(case_path), os.O_RDONLY)
    except OSError:
        return None
    try:
        return _read_holder(fd)
    finally:
        os.close(fd)


def _read_holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 200).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text or "another program"
