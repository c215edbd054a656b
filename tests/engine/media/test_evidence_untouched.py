"""Every media operation leaves evidence files byte-identical with their mtime unchanged."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from engine.errors import MediaError
from engine.util.hashing import sha256_file
from engine.media.capture import estimate_keyframe_interval
from engine.media.faces import HaarFaceDetector, square_crop
from engine.media.image import load_image
from engine.media.metadata import read_image_metadata
from engine.media.video import SamplingReport, probe, sample_frames
from tests.engine.media import synth

_OLD_MTIME_NS = 1_500_000_000_123_456_789  # a fixed past time: any touch would move it


def _corpus(folder: Path) -> list[Path]:
    files = []
    jpg = folder / "photo ü.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(synth.face_image(320, 240, [(160, 120, 150)])[:, :, ::-1]).save(jpg, exif=exif)
    files.append(jpg)
    gif = folder / "anim.gif"
    frames = [Image.new("RGB", (8, 8), (v, v, v)) for v in (0, 255)]
    frames[0].save(gif, save_all=True, append_images=frames[1:])
    files.append(gif)
    files.append(synth.make_indexed_clip(folder / "clip.mp4", 60, rotation=90))
    files.append(synth.zero_tail(synth.make_indexed_clip(folder / "tail.mp4", 60), 0.5))
    files.append(synth.make_face_clip(folder / "faces.mp4", n_frames=12))
    bad = folder / "noise.mp4"
    bad.write_bytes(os.urandom(2048))
    files.append(bad)
    for path in files:
        os.utime(path, ns=(_OLD_MTIME_NS, _OLD_MTIME_NS))
    return files


def test_all_operations_leave_evidence_untouched(tmp_path: Path) -> None:
    files = _corpus(tmp_path)
    before = {p: (sha256_file(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files}
    detector = HaarFaceDetector()
    outcomes = []
    for path in files:
        for operation in (load_image, read_image_metadata, probe, estimate_keyframe_interval):
            try:
                operation(path)
                outcomes.append("ok")
            except MediaError:
                outcomes.append("error")
        try:
            for frame in sample_frames(path, 5, report=SamplingReport()):
                for box in detector.detect(frame.image_bgr):
                    square_crop(frame.image_bgr, box)
            outcomes.append("ok")
        except MediaError:
            outcomes.append("error")
    assert "ok" in outcomes and "error" in outcomes  # both paths were exercised
    after = {p: (sha256_file(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files}
    assert after == before
    assert all(p.stat().st_mtime_ns == _OLD_MTIME_NS for p in files)
