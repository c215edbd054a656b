"""Pictures with known answers for the forensics tests, made here (no files shipped).

Textures are 1/f ("pink") noise made in the frequency domain, like the statistics of natural
photographs, with fine sensor-like grain on top; they are never resized, so they carry no
resampling pattern of their own.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image


def texture(height: int, width: int, seed: int = 0, grain: float = 3.0, channels: int = 3,
            lens: float = 1.0) -> np.ndarray:
    """uint8 (H, W, 3) picture: 1/f noise (std 40 around grey 128), softened as a lens would
    (Gaussian σ `lens`), plus white grain of std `grain`."""
    rng = np.random.default_rng(seed)
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    radius = np.sqrt(fx ** 2 + fy ** 2)
    radius[0, 0] = 1.0
    planes = []
    for _ in range(channels):
        spectrum = np.fft.rfft2(rng.standard_normal((height, width))) / radius
        plane = np.fft.irfft2(spectrum, s=(height, width))
        plane = (plane - plane.mean()) / plane.std() * 40 + 128
        if lens:
            plane = cv2.GaussianBlur(plane, (0, 0), lens)
        planes.append(plane)
    picture = np.stack(planes, axis=2) + rng.standard_normal((height, width, channels)) * grain
    return np.clip(np.rint(picture), 0, 255).astype(np.uint8)


def jpeg_bytes(rgb: np.ndarray, quality: int, **options) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=quality, **options)
    return out.getvalue()


def decoded(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def png_bytes(rgb: np.ndarray, **options) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "PNG", **options)
    return out.getvalue()


def tiff_ifd(entries: dict[int, tuple[int, object]], offset: int, next_ifd: int = 0) -> tuple[bytes, bytes]:
    """One little-endian IFD at `offset`: (directory bytes, the data its long values point to).
    `entries`: tag → (type, value); types 2 ASCII, 3 SHORT, 4 LONG, 5 RATIONAL (value a pair), 7 UNDEFINED."""
    import struct

    count = len(entries)
    data_at = offset + 2 + 12 * count + 4
    directory, data = [struct.pack("<H", count)], b""
    for tag in sorted(entries):
        kind, value = entries[tag]
        if kind == 2:
            raw = str(value).encode("ascii") + b"\0"
            n = len(raw)
        elif kind == 3:
            raw, n = struct.pack("<H", value), 1
        elif kind == 4:
            raw, n = struct.pack("<I", value), 1
        elif kind == 5:
            raw, n = struct.pack("<II", *value), 1
        else:
            raw = bytes(value)
            n = len(raw)
        if len(raw) <= 4:
            directory.append(struct.pack("<HHI", tag, kind, n) + raw.ljust(4, b"\0"))
        else:
            directory.append(struct.pack("<HHII", tag, kind, n, data_at + len(data)))
            data += raw + (b"\0" if len(raw) % 2 else b"")
    directory.append(struct.pack("<I", next_ifd))
    return b"".join(directory), data


def exif_block(main: dict[int, tuple[int, object]], exif: dict[int, tuple[int, object]] | None = None,
               thumbnail: bytes | None = None) -> bytes:
    """An APP1 EXIF payload ("Exif\\0\\0" + TIFF) with IFD0, an EXIF IFD and an IFD1 thumbnail."""
    header = b"II*\0" + (8).to_bytes(4, "little")

    def layout(exif_at: int, ifd1_at: int, thumb_at: int) -> tuple[bytes, int, int, int]:
        entries = dict(main)
        if exif is not None:
            entries[0x8769] = (4, exif_at)
        ifd0, data0 = tiff_ifd(entries, 8, ifd1_at if thumbnail else 0)
        body = header + ifd0 + data0
        new_exif_at = len(body)
        if exif is not None:
            directory, data = tiff_ifd(exif, new_exif_at)
            body += directory + data
        new_ifd1_at = len(body)
        if thumbnail:
            directory, data = tiff_ifd({0x0103: (3, 6), 0x0201: (4, thumb_at), 0x0202: (4, len(thumbnail))},
                                       new_ifd1_at)
            body += directory + data
            new_thumb_at = len(body)
            body += thumbnail
        else:
            new_thumb_at = 0
        return body, new_exif_at, new_ifd1_at, new_thumb_at

    body, exif_at, ifd1_at, thumb_at = layout(0, 0, 0)
    for _ in range(3):  # offsets depend on sizes that depend on offsets only through their count: settles at once
        body, exif_at2, ifd1_at2, thumb_at2 = layout(exif_at, ifd1_at, thumb_at)
        if (exif_at2, ifd1_at2, thumb_at2) == (exif_at, ifd1_at, thumb_at):
            break
        exif_at, ifd1_at, thumb_at = exif_at2, ifd1_at2, thumb_at2
    return b"Exif\0\0" + body


def xmp_packet(body: str) -> bytes:
    """An XMP packet around RDF `body` (descriptions), with the namespaces the checks read."""
    return ("<?xpacket begin=\"\ufeff\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>"
            "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" "
            "xmlns:Iptc4xmpExt=\"http://iptc.org/std/Iptc4xmpExt/2008-02-29/\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\" "
            "xmlns:xmpMM=\"http://ns.adobe.com/xap/1.0/mm/\" "
            "xmlns:stEvt=\"http://ns.adobe.com/xap/1.0/sType/ResourceEvent#\" "
            "xmlns:exif=\"http://ns.adobe.com/exif/1.0/\" xmlns:photoshop=\"http://ns.adobe.com/photoshop/1.0/\">"
            + body + "</rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>").encode("utf-8")
