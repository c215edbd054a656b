"""Forensic maps an examiner kept in the case, for CaseStore.

A map (error level, noise level, residual, spectrum; engine/forensics) is computed on demand
and cached in memory. When the examiner keeps one, the PNG they looked at is stored with
everything needed to make it again and to read it: the evidence's SHA-256 at the time, the
frame, the kind and every parameter, the figures behind it, its legend and its statement of
what it can and cannot show, the tool version, and the examiner's comment. The "forensic map
kept" audit entry seals the row (the digest of its columns, the PNG by its SHA-256); removing
a map is audited too, and `verify` replays both (sealcheck.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from engine.case.plumbing import StorePlumbing
from engine.case.records import stored_json
from engine.case.seals import digest_rows
from engine.case.timeutil import now_iso
from engine.errors import CaseError
from engine.util.hashing import sha256_bytes

MAP_KEPT = "forensic map kept"
MAP_REMOVED = "forensic map removed"
MAX_MAP_BYTES = 96 * 1024 * 1024  # a 12-megapixel map's PNG is about 20 MB; a larger blob is not ours
MAX_NOTE_CHARS = 2000
# The sealed columns: everything but the PNG itself, which the seal holds by its SHA-256.
MAP_COLUMNS = ("evidence_id", "frame_index", "kind", "params", "figures", "legend", "statement", "tool_version",
               "evidence_sha256", "sha256", "size", "width", "height", "note", "author", "created_at")
_PNG = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class KeptMap:
    """A kept forensic map without its PNG (`CaseStore.kept_map_png` reads that, checked)."""

    id: int
    evidence_id: int
    frame_index: int
    kind: str
    params: dict
    figures: dict
    legend: str
    statement: str
    tool_version: str
    evidence_sha256: str
    sha256: str
    size: int
    width: int
    height: int
    note: str
    author: str
    created_at: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "KeptMap":
        def text(name: str) -> str:
            value = row[name]
            return value if isinstance(value, str) else ""

        def whole(name: str) -> int:
            value = row[name]
            if type(value) is not int:
                raise CaseError(f"case file is damaged: kept_maps row {row['id']}, field {name}: not a whole number")
            return value

        return cls(whole("id"), whole("evidence_id"), whole("frame_index"), text("kind"),
                   stored_json("kept_maps", row["id"], "params", row["params"], "object", {}),
                   stored_json("kept_maps", row["id"], "figures", row["figures"], "object", {}),
                   text("legend"), text("statement"), text("tool_version"), text("evidence_sha256"), text("sha256"),
                   whole("size"), whole("width"), whole("height"), text("note"), text("author"), text("created_at"))


def map_row_digest(conn: Any, map_id: int) -> str | None:
    """The digest a "forensic map kept" entry seals for one row, from what the file holds."""
    rows = conn.execute(f"SELECT {', '.join(MAP_COLUMNS)} FROM kept_maps WHERE id = ?", [map_id]).fetchall()
    return digest_rows(rows)[1] if rows else None


class KeptMapsMixin(StorePlumbing):
    def keep_map(self, evidence_id: int, frame_index: int, *, kind: str, params: Mapping[str, Any],
                 figures: Mapping[str, Any], legend: str, statement: str, tool_version: str, png: bytes,
                 width: int, height: int, note: str = "", actor: str | None = None) -> KeptMap:
        """Store a map's PNG with what made it; audited and sealed. The evidence SHA-256 is the
        one recorded for the item (the caller made the map from bytes checked against it)."""
        if not bytes(png[:8]) == _PNG or len(png) > MAX_MAP_BYTES:
            raise CaseError("a kept map is a PNG of at most "
                            f"{MAX_MAP_BYTES // (1024 * 1024)} MB; this one is not")
        if len(note) > MAX_NOTE_CHARS:
            raise CaseError(f"a map's comment is at most {MAX_NOTE_CHARS} characters ({len(note)} given)")
        digest = sha256_bytes(png)
        with self.transaction():
            found = self._query("SELECT sha256, media_kind FROM evidence WHERE id = ?", [evidence_id])
            if not found:
                raise CaseError(f"no evidence item {evidence_id} in this case")
            if frame_index < 0 or (frame_index and found[0]["media_kind"] != "video"):
                raise CaseError(f"frame {frame_index} is not a frame of evidence {evidence_id}")
            cursor = self.db.execute(
                f"INSERT INTO kept_maps ({', '.join(MAP_COLUMNS)}, data) VALUES ({', '.join('?' * (len(MAP_COLUMNS) + 1))})",
                [evidence_id, frame_index, kind, json.dumps(dict(params), sort_keys=True),
                 json.dumps(dict(figures), sort_keys=True), legend, statement, tool_version, found[0]["sha256"],
                 digest, len(png), width, height, note, actor or self.actor, now_iso(), png])
            map_id = cursor.lastrowid
            assert map_id is not None
            self._audit(MAP_KEPT, {"map_id": map_id, "evidence_id": evidence_id, "frame_index": frame_index,
                                   "kind": kind, "params": dict(params), "sha256": digest,
                                   "row_sha256": map_row_digest(self._connection(), map_id)}, actor)
        return self.kept_map(map_id)

    def kept_map(self, map_id: int) -> KeptMap:
        rows = self._query(f"SELECT id, {', '.join(MAP_COLUMNS)} FROM kept_maps WHERE id = ?", [map_id])
        if not rows:
            raise CaseError(f"no kept map {map_id} in this case")
        return KeptMap.from_row(rows[0])

    def kept_maps(self, evidence_id: int | None = None,
                  unreadable: Callable[[Any, str], None] | None = None) -> list[KeptMap]:
        """The kept maps (of one item); a damaged row raises CaseError, or with `unreadable`
        is handed to it (row id, why) and left out, so one bad row hides none of the others."""
        maps = []
        for row in self._filtered(f"SELECT id, {', '.join(MAP_COLUMNS)} FROM kept_maps",
                                  "evidence_id, frame_index, id", evidence_id=evidence_id):
            try:
                maps.append(KeptMap.from_row(row))
            except CaseError as exc:
                if unreadable is None:
                    raise
                unreadable(row["id"], str(exc))
        return maps

    def kept_map_png(self, map_id: int) -> bytes:
        """The stored PNG, refused when it is not the one its row and seal name."""
        row = self._connection().execute("SELECT sha256, size, length(data), typeof(data) FROM kept_maps WHERE id = ?",
                                          [map_id]).fetchone()
        if row is None:
            raise CaseError(f"no kept map {map_id} in this case")
        recorded, size, stored, kind = row
        if kind != "blob" or not isinstance(stored, int) or stored > MAX_MAP_BYTES or stored != size:
            raise CaseError(f"kept map {map_id} is damaged: its image is not the {size!r} bytes recorded")
        (data,) = self._connection().execute("SELECT data FROM kept_maps WHERE id = ?", [map_id]).fetchone()
        if sha256_bytes(data) != recorded:
            raise CaseError(f"kept map {map_id} is damaged: its image does not have the SHA-256 recorded")
        return bytes(data)

    def remove_kept_map(self, map_id: int, actor: str | None = None) -> None:
        """Remove a kept map; the audit entry keeps what it was (its row, the PNG by SHA-256)."""
        with self.transaction():
            kept = self.kept_map(map_id)
            self.db.execute("DELETE FROM kept_maps WHERE id = ?", [map_id])
            self._audit(MAP_REMOVED, {"map_id": map_id, "evidence_id": kept.evidence_id, "kind": kept.kind,
                                      "frame_index": kept.frame_index, "sha256": kept.sha256}, actor)
