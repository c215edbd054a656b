"""Putting a finished report in place: both files and the audit entry first, the names last.

A report and its `.sha256` sidecar are written under temporary names in the target folder
(hidden, ending in `.part`), flushed to disk, and the "report exported" entry is added to the
case's audit log; only then are they renamed to their real names, the sidecar first and the
report last, so that a file under the report's name always has its sidecar and its entry. On
any failure before that, both temporary files are removed and nothing with the report's name
is left behind, so a half-written or unlogged report can never be mistaken for a finished one.
If a rename fails after the entry was written, what was placed is removed and a second entry
says the export did not complete.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Callable

from engine.errors import ReportError
from engine.util.fileutil import write_temporary


def _temporary(folder: str, name: str, data: bytes) -> str:
    """`data` in a new hidden file beside the target, flushed to disk, with ordinary permissions."""
    return write_temporary(folder, name, data)


def existing_target(out: str) -> str | None:
    """The report or its sidecar when either already exists (a link counts, even a broken one)."""
    for path in (out, out + ".sha256"):
        if os.path.lexists(path):
            return path
    return None


def publish(out: str, data: bytes, sidecar_text: str, log_export: Callable[[], Any],
            log_failure: Callable[[str], Any], overwrite: bool) -> str:
    """Write `data` to `out` and `sidecar_text` to `out`.sha256 as described above; `log_export`
    adds the audit entry between writing and renaming. Returns the sidecar's path; a
    ReportError (one line) on failure, with nothing left under either name."""
    folder = os.path.dirname(out) or "."
    sidecar = out + ".sha256"
    temps: list[str] = []
    placed: list[str] = []
    logged = False
    try:
        temps.append(_temporary(folder, os.path.basename(out), data))
        temps.append(_temporary(folder, os.path.basename(sidecar), sidecar_text.encode("utf-8")))
        log_export()
        logged = True
        if not overwrite and existing_target(out):  # appeared while the report was made
            raise ReportError(f"cannot write report: {existing_target(out)} appeared while the report was made; "
                              "nothing was replaced")
        for temp, target in ((temps[1], sidecar), (temps[0], out)):
            os.replace(temp, target)
            placed.append(target)
    except BaseException as exc:
        for path in [t for t in temps if t not in placed] + placed:
            with contextlib.suppress(OSError):
                os.unlink(path)
        if logged:
            with contextlib.suppress(Exception):
                log_failure(str(exc) or type(exc).__name__)
        if isinstance(exc, OSError):
            raise ReportError(f"cannot write report {out}: {exc.strerror or exc}") from None
        raise
    return sidecar
