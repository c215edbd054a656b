"""Writing files so that a crash leaves either the old file or the new one, never half of one;
and telling whether two paths name the same file."""

from __future__ import annotations

import contextlib
import os
import tempfile


def write_temporary(folder: str, name: str, data: bytes) -> str:
    """`data` in a new hidden `.NAME.*.part` file in `folder`, flushed to disk, with ordinary
    permissions (the process umask applies, not mkstemp's private 0600); returns its path.
    The file is removed on any failure."""
    handle, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return temp


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, flush it to disk, then rename it into place.
    Raises OSError; the temporary file is removed on any failure."""
    target = os.fspath(path)
    temp = write_temporary(os.path.dirname(os.path.abspath(target)), os.path.basename(target), data)
    try:
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True when both paths name one file: the same resolved path, or the same inode (hard link)."""
    if os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b)):
        return True
    with contextlib.suppress(OSError):
        return os.path.samefile(a, b)
    return False
