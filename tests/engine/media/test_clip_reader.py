"""ClipReader: the same frames as read_frame, in any order, from one open capture."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import MediaError
from engine.media.frames import FORWARD_LIMIT, ClipReader, read_frame
from tests.engine.media.synth import make_indexed_clip, read_index


@pytest.mark.parametrize("rotation", [0, 90])
def test_any_order_gives_the_frames_read_frame_gives(tmp_path, rotation):
    clip = make_indexed_clip(tmp_path / "clip.mp4", FORWARD_LIMIT * 3, rotation=rotation)
    reader = ClipReader(clip)
    order = [0, 1, 2, 5, 5, 3, FORWARD_LIMIT + 20, FORWARD_LIMIT * 3 - 1, 7, 140, 141]
    try:
        for index in order:
            frame = reader.frame(index)
            assert read_index(frame) == index
            np.testing.assert_array_equal(frame, read_frame(clip, index))
    finally:
        reader.close()


def test_bad_indices_and_files(tmp_path):
    clip = make_indexed_clip(tmp_path / "clip.mp4", 10)
    reader = ClipReader(clip)
    with pytest.raises(MediaError, match="whole number"):
        reader.frame(-1)
    with pytest.raises(MediaError, match="cannot be decoded"):
        reader.frame(500)
    reader.close()
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00" * 1000)
    with pytest.raises(MediaError, match="cannot be opened"):
        ClipReader(garbage).frame(0)
