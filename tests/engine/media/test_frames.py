"""read_frame gives back exactly the frame the decoder numbered, upright, without touching the file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.errors import MediaError
from engine.media.frames import read_frame
from engine.media.video import sample_frames
from tests.engine.media import synth


@pytest.mark.parametrize("index", [0, 1, 17, 59])
def test_reads_the_numbered_frame(tmp_path: Path, index: int) -> None:
    clip = synth.make_indexed_clip(tmp_path / "clip.mp4", 60)
    frame = read_frame(clip, index)
    assert frame.shape == (240, 320, 3)
    assert synth.read_index(frame) == index


def test_matches_sampled_frames(tmp_path: Path) -> None:
    clip = synth.make_indexed_clip(tmp_path / "clip.mp4", 90)
    for sampled in sample_frames(clip, 5):
        again = read_frame(clip, sampled.frame_index)
        assert synth.read_index(again) == synth.read_index(sampled.image_bgr) == sampled.frame_index


@pytest.mark.parametrize("rotation", [90, 270])
def test_rotation_is_applied(tmp_path: Path, rotation: int) -> None:
    clip = synth.make_indexed_clip(tmp_path / "r.mp4", 30, size=(320, 240), rotation=rotation)
    frame = read_frame(clip, 12)
    assert frame.shape == (240, 320, 3)
    assert synth.read_index(frame) == 12


def test_bad_index_and_bad_files(tmp_path: Path) -> None:
    clip = synth.make_indexed_clip(tmp_path / "clip.mp4", 10)
    stamp = os.stat(clip).st_mtime_ns
    with pytest.raises(MediaError, match="cannot be decoded"):
        read_frame(clip, 500)
    with pytest.raises(MediaError, match="whole number"):
        read_frame(clip, -1)
    noise = tmp_path / "noise.mp4"
    noise.write_bytes(os.urandom(3000))
    with pytest.raises(MediaError):
        read_frame(noise, 0)
    assert os.stat(clip).st_mtime_ns == stamp
