"""One decoded video frame by its index, in displayed orientation: what a report shows beside a score.

The index is the decoder's own frame index, the same one `sample_frames` records, so the frame
read back is the frame that was scored. A seek lands on or before the target on most builds; it
walks forward from there, and when a seek overshoots (some containers) it falls back to reading
sequentially from the start, which is slow but exact. The file is only ever opened for reading.
"""

from __future__ import annotations

import os

import cv2
import numpy as np

from engine.errors import MediaError
from engine.media.capture import grabbed_position, open_capture, rotate_frame, rotation_of

__all__ = ["read_frame"]


def _grab_to(capture: cv2.VideoCapture, target: int, seek: bool) -> bool:
    if seek and target > 0:
        capture.set(cv2.CAP_PROP_POS_FRAMES, target)
    if not capture.grab():
        return False
    index = grabbed_position(capture)[0]
    while index < target:
        if not capture.grab():
            return False
        index = grabbed_position(capture)[0]
    return index == target


def read_frame(path: str | os.PathLike, frame_index: int) -> np.ndarray:
    """The frame `frame_index` of a video as uint8 BGR (H, W, 3), rotated as displayed.

    Raises MediaError when the clip cannot be opened or that frame cannot be decoded.
    """
    name = os.fspath(path)
    if isinstance(frame_index, bool) or not isinstance(frame_index, (int, np.integer)) or frame_index < 0:
        raise MediaError(f"frame index must be a whole number ≥ 0, got {frame_index!r}")
    target = int(frame_index)
    for seek in (True, False):
        with open_capture(name) as capture:
            rotation = rotation_of(capture)
            if not _grab_to(capture, target, seek):
                continue
            ok, frame = capture.retrieve()
            if not ok or frame is None or frame.size == 0:
                continue
            if frame.ndim == 2:
                frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
            return rotate_frame(frame, rotation)
    raise MediaError(f"frame {target} of {name} cannot be decoded")
