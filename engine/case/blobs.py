"""Reading stored overlay blobs with bounds: a case may hold a blob of any size, or one that
inflates to gigabytes, and neither may take the reader's memory with it.

The program writes overlays of a few hundred kilobytes (a PNG of a map, an NPZ grid). So a
blob larger than MAX_STORED_BYTES is refused from its length alone, before any byte is read,
and decompression streams into at most the size the row declares (itself capped at
MAX_PAYLOAD_BYTES): a zip bomb stops at the cap instead of growing until MemoryError.
"""

from __future__ import annotations

import hashlib
import sqlite3
import zlib

from engine.errors import CaseError

MAX_STORED_BYTES = 32 * 1024 * 1024  # compressed; the largest overlay the program writes is far below
MAX_PAYLOAD_BYTES = 64 * 1024 * 1024  # uncompressed
_CHUNK = 1024 * 1024


def _declared_size(overlay_id: int, size: object) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise CaseError(f"overlay {overlay_id} is damaged: its recorded size is {str(size)[:40]!r}")
    if size > MAX_PAYLOAD_BYTES:
        raise CaseError(f"overlay {overlay_id} declares {size:,} bytes, more than any overlay this program writes "
                        f"({MAX_PAYLOAD_BYTES:,}); not read")
    return size


def read_overlay_payload(conn: sqlite3.Connection, overlay_id: int) -> tuple[bytes, str]:
    """(uncompressed payload, SHA-256 recorded for it); CaseError for any blob out of bounds.

    The caller compares the two: `get_overlay` refuses a mismatch, `verify` reports it.
    """
    row = conn.execute("SELECT sha256, size, length(data), typeof(data) FROM overlays WHERE id = ?",
                       [overlay_id]).fetchone()
    if row is None:
        raise CaseError(f"no overlay {overlay_id} in this case")
    recorded, size, stored, kind = row
    declared = _declared_size(overlay_id, size)
    if kind != "blob":
        raise CaseError(f"overlay {overlay_id} is damaged: its data is {kind}, not bytes")
    if stored > MAX_STORED_BYTES:
        raise CaseError(f"overlay {overlay_id} holds {stored:,} bytes, more than any overlay this program writes "
                        f"({MAX_STORED_BYTES:,}); not read")
    (data,) = conn.execute("SELECT data FROM overlays WHERE id = ?", [overlay_id]).fetchone()
    inflater = zlib.decompressobj()
    parts: list[bytes] = []
    total = 0
    view = memoryview(data)
    try:
        for start in range(0, len(view), _CHUNK):
            pending = view[start:start + _CHUNK].tobytes()
            while pending:
                # At most one byte past the declared size: enough to tell "longer than declared".
                part = inflater.decompress(pending, declared + 1 - total)
                total += len(part)
                parts.append(part)
                if total > declared:
                    raise CaseError(f"overlay {overlay_id} is damaged: it inflates past its recorded size "
                                    f"of {declared:,} bytes")
                pending = inflater.unconsumed_tail
        parts.append(inflater.flush(declared + 1 - total))
    except zlib.error:
        raise CaseError(f"overlay {overlay_id} is damaged (cannot be decompressed)") from None
    payload = b"".join(parts)
    if len(payload) != declared:
        raise CaseError(f"overlay {overlay_id} is damaged: {len(payload):,} bytes where {declared:,} were recorded")
    return payload, str(recorded)


def overlay_problem(conn: sqlite3.Connection, overlay_id: int) -> str | None:
    """Why overlay `overlay_id` cannot be trusted, in a sentence; None when it matches its SHA-256."""
    try:
        payload, recorded = read_overlay_payload(conn, overlay_id)
    except CaseError as exc:
        return str(exc)
    if hashlib.sha256(payload).hexdigest() != recorded:
        return f"overlay {overlay_id} does not match its recorded SHA-256"
    return None
