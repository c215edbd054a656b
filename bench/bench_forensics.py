"""Forensics speed: each map on a 12-megapixel photo, and what provenance findings cost per image.

A 4000×3000 photo-like picture is generated (1/f texture softened as a lens would, with
sensor grain; see tests/engine/forensics/scenes.py) and saved as a camera-style JPEG
(quality 92, EXIF with a thumbnail, XMP), as a PNG, and as the JPEG with signed content
credentials. Printed:

  (a) each forensic map (ela, noise, residual, spectrum) on the decoded picture: best and
      median of N runs (target ≤ 1 s each on a 2-core machine);
  (b) provenance findings (`inspect_file`) per file: the whole report, the part of it that
      is the double-compression hint (the one check that decodes pixels), and what intake
      would add per image through `provenance_metadata` (which skips that hint).

Run: python bench/bench_forensics.py [--runs 3] [--work DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from engine.forensics.double_jpeg import double_compression_hint  # noqa: E402
from engine.forensics.maps import KINDS, forensic_map  # noqa: E402
from engine.forensics.provenance import inspect_file  # noqa: E402
from engine.forensics.service import provenance_metadata  # noqa: E402
from tests.engine.forensics.credentials import AI_GENERATED, manifest, sign  # noqa: E402
from tests.engine.forensics.scenes import (  # noqa: E402
    exif_block,
    jpeg_bytes,
    png_bytes,
    texture,
    xmp_packet,
)

WIDTH, HEIGHT = 4000, 3000


def _timed(call, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def _files(work: Path) -> tuple[np.ndarray, dict[str, Path]]:
    start = time.perf_counter()
    picture = texture(HEIGHT, WIDTH, seed=12)
    thumb = np.asarray(Image.fromarray(picture).resize((160, 120), Image.Resampling.BOX))
    camera = {0x010F: (2, "Canon"), 0x0110: (2, "Canon EOS 5D Mark IV"), 0x0131: (2, "Firmware 1.0.4")}
    fields = {0x829A: (5, (1, 125)), 0x829D: (5, (28, 10)), 0x8827: (3, 400), 0x920A: (5, (50, 1)),
              0x9003: (2, "2021:06:01 12:00:00"), 0x9004: (2, "2021:06:01 12:00:00")}
    xmp = xmp_packet('<rdf:Description rdf:about="" xmp:CreatorTool="Firmware 1.0.4" '
                     'xmp:CreateDate="2021-06-01T12:00:00"/>')
    jpeg = jpeg_bytes(picture, 92, exif=exif_block(camera, fields, jpeg_bytes(thumb, 85)), xmp=xmp)
    paths = {"jpeg": work / "photo.jpg", "png": work / "photo.png", "jpeg+c2pa": work / "signed.jpg"}
    paths["jpeg"].write_bytes(jpeg)
    paths["png"].write_bytes(png_bytes(picture, compress_level=1))
    paths["jpeg+c2pa"].write_bytes(sign(jpeg, "image/jpeg", manifest(
        [{"action": "c2pa.created", "digitalSourceType": AI_GENERATED}], "signed.jpg")))
    print(f"made a {WIDTH}×{HEIGHT} picture and its files in {time.perf_counter() - start:.1f} s "
          f"(jpeg {paths['jpeg'].stat().st_size / 1e6:.1f} MB, png {paths['png'].stat().st_size / 1e6:.1f} MB)")
    return picture, paths


def bench_maps(picture: np.ndarray, runs: int) -> None:
    print(f"\n(a) forensic maps of the {WIDTH}×{HEIGHT} picture, {runs} runs each (target ≤ 1 s):")
    for kind in KINDS:
        best, median = _timed(lambda kind=kind: forensic_map(picture, kind), runs)
        print(f"  {kind:<9} best {best:.3f} s   median {median:.3f} s   {'ok' if median <= 1.0 else 'OVER TARGET'}")


def bench_provenance(paths: dict[str, Path], runs: int) -> None:
    print(f"\n(b) provenance findings per file (inspect_file: read, hash, every check), {runs} runs each:")
    for name, path in paths.items():
        best, median = _timed(lambda path=path: inspect_file(path), runs)
        print(f"  {name:<10} best {best:.3f} s   median {median:.3f} s")
    data = paths["jpeg"].read_bytes()
    hint = _timed(lambda: double_compression_hint(data, tuple([1] * 64)), runs)
    print(f"  of which the double-compression hint (decodes the luminance): best {hint[0]:.3f} s")
    print("  at intake (provenance_metadata: the same without that hint):")
    for name, path in paths.items():
        best, median = _timed(lambda path=path: provenance_metadata(path, hashlib.sha256(path.read_bytes()).hexdigest()),
                              runs)
        print(f"  {name:<10} best {best:.3f} s   median {median:.3f} s  (hashing for the call included)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", help="folder for the generated files (default: a temporary one)")
    args = parser.parse_args()
    print(f"bench_forensics on {os.cpu_count()} CPU cores")
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(args.work or temporary)
        work.mkdir(parents=True, exist_ok=True)
        picture, paths = _files(work)
        bench_maps(picture, args.runs)
        bench_provenance(paths, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
