"""The structure of a JPEG file from its markers: segments, quantisation tables, frame header.

A hostile or damaged file must not crash or exhaust anything, so this walks the bytes
already in memory with every length checked against what is left, a cap on the number of
segments, and entropy-coded data skipped with one regular-expression search per scan (no
byte-by-byte Python loop). What is wrong (a segment running past the end, no end-of-image
marker, bytes after it) is listed as a problem instead of raised.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

MAX_SEGMENTS = 4096

# Frame markers (SOF0..SOF15 without DHT C4, JPG C8, DAC CC) and the process each names.
_SOF = {0xC0: "baseline", 0xC1: "extended", 0xC2: "progressive", 0xC3: "lossless",
        0xC5: "extended", 0xC6: "progressive", 0xC7: "lossless", 0xC9: "extended",
        0xCA: "progressive", 0xCB: "lossless", 0xCD: "extended", 0xCE: "progressive", 0xCF: "lossless"}
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM, RST0..7: no length field
_NEXT_MARKER = re.compile(rb"\xff(?!\x00)(?![\xd0-\xd7])(?!\xff)")

# Zig-zag position k → natural (row-major) index, as in the JPEG standard's Figure A.6.
ZIGZAG = (0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13,
          6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38,
          31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63)


@dataclass(frozen=True)
class FrameHeader:
    process: str
    precision: int
    height: int
    width: int
    components: tuple[tuple[int, int, int, int], ...]  # (id, horizontal, vertical sampling, table id)


@dataclass
class JpegLayout:
    segments: list[tuple[int, int, int]] = field(default_factory=list)  # (marker, offset, payload length)
    names: list[str] = field(default_factory=list)
    tables: dict[int, tuple[int, ...]] = field(default_factory=dict)  # id → 64 steps, natural order
    table_precision: dict[int, int] = field(default_factory=dict)
    frame: FrameHeader | None = None
    exif: bytes | None = None  # the TIFF structure after "Exif\0\0"
    xmp: bytes | None = None
    comments: list[bytes] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    ended: bool = False  # an EOI marker was found


def _app_name(marker: int, payload: bytes) -> str:
    head = payload[:32]
    n = marker - 0xE0
    for prefix, label in ((b"JFIF\x00", "JFIF"), (b"JFXX\x00", "JFIF extension"), (b"Exif\x00", "Exif"),
                          (b"http://ns.adobe.com/xap/1.0/\x00", "XMP"),
                          (b"http://ns.adobe.com/xmp/extension/\x00", "extended XMP"),
                          (b"ICC_PROFILE\x00", "ICC profile"), (b"Photoshop 3.0\x00", "Photoshop IRB"),
                          (b"Adobe", "Adobe"), (b"MPF\x00", "MPF"), (b"JP", "JUMBF"), (b"Ducky", "Ducky")):
        if head.startswith(prefix):
            return f"APP{n} {label}"
    return f"APP{n}"


def _read_dqt(payload: bytes, layout: JpegLayout) -> None:
    pos = 0
    while pos < len(payload):
        precision, table_id = payload[pos] >> 4, payload[pos] & 0x0F
        size = 128 if precision else 64
        body = payload[pos + 1: pos + 1 + size]
        if len(body) < size or table_id > 3:
            layout.problems.append("a quantisation table (DQT) is cut short or names an impossible table")
            return
        steps = struct.unpack(">64H", body) if precision else tuple(body)
        natural = [0] * 64
        for k, index in enumerate(ZIGZAG):
            natural[index] = steps[k]
        layout.tables[table_id] = tuple(natural)
        layout.table_precision[table_id] = 16 if precision else 8
        pos += 1 + size


def _read_sof(marker: int, payload: bytes, layout: JpegLayout) -> None:
    if len(payload) < 6:
        layout.problems.append("the frame header (SOF) is cut short")
        return
    precision, height, width, count = struct.unpack(">BHHB", payload[:6])
    comps = []
    for i in range(count):
        part = payload[6 + 3 * i: 9 + 3 * i]
        if len(part) < 3:
            layout.problems.append("the frame header (SOF) lists more components than it holds")
            break
        comps.append((part[0], part[1] >> 4, part[1] & 0x0F, part[2]))
    if layout.frame is not None:
        layout.problems.append("more than one frame header (SOF)")
        return
    layout.frame = FrameHeader(_SOF[marker], precision, height, width, tuple(comps))


def _segment(layout: JpegLayout, marker: int, payload: bytes) -> None:
    if 0xE0 <= marker <= 0xEF:
        name = _app_name(marker, payload)
        layout.names.append(name)
        if name == "APP1 Exif" and layout.exif is None:
            layout.exif = payload[6:]
        elif name == "APP1 XMP" and layout.xmp is None:
            layout.xmp = payload[29:]
        return
    if marker == 0xDB:
        _read_dqt(payload, layout)
    elif marker in _SOF:
        _read_sof(marker, payload, layout)
    elif marker == 0xFE:
        layout.comments.append(payload)
    label = {0xDB: "DQT", 0xC4: "DHT", 0xDD: "DRI", 0xDA: "SOS", 0xFE: "COM"}.get(marker)
    if marker in _SOF:
        label = f"SOF{marker - 0xC0}"
    if label and (not layout.names or layout.names[-1] != label):
        layout.names.append(label)


def parse_jpeg(data: bytes) -> JpegLayout:
    """Walk a JPEG's markers; never raises on damaged input (problems are listed instead)."""
    layout = JpegLayout()
    if not data.startswith(b"\xff\xd8"):
        layout.problems.append("no start-of-image marker")
        return layout
    pos, end = 2, len(data)
    while len(layout.segments) < MAX_SEGMENTS:
        while pos < end and data[pos] == 0xFF and pos + 1 < end and data[pos + 1] == 0xFF:
            pos += 1  # fill bytes before a marker are allowed
        if pos + 2 > end:
            layout.problems.append(f"the file ends at byte {end} without an end-of-image marker (truncated)")
            return layout
        if data[pos] != 0xFF:
            layout.problems.append(f"expected a marker at byte {pos}, found other data")
            return layout
        marker = data[pos + 1]
        if marker == 0xD9:
            layout.ended = True
            trailing = end - (pos + 2)
            if trailing > 0:
                layout.problems.append(f"{trailing} bytes follow the end-of-image marker")
            return layout
        if marker in _STANDALONE:
            pos += 2
            continue
        if pos + 4 > end:
            layout.problems.append(f"the file ends inside the marker at byte {pos} (truncated)")
            return layout
        length = struct.unpack(">H", data[pos + 2: pos + 4])[0]
        if length < 2 or pos + 2 + length > end:
            layout.problems.append(f"segment 0x{marker:02X} at byte {pos} runs past the end of the file (truncated)")
            return layout
        payload = data[pos + 4: pos + 2 + length]
        layout.segments.append((marker, pos, length - 2))
        _segment(layout, marker, payload)
        pos += 2 + length
        if marker == 0xDA:
            found = _NEXT_MARKER.search(data, pos)
            if found is None:
                layout.problems.append("the image data runs to the end of the file without an end-of-image "
                                       "marker (truncated)")
                return layout
            pos = found.start()
    layout.problems.append(f"more than {MAX_SEGMENTS} segments: the walk stopped there")
    return layout
