"""Hostile and damaged inputs: a clear finding or a failed check, never a crash, bounded memory."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from engine.forensics.jpeg_markers import parse_jpeg
from engine.forensics.png_chunks import MAX_TEXT_CHUNK, SIGNATURE, parse_png
from engine.forensics.provenance import inspect_bytes
from engine.forensics.records import CheckState, ProvenanceReport, Severity
from engine.forensics.xmp import parse_xmp
from tests.engine.conftest import ROOT
from tests.engine.forensics.scenes import jpeg_bytes, png_bytes, texture, xmp_packet

PICTURE = texture(256, 256, 31)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _with_chunk(png: bytes, chunk: bytes) -> bytes:
    """`chunk` inserted right after IHDR."""
    after_ihdr = len(SIGNATURE) + 8 + 13 + 4
    return png[:after_ihdr] + chunk + png[after_ihdr:]


def truncated_jpeg() -> bytes:
    data = jpeg_bytes(PICTURE, 90)
    return data[: len(data) // 2]


def huge_jpeg() -> bytes:
    data = bytearray(jpeg_bytes(PICTURE, 90))
    sof = next(offset for marker, offset, _ in parse_jpeg(bytes(data)).segments if marker == 0xC0)
    data[sof + 5: sof + 9] = struct.pack(">HH", 60000, 60000)  # height, width: 3.6 gigapixels declared
    return bytes(data)


def huge_png() -> bytes:
    data = bytearray(png_bytes(PICTURE))
    data[16:24] = struct.pack(">II", 100_000, 100_000)
    return bytes(data)


def bomb_png() -> bytes:
    # 200 MB of zeros compress to about 200 kB: a text chunk that would fill memory if inflated whole.
    payload = b"parameters\x00\x00" + zlib.compress(b"\x00" * 200_000_000, 9)
    return _with_chunk(png_bytes(PICTURE), _chunk(b"zTXt", payload))


def malformed_xmp_jpeg() -> bytes:
    return jpeg_bytes(PICTURE, 90, xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><unclosed></x:xmpmeta>')


def laughs_xmp_jpeg() -> bytes:
    entities = "".join(f'<!ENTITY l{i} "{"&l%d;" % (i - 1) * 10}">' for i in range(1, 10))
    packet = f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY l0 "lol">{entities}]><x>&l9;</x>'.encode()
    return jpeg_bytes(PICTURE, 90, xmp=packet)


def garbage_exif_jpeg() -> bytes:
    return jpeg_bytes(PICTURE, 90, exif=b"Exif\x00\x00II*\x00" + b"\xff\x7f" * 200)


HOSTILE = {"truncated.jpg": truncated_jpeg, "huge.jpg": huge_jpeg, "huge.png": huge_png, "bomb.png": bomb_png,
           "bad-xmp.jpg": malformed_xmp_jpeg, "laughs.jpg": laughs_xmp_jpeg, "bad-exif.jpg": garbage_exif_jpeg}


def _state(report: ProvenanceReport, name: str) -> CheckState:
    return next(c.state for c in report.checks if c.name == name)


def test_a_truncated_jpeg_is_named_as_truncated():
    report = inspect_bytes(truncated_jpeg())
    found = [f for f in report.findings if f.check == "jpeg.structure"]
    assert found and found[0].severity == Severity.NOTEWORTHY and "truncated" in found[0].explanation
    assert report.jpeg.quality_estimate == 90  # what the header still says is reported


def test_a_huge_declared_size_is_named_and_never_decoded():
    report = inspect_bytes(huge_jpeg())
    size = [f for f in report.findings if f.check == "image.size"]
    assert [f.severity for f in size] == [Severity.NOTEWORTHY] and "60000×60000" in size[0].explanation
    assert report.jpeg.double_compression.state == "not possible"
    assert "not decoded" in report.jpeg.double_compression.note
    png = inspect_bytes(huge_png())
    assert [f.check for f in png.findings if f.severity == Severity.NOTEWORTHY] == ["image.size"]


def test_a_decompression_bomb_in_a_text_chunk_is_refused():
    layout = parse_png(bomb_png())
    assert not layout.texts
    assert any("decompression bomb" in p and f"{MAX_TEXT_CHUNK:,}" in p for p in layout.problems)
    report = inspect_bytes(bomb_png())
    assert any(f.check == "png.structure" and "decompression bomb" in f.explanation for f in report.findings)


def test_malformed_and_entity_laden_xmp_fail_cleanly():
    for data in (malformed_xmp_jpeg(), laughs_xmp_jpeg()):
        report = inspect_bytes(data)
        assert _state(report, "xmp") == CheckState.FAILED
        assert [f.severity for f in report.findings if f.check == "xmp"] == [Severity.NOTEWORTHY]
    assert "not well-formed" in parse_xmp(b"<a><b></a>").error
    assert parse_xmp(b"\x00" * 10).error == "the XMP packet holds no XML"


def test_an_oversized_xmp_packet_is_not_parsed():
    facts = parse_xmp(xmp_packet("<rdf:Description " + "x" * 5_000_000 + "/>"))
    assert facts.error and "limit" in facts.error


def test_garbage_exif_is_named_as_damaged():
    report = inspect_bytes(garbage_exif_jpeg())
    damaged = [f for f in report.findings if f.check == "exif"]
    assert [f.severity for f in damaged] == [Severity.NOTEWORTHY] and "damaged" in damaged[0].explanation
    assert report.jpeg.quality_estimate == 90  # the other checks still ran
    assert not [c for c in report.checks if c.state == CheckState.FAILED]


@pytest.mark.parametrize("data", [b"\xff\xd8", b"\xff\xd8\xff", b"\xff\xd8\xff\xe1\xff\xff", SIGNATURE,
                                  SIGNATURE + b"\x00\x00\x00\x0dIHDR", b"\xff\xd8" + b"\xff\x01" * 5000])
def test_fragments_give_a_report(data):
    report = inspect_bytes(data)
    assert report.findings or report.checks


def test_every_hostile_file_in_a_separate_process_stays_within_memory(tmp_path: Path):
    for name, make in HOSTILE.items():
        (tmp_path / name).write_bytes(make())
    script = ("import json, sys\nfrom engine.forensics.provenance import inspect_file\n"
              "out = {}\nfor p in sys.argv[1:]:\n    r = inspect_file(p)\n"
              "    out[p] = [f.check for f in r.findings if f.severity.value != 'informative']\n"
              "import resource\n"
              "print(json.dumps({'found': out, 'peak_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))\n")
    done = subprocess.run([sys.executable, "-c", script, *sorted(str(p) for p in tmp_path.iterdir())],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    outcome = json.loads(done.stdout)
    result = outcome["found"]
    assert len(result) == len(HOSTILE) and all(result.values())  # each one named something
    # The child's own peak (RUSAGE_CHILDREN would mix in every other child this test run waited for).
    peak_mb = outcome["peak_kb"] / 1024  # kB on Linux
    # numpy, OpenCV and the c2pa library alone take about 150 MB; a bomb inflated would take gigabytes.
    assert peak_mb < 1024, f"peak resident memory {peak_mb:.0f} MB"  # 650 MB seen in a fresh venv
