"""Reading evidence files safely: refuse anything that is not a regular file before opening
it, hash regular files in a stream with progress, and walk folders.

A FIFO, a device or a socket could block forever or change under the reader, so the type
is checked with stat() first (following a symlink to its target) and checked again on the
open descriptor, which is opened non-blocking so even a file swapped for a FIFO in between
cannot hang the program. Files are opened read-only; reading never changes their mtime.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from typing import Iterable

from engine.errors import CaseError
from engine.util.hashing import CHUNK
from engine.media.sniff import HEAD_BYTES, Sniffed, describe_mode, sniff_bytes
from engine.util.progress import Progress



def check_regular(path: str | os.PathLike) -> os.stat_result:
    """stat() the path (following links) and refuse anything but a regular file, unopened."""
    try:
        link = os.lstat(path)
    except FileNotFoundError:
        raise CaseError(f"evidence file not found: {os.fspath(path)}") from None
    except OSError as exc:
        raise CaseError(f"cannot read {os.fspath(path)}: {exc.strerror}") from None
    try:
        info = os.stat(path)
    except OSError:
        raise CaseError(f"refused {os.fspath(path)}: a link whose target does not exist") from None
    if not stat.S_ISREG(info.st_mode):
        via = "a link to " if stat.S_ISLNK(link.st_mode) else ""
        raise CaseError(f"refused {os.fspath(path)}: {via}{describe_mode(info.st_mode)}, not a regular file")
    return info


@dataclass(frozen=True)
class HashedFile:
    sha256: str
    size: int
    mtime_ns: int
    sniffed: Sniffed


def hash_regular_file(path: str | os.PathLike, progress: Progress | None = None) -> HashedFile:
    """SHA-256, size, mtime and sniffed type of a regular file, read once in a stream.

    This is engine.util.hashing.sha256_file plus what evidence intake needs on top: a byte
    progress callback for big files, the first bytes for type sniffing from the same read,
    and the non-blocking, type-checked open described in the module docstring.
    """
    before = check_regular(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise CaseError(f"cannot read {os.fspath(path)}: {exc.strerror}") from None
    with os.fdopen(fd, "rb", buffering=0) as handle:
        opened = os.fstat(handle.fileno())
        if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (before.st_dev, before.st_ino):
            raise CaseError(f"refused {os.fspath(path)}: it was replaced while being opened")
        digest = hashlib.sha256()
        head = b""
        done = 0
        total = opened.st_size
        name = os.path.basename(os.fspath(path))
        while block := handle.read(CHUNK):
            if not head:
                head = block[:HEAD_BYTES]
            digest.update(block)
            done += len(block)
            if progress is not None:
                progress(done, max(total, done), name)
        after = os.fstat(handle.fileno())
    if after.st_size != opened.st_size or after.st_mtime_ns != opened.st_mtime_ns or done != after.st_size:
        raise CaseError(f"{os.fspath(path)} changed while it was being hashed; add it again when it is stable")
    return HashedFile(digest.hexdigest(), after.st_size, after.st_mtime_ns, sniff_bytes(head))


@dataclass(frozen=True)
class Collected:
    files: tuple[str, ...]
    refused: tuple[tuple[str, str], ...]  # (path, reason)


def collect_paths(paths: Iterable[str | os.PathLike]) -> Collected:
    """Expand folders (sorted, links to folders not followed) into regular files; list the rest as refused."""
    files: list[str] = []
    refused: list[tuple[str, str]] = []

    def consider(path: str) -> None:
        try:
            check_regular(path)
        except CaseError as exc:
            refused.append((path, str(exc)))
        else:
            files.append(path)

    for given in paths:
        path = os.fspath(given)
        if os.path.isdir(path) and not os.path.islink(path):
            def unreadable(error: OSError) -> None:
                # os.walk skips a folder it cannot list unless told: say so, it may hold evidence.
                where = error.filename or path
                refused.append((str(where), f"refused {where}: the folder cannot be read ({error.strerror or error})"))

            for root, dirs, names in os.walk(path, onerror=unreadable):
                dirs.sort()
                for name in sorted(names):
                    consider(os.path.join(root, name))
                for name in dirs:
                    full = os.path.join(root, name)
                    if os.path.islink(full):
                        refused.append((full, f"refused {full}: a link to a folder (not followed)"))
        else:
            consider(path)
    return Collected(tuple(files), tuple(refused))
