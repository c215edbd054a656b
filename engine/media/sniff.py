"""What a file really is, from its first bytes, never from its extension.

Used to route evidence to the image or video decoder and to name the real type of anything
unsupported ("a PDF document", "a ZIP archive") in the error the analyst sees.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

HEAD_BYTES = 256


@dataclass(frozen=True)
class Sniffed:
    kind: str  # "image", "video", "audio", "other", "empty"
    format: str  # short name: "jpeg", "png", "mp4", "pdf", "unknown", ...
    description: str  # for messages: "a JPEG image", "an MP4/QuickTime video"


_IMAGE_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\xff\xd8\xff", "jpeg", "a JPEG image"),
    (b"\x89PNG\r\n\x1a\n", "png", "a PNG image"),
    (b"GIF87a", "gif", "a GIF image"),
    (b"GIF89a", "gif", "a GIF image"),
    (b"BM", "bmp", "a BMP image"),
    (b"II*\x00", "tiff", "a TIFF image"),
    (b"MM\x00*", "tiff", "a TIFF image"),
)

_OTHER_SIGNATURES: tuple[tuple[bytes, str, str, str], ...] = (
    (b"\x1aE\xdf\xa3", "video", "matroska", "a Matroska/WebM video"),
    (b"FLV", "video", "flv", "an FLV video"),
    (b"\x00\x00\x01\xba", "video", "mpeg-ps", "an MPEG program stream"),
    (b"\x00\x00\x01\xb3", "video", "mpeg", "an MPEG video"),
    (b"ID3", "audio", "mp3", "an MP3 audio file"),
    (b"fLaC", "audio", "flac", "a FLAC audio file"),
    (b"OggS", "audio", "ogg", "an Ogg audio file"),
    (b"%PDF", "other", "pdf", "a PDF document"),
    (b"PK\x03\x04", "other", "zip", "a ZIP archive"),
    (b"\x1f\x8b", "other", "gzip", "a gzip archive"),
    (b"SQLite format 3\x00", "other", "sqlite", "an SQLite database"),
    (b"\x7fELF", "other", "elf", "an executable program"),
    (b"MZ", "other", "exe", "a Windows executable"),
)

# ISO base media (MP4, MOV, 3GP, HEIF, M4A): "ftyp" at offset 4, brand after it.
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P "}
_IMAGE_BRANDS = {b"heic", b"heix", b"mif1", b"msf1", b"avif", b"heim", b"heis"}


def describe_mode(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def sniff_bytes(head: bytes) -> Sniffed:
    if not head:
        return Sniffed("empty", "empty", "an empty file")
    for signature, fmt, description in _IMAGE_SIGNATURES:
        if head.startswith(signature):
            return Sniffed("image", fmt, description)
    if head[:4] == b"RIFF" and len(head) >= 12:
        riff_type = head[8:12]
        if riff_type == b"WEBP":
            return Sniffed("image", "webp", "a WebP image")
        if riff_type == b"AVI ":
            return Sniffed("video", "avi", "an AVI video")
        if riff_type == b"WAVE":
            return Sniffed("audio", "wav", "a WAV audio file")
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _AUDIO_BRANDS:
            return Sniffed("audio", "m4a", "an MPEG-4 audio file")
        if brand in _IMAGE_BRANDS:
            return Sniffed("other", "heif", "a HEIF/AVIF image (not supported)")
        return Sniffed("video", "mp4", "an MP4/QuickTime video")
    if len(head) >= 8 and head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip"):
        return Sniffed("video", "mov", "a QuickTime video")
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return Sniffed("video", "mpeg-ts", "an MPEG transport stream")
    if head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return Sniffed("audio", "mp3", "an MP3 audio file")
    for signature, kind, fmt, description in _OTHER_SIGNATURES:
        if head.startswith(signature):
            return Sniffed(kind, fmt, description)
    return Sniffed("other", "unknown", "a file of unknown type")


def sniff(path: str | os.PathLike) -> Sniffed:
    """Read the first bytes of a regular file (read-only) and say what it is."""
    with open(path, "rb") as handle:
        return sniff_bytes(handle.read(HEAD_BYTES))


def sniff_evidence(path: str | os.PathLike) -> Sniffed:
    """Like sniff(), but every way of failing to read the path becomes a MediaError.

    Missing files, folders, unreadable files and empty files are the commonest bad evidence;
    naming them here keeps the image and video decoders' messages the same.
    """
    from engine.errors import MediaError  # local: sniff stays importable on its own

    name = os.fspath(path)
    if not os.path.exists(name):
        raise MediaError(f"Evidence file not found: {name}")
    if os.path.isdir(name):
        raise MediaError(f"Evidence path is a folder, not a file: {name}")
    try:
        mode = os.stat(name).st_mode
    except OSError as exc:
        raise MediaError(f"Evidence file cannot be read ({exc.strerror or exc}): {name}") from exc
    if not stat.S_ISREG(mode):
        # Opening a FIFO or a device could block forever: refuse it unopened.
        raise MediaError(f"Evidence path is {describe_mode(mode)}, not a regular file: {name}")
    try:
        found = sniff(name)
    except PermissionError as exc:
        raise MediaError(f"Evidence file cannot be read (permission denied): {name}") from exc
    except OSError as exc:
        raise MediaError(f"Evidence file cannot be read ({exc.strerror or exc}): {name}") from exc
    if found.kind == "empty":
        raise MediaError(f"Evidence file is empty (0 bytes): {name}")
    return found
