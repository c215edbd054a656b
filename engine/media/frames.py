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
from engine.media.capture import grabbed_position, new_capture, open_capture, rotate_frame, rotation_of

__all__ = ["ClipReader", "read_frame"]

# Frames ahead of the last one read that are cheaper to reach by decoding forward than by seeking.
FORWARD_LIMIT = 48


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


def _checked_index(frame_index: object) -> int:
    if isinstance(frame_index, bool) or not isinstance(frame_index, (int, np.integer)) or frame_index < 0:
        raise MediaError(f"frame index must be a whole number ≥ 0, got {frame_index!r}")
    return int(frame_index)


def _retrieved(capture: cv2.VideoCapture, rotation: int) -> np.ndarray | None:
    ok, frame = capture.retrieve()
    if not ok or frame is None or frame.size == 0:
        return None
    if frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    return rotate_frame(frame, rotation)


class ClipReader:
    """One clip kept open for reading frame after frame, as a viewer steps through it.

    Stepping forward by a few frames decodes forward from where the capture stands instead
    of seeking again; anything else seeks; a seek that lands wrong falls back to
    `read_frame`'s exact path. Same frames, same indices as `read_frame`, only faster when
    they come in order. Not thread-safe: one reader per thread.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        self._capture: cv2.VideoCapture | None = None
        self._rotation = 0
        self._last = -1

    def frame(self, frame_index: int) -> np.ndarray:
        target = _checked_index(frame_index)
        if self._capture is not None and target <= self._last:
            self.close()  # backwards: start again rather than trust a backward seek
        if self._capture is None:
            capture = new_capture(self.path, 1)
            if not capture.isOpened():
                raise MediaError(f"Video cannot be opened (damaged, or no video stream the decoder knows): {self.path}")
            capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)
            self._capture, self._rotation, self._last = capture, rotation_of(capture), -1
        capture = self._capture
        if _grab_to(capture, target, seek=target - self._last > FORWARD_LIMIT):
            self._last = target
            frame = _retrieved(capture, self._rotation)
            if frame is not None:
                return frame
        self.close()  # the capture's position is unknown now
        return read_frame(self.path, target)

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


def read_frame(path: str | os.PathLike, frame_index: int) -> np.ndarray:
    """The frame `frame_index` of a video as uint8 BGR (H, W, 3), rotated as displayed.

    Raises MediaError when the clip cannot be opened or that frame cannot be decoded.
    """
    name = os.fspath(path)
    target = _checked_index(frame_index)
    for seek in (True, False):
        with open_capture(name) as capture:
            if _grab_to(capture, target, seek):
                frame = _retrieved(capture, rotation_of(capture))
                if frame is not None:
                    return frame
    raise MediaError(f"frame {target} of {name} cannot be decoded")
