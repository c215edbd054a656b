"""Provenance of one evidence file: content credentials, metadata hints and JPEG facts.

An image is read once into memory (read-only, after refusing anything but a regular file),
hashed from those same bytes, and every check works on them, so the report is about exactly
the bytes whose SHA-256 it carries. A file larger than MAX_IMAGE_BYTES, or a video, is
hashed as a stream and only its content credentials are read (c2pa reads the stream
itself); the metadata checks say they were not made. Nothing is ever written to the file.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from datetime import datetime, timezone
from typing import IO

from engine.case.files import check_regular, hash_regular_file
from engine.errors import MediaError
from engine.forensics.c2pa_facts import read_credentials
from engine.forensics.metadata_checks import guarded, metadata_checks
from engine.forensics.records import (
    CheckRecord,
    CheckState,
    ContentCredentials,
    Found,
    JpegFacts,
    ProvenanceReport,
)
from engine.forensics.tools import all_versions
from engine.media.image import DEFAULT_MAX_PIXELS
from engine.media.sniff import HEAD_BYTES, sniff_bytes

MAX_IMAGE_BYTES = 256 * 1024 * 1024


def _read_whole(path: str, limit: int) -> bytes | None:
    """The file's bytes, or None when it is larger than `limit`; opened read-only, never blocking."""
    before = check_regular(path)
    if before.st_size > limit:
        return None
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb", buffering=0) as handle:
        opened = os.fstat(handle.fileno())
        if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (before.st_dev, before.st_ino):
            raise MediaError(f"refused {path}: it was replaced while being opened")
        data = handle.read(limit + 1)
    return data if len(data) <= limit else None


def inspect_file(path: str | os.PathLike[str], *, expected_sha256: str | None = None,
                 max_pixels: int = DEFAULT_MAX_PIXELS, now: datetime | None = None,
                 recompression: bool = True) -> ProvenanceReport:
    """Every provenance finding about the file at `path`. With `expected_sha256`, a file
    whose bytes no longer have that hash is refused (MediaError) before anything is judged.
    `recompression=False` skips the double-compression hint, the one check that decodes the
    whole picture (most of the cost on a large JPEG)."""
    name = os.fspath(path)
    data = _read_whole(name, MAX_IMAGE_BYTES)
    if data is not None:
        digest = hashlib.sha256(data).hexdigest()
        _check_hash(name, digest, expected_sha256)
        return inspect_bytes(data, name, digest, max_pixels=max_pixels, now=now, recompression=recompression)
    hashed = hash_regular_file(name)
    _check_hash(name, hashed.sha256, expected_sha256)
    with open(name, "rb") as handle:
        return _inspect_stream(handle, name, hashed.sha256, hashed.size, hashed.sniffed.kind, hashed.sniffed.format)


def _check_hash(path: str, actual: str, expected: str | None) -> None:
    if expected is not None and actual != expected.lower():
        raise MediaError(f"{path} changed since it was recorded (SHA-256 {actual[:16]}… instead of "
                         f"{expected[:16]}…): its provenance is not judged")


def inspect_bytes(data: bytes, path: str = "", sha256: str | None = None, *, max_pixels: int = DEFAULT_MAX_PIXELS,
                  now: datetime | None = None, recompression: bool = True) -> ProvenanceReport:
    """The report of a file already in memory (`path` is only recorded, never opened)."""
    sniffed = sniff_bytes(data[:HEAD_BYTES])
    digest = sha256 or hashlib.sha256(data).hexdigest()
    if sniffed.kind != "image":
        return _inspect_stream(io.BytesIO(data), path, digest, len(data), sniffed.kind, sniffed.format)
    found = Found()
    credentials = _credentials(io.BytesIO(data), sniffed.format, found)
    sources = metadata_checks(data, sniffed.format, max_pixels, found, now, recompression)
    return _report(path, digest, len(data), "image", sniffed.format, found, credentials, sources.jpeg)


def _credentials(stream: IO[bytes], file_format: str, found: Found) -> ContentCredentials | None:
    result: list[ContentCredentials | None] = [None]

    def read() -> None:
        result[0], part = read_credentials(stream, file_format)
        found.findings.extend(part.findings)
        found.checks.extend(part.checks)

    guarded("c2pa.manifest", found, read)
    return result[0]


def _inspect_stream(stream: IO[bytes], path: str, digest: str, size: int, kind: str, file_format: str) -> ProvenanceReport:
    found = Found()
    credentials = _credentials(stream, file_format, found)
    why = ("metadata checks are made on still images only" if kind != "image" else
           f"the file is over {MAX_IMAGE_BYTES // (1024 * 1024)} MB: its metadata is not read into memory")
    for name in ("exif", "xmp", "jpeg.tables"):
        found.checks.append(CheckRecord(name, CheckState.NOT_APPLICABLE if kind != "image" else CheckState.NOT_POSSIBLE,
                                        why))
    return _report(path, digest, size, kind, file_format, found, credentials, None)


def _report(path: str, digest: str, size: int, kind: str, file_format: str, found: Found,
            credentials: ContentCredentials | None, jpeg: JpegFacts | None) -> ProvenanceReport:
    # Strongest first; within one severity, in the order the checks found them.
    findings = sorted(found.findings, key=lambda f: -f.severity.rank)
    return ProvenanceReport(
        path=path, sha256=digest, size=size, media_kind=kind, file_format=file_format,
        inspected_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), tool_versions=all_versions(),
        findings=tuple(findings), checks=tuple(found.checks), credentials=credentials,
        jpeg=jpeg)
