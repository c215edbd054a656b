"""PNG text chunks (tEXt, zTXt, iTXt), EXIF (eXIf), the header and what follows the end.

Compressed text is where a PNG can hide a decompression bomb: a few kilobytes that inflate
to gigabytes. Each chunk is inflated with a bound on its output (and all of them together
with another), so an over-long one is named in `problems` and skipped, and memory stays
bounded whatever the file says. Lengths are checked against the bytes that are there.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

MAX_CHUNKS = 100_000
MAX_TEXT_CHUNK = 2 * 1024 * 1024  # one text value, after inflating
MAX_TEXT_TOTAL = 16 * 1024 * 1024  # all text values together
MAX_TEXT_CHUNKS = 512
SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class PngLayout:
    width: int | None = None
    height: int | None = None
    texts: list[tuple[str, str, str]] = field(default_factory=list)  # (chunk type, keyword, text)
    exif: bytes | None = None
    xmp: bytes | None = None
    chunk_types: list[str] = field(default_factory=list)  # distinct, in first-seen order
    problems: list[str] = field(default_factory=list)
    ended: bool = False
    _text_total: int = 0


def _inflate(data: bytes, layout: PngLayout, what: str) -> bytes | None:
    room = min(MAX_TEXT_CHUNK, MAX_TEXT_TOTAL - layout._text_total)
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, room + 1)
    except zlib.error as exc:
        layout.problems.append(f"{what} is not valid compressed data ({exc})")
        return None
    if len(out) > room:
        layout.problems.append(f"{what} inflates beyond {room:,} bytes (a decompression bomb or an unusually "
                               "large text): not read")
        return None
    return out


def _text(kind: str, body: bytes, layout: PngLayout) -> None:
    keyword, sep, rest = body.partition(b"\x00")
    if not sep:
        layout.problems.append(f"a {kind} chunk has no keyword separator")
        return
    name = keyword[:79].decode("latin-1")
    what = f"the {kind} chunk {name!r}"
    if kind == "tEXt":
        raw: bytes | None = rest
        encoding = "latin-1"
    elif kind == "zTXt":
        raw, encoding = _inflate(rest[1:], layout, what), "latin-1"
    else:  # iTXt: flag, method, language\0, translated keyword\0, text
        if len(rest) < 2:
            layout.problems.append(f"{what} is cut short")
            return
        compressed, tail = rest[0], rest[2:]
        _language, _, tail = tail.partition(b"\x00")
        _translated, _, tail = tail.partition(b"\x00")
        raw = _inflate(tail, layout, what) if compressed else tail
        encoding = "utf-8"
    if raw is None:
        return
    if len(raw) > MAX_TEXT_CHUNK:
        layout.problems.append(f"{what} holds {len(raw):,} bytes, over the {MAX_TEXT_CHUNK:,}-byte limit: not read")
        return
    layout._text_total += len(raw)
    if name == "XML:com.adobe.xmp" and layout.xmp is None:
        layout.xmp = raw
        return
    if len(layout.texts) < MAX_TEXT_CHUNKS:
        layout.texts.append((kind, name, raw.decode(encoding, "replace")))


def parse_png(data: bytes) -> PngLayout:
    """Walk a PNG's chunks; never raises on damaged input (problems are listed instead)."""
    layout = PngLayout()
    if not data.startswith(SIGNATURE):
        layout.problems.append("no PNG signature")
        return layout
    pos, end, count = len(SIGNATURE), len(data), 0
    while pos < end:
        count += 1
        if count > MAX_CHUNKS:
            layout.problems.append(f"more than {MAX_CHUNKS:,} chunks: the walk stopped there")
            return layout
        if pos + 12 > end:
            layout.problems.append(f"the file ends inside a chunk header at byte {pos} (truncated)")
            return layout
        length, kind_bytes = struct.unpack(">I4s", data[pos: pos + 8])
        kind = kind_bytes.decode("latin-1")
        if pos + 12 + length > end:
            layout.problems.append(f"chunk {kind!r} at byte {pos} runs past the end of the file (truncated)")
            return layout
        body = data[pos + 8: pos + 8 + length]
        if kind not in layout.chunk_types and len(layout.chunk_types) < 64:
            layout.chunk_types.append(kind)
        _chunk(kind, body, layout)
        pos += 12 + length
        if kind == "IEND":
            layout.ended = True
            if pos < end:
                layout.problems.append(f"{end - pos} bytes follow the IEND chunk")
            return layout
    layout.problems.append("the file ends without an IEND chunk (truncated)")
    return layout


def _chunk(kind: str, body: bytes, layout: PngLayout) -> None:
    if kind == "IHDR" and len(body) >= 8:
        layout.width, layout.height = struct.unpack(">II", body[:8])
    elif kind in ("tEXt", "zTXt", "iTXt"):
        _text(kind, body, layout)
    elif kind == "eXIf" and layout.exif is None:
        layout.exif = body
