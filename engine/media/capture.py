"""Opening OpenCV captures the same way everywhere: FFmpeg backend, capped threads, no auto-rotation.

OpenCV's automatic orientation handling changed its default across versions, so it is always
switched off here and rotation is applied by `rotate_frame` from the container's rotation
metadata; the result is the same on every OpenCV build. Decoder threads are capped so that
decoding video does not starve model inference running on the same CPU. Keyframe spacing is
estimated by reading packets without decoding them (OpenCV's raw stream mode), which lets the
sampler choose between seeking and sequential grabbing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import cv2
import numpy as np

from engine.errors import MediaError

DEFAULT_DECODER_THREADS = 2
# Packets read to estimate keyframe spacing; about 20 s of 30 fps video, read without decoding.
_KEYFRAME_SCAN_PACKETS = 600

_ROTATE = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


def _native_path(name: str) -> str:
    # OpenCV's FFmpeg backend on Windows takes narrow (ANSI) paths; the short 8.3 alias of a
    # non-ASCII path is pure ASCII and names the same file.
    if sys.platform != "win32" or name.isascii():
        return name
    import ctypes

    buffer = ctypes.create_unicode_buffer(32768)
    if ctypes.windll.kernel32.GetShortPathNameW(name, buffer, len(buffer)):
        return buffer.value
    return name


def new_capture(name: str, threads: int) -> cv2.VideoCapture:
    """A capture on the FFmpeg backend with capped decoder threads (check isOpened; release it)."""
    params = [cv2.CAP_PROP_N_THREADS, max(1, int(threads))]
    try:
        capture = cv2.VideoCapture(_native_path(name), cv2.CAP_FFMPEG, params)
    except cv2.error:
        capture = cv2.VideoCapture(_native_path(name), cv2.CAP_FFMPEG)
    return capture


@contextmanager
def open_capture(path: str | os.PathLike, threads: int = DEFAULT_DECODER_THREADS) -> Iterator[cv2.VideoCapture]:
    """An opened FFmpeg capture with auto-orientation off; always released on exit."""
    name = os.fspath(path)
    capture = new_capture(name, threads)
    try:
        if not capture.isOpened():
            raise MediaError(f"Video cannot be opened (damaged, or no video stream the decoder knows): {name}")
        capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)
        yield capture
    finally:
        capture.release()


def grabbed_position(capture: cv2.VideoCapture) -> tuple[int, float]:
    """(frame index, presentation time in seconds) of the frame the last grab() took.

    After grab(), POS_FRAMES counts frames up to and including the grabbed one, and
    POS_MSEC is that frame's presentation time. This is the index every result records.
    """
    return int(round(capture.get(cv2.CAP_PROP_POS_FRAMES))) - 1, capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0


def rotation_of(capture: cv2.VideoCapture) -> int:
    """Clockwise display rotation from container metadata, normalised to 0/90/180/270."""
    value = capture.get(cv2.CAP_PROP_ORIENTATION_META)
    if not np.isfinite(value):
        return 0
    degrees = int(round(value / 90.0)) * 90 % 360
    return degrees


def rotate_frame(frame: np.ndarray, rotation: int) -> np.ndarray:
    """Turn a decoded (stored-orientation) frame into its displayed orientation."""
    code = _ROTATE.get(rotation % 360)
    return frame if code is None else cv2.rotate(frame, code)


def fourcc_text(value: float) -> str:
    code = int(value) if np.isfinite(value) else 0
    if code <= 0:
        return "unknown"
    text = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4))
    return text if text.isprintable() else f"0x{code:08x}"


def estimate_keyframe_interval(path: str | os.PathLike, max_packets: int = _KEYFRAME_SCAN_PACKETS) -> int | None:
    """Median distance in frames between keyframes among the first packets, or None if unknown.

    A clip with a single keyframe in the scanned window reports the window length: seeking in it
    costs at least that much decoding.
    """
    name = os.fspath(path)
    capture = new_capture(name, 1)
    try:
        if not capture.isOpened() or not capture.set(cv2.CAP_PROP_FORMAT, -1):
            return None
        keys: list[int] = []
        packets = 0
        while packets < max_packets and capture.grab():
            if capture.get(cv2.CAP_PROP_LRF_HAS_KEY_FRAME) > 0:
                keys.append(packets)
            packets += 1
        if packets == 0 or not keys:
            return None
        if len(keys) == 1:
            return packets
        gaps = np.diff(np.asarray(keys))
        return int(np.median(gaps))
    except cv2.error:
        return None
    finally:
        capture.release()
