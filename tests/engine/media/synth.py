"""Generated test media: clips that carry their own frame index, face-like patterns, bad files.

Nothing here is committed media; every file is written into a test's temporary folder. Frame
indices are drawn as a 4x4 grid of big black/white cells that survives lossy compression: the
top-left cell is always white and the other three corners always black (so a wrongly rotated
frame does not decode), the remaining 12 cells hold the index in binary.
"""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np

GRID = 4
_CORNERS = {(0, 0): 1, (0, GRID - 1): 0, (GRID - 1, 0): 0, (GRID - 1, GRID - 1): 0}
_BIT_CELLS = [(r, c) for r in range(GRID) for c in range(GRID) if (r, c) not in _CORNERS]
MAX_INDEX = (1 << len(_BIT_CELLS)) - 1

_INVERSE_ROTATE = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}


def draw_index(frame: np.ndarray, index: int) -> np.ndarray:
    """Paint index (0..4095) over the whole frame as a grid of black/white cells."""
    if not 0 <= index <= MAX_INDEX:
        raise ValueError(f"index {index} out of range")
    h, w = frame.shape[:2]
    values = dict(_CORNERS)
    for bit, cell in enumerate(_BIT_CELLS):
        values[cell] = (index >> bit) & 1
    for (r, c), v in values.items():
        y0, y1 = r * h // GRID, (r + 1) * h // GRID
        x0, x1 = c * w // GRID, (c + 1) * w // GRID
        frame[y0:y1, x0:x1] = 255 if v else 0
    return frame


def read_index(frame: np.ndarray) -> int | None:
    """The index drawn by draw_index, or None if the corner markers are wrong (e.g. rotated)."""
    grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape
    bits: dict[tuple[int, int], int] = {}
    for r in range(GRID):
        for c in range(GRID):
            y0, y1 = r * h // GRID, (r + 1) * h // GRID
            x0, x1 = c * w // GRID, (c + 1) * w // GRID
            dy, dx = (y1 - y0) // 4, (x1 - x0) // 4  # centre half of the cell only
            bits[(r, c)] = int(grey[y0 + dy : y1 - dy, x0 + dx : x1 - dx].mean() > 127)
    if any(bits[cell] != v for cell, v in _CORNERS.items()):
        return None
    return sum(bits[cell] << bit for bit, cell in enumerate(_BIT_CELLS))


def write_clip(path: Path, frames, fps: float, size: tuple[int, int], fourcc: str = "mp4v") -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    if not writer.isOpened():
        raise RuntimeError(f"VideoWriter cannot write {fourcc} to {path}")
    try:
        for frame in frames:
            writer.write(frame)
    finally:
        writer.release()
    return path


def make_indexed_clip(
    path: Path,
    n_frames: int,
    fps: float = 25.0,
    size: tuple[int, int] = (320, 240),
    fourcc: str = "mp4v",
    rotation: int = 0,
) -> Path:
    """A clip whose frame i shows index i when displayed; rotation via the MP4 tkhd matrix.

    With rotation, frames are stored turned back by the rotation, so that a player applying
    the metadata shows them upright; size is the displayed size.
    """
    w, h = size

    def frames():
        for i in range(n_frames):
            frame = draw_index(np.zeros((h, w, 3), np.uint8), i)
            yield cv2.rotate(frame, _INVERSE_ROTATE[rotation]) if rotation else frame

    stored = (h, w) if rotation in (90, 270) else (w, h)
    write_clip(path, frames(), fps, stored, fourcc)
    if rotation:
        set_mp4_rotation(path, rotation)
    return path


def _find_box(data: bytes | bytearray, box: bytes, start: int = 0) -> int:
    at = data.find(box, start)
    if at < 4:
        raise ValueError(f"no {box!r} box")
    return at - 4  # start of the box (size field)


def set_mp4_rotation(path: Path, rotation: int) -> None:
    """Patch the first track header's display matrix for a clockwise rotation (byte surgery)."""
    one = 0x10000
    matrices = {
        0: (one, 0, 0, one),
        90: (0, one, -one, 0),
        180: (-one, 0, 0, -one),
        270: (0, -one, one, 0),
    }
    a, b, c, d = matrices[rotation]
    data = bytearray(path.read_bytes())
    box = _find_box(data, b"tkhd")
    version = data[box + 8]
    # size, type, version/flags, times+track id+reserved+duration, reserved, layer..volume+reserved
    matrix_at = box + 8 + 4 + (32 if version == 1 else 20) + 8 + 8
    data[matrix_at : matrix_at + 36] = struct.pack(">9i", a, b, 0, c, d, 0, 0, 0, 0x40000000)
    path.write_bytes(bytes(data))


def mdat_payload(data: bytes | bytearray) -> tuple[int, int]:
    """(start, end) of the media data payload in an MP4 file made by VideoWriter."""
    box = _find_box(data, b"mdat")
    size = struct.unpack(">I", data[box : box + 4])[0]
    return box + 8, box + size


def zero_tail(path: Path, fraction: float) -> Path:
    """Overwrite the last `fraction` of the MP4 media data with zeros: a corrupt tail."""
    data = bytearray(path.read_bytes())
    start, end = mdat_payload(data)
    cut = start + int((end - start) * (1.0 - fraction))
    data[cut:end] = bytes(end - cut)
    path.write_bytes(bytes(data))
    return path


def zero_all_media(path: Path) -> Path:
    """Keep the MP4's index and headers but zero every frame: nothing decodes."""
    data = bytearray(path.read_bytes())
    start, end = mdat_payload(data)
    data[start:end] = bytes(end - start)
    path.write_bytes(bytes(data))
    return path


def draw_face(canvas: np.ndarray, centre: tuple[int, int], size: int, skin: int = 190) -> np.ndarray:
    """Draw a blurred face-like pattern (oval, eyes, brows, nose shade, mouth) that the
    OpenCV frontal-face Haar cascade detects; size is the face height in pixels (about)."""
    s = size / 290.0
    cx, cy = centre
    layer = canvas.copy()
    cv2.ellipse(layer, (cx, cy), (int(110 * s), int(145 * s)), 0, 0, 360, (skin, skin, skin), -1)
    for dx in (-45, 45):
        cv2.ellipse(layer, (cx + int(dx * s), cy - int(30 * s)), (int(26 * s), int(13 * s)), 0, 0, 360, (30, 30, 30), -1)
        cv2.ellipse(layer, (cx + int(dx * s), cy - int(62 * s)), (int(32 * s), int(7 * s)), 0, 0, 360, (60, 60, 60), -1)
    cv2.ellipse(layer, (cx, cy + int(25 * s)), (int(12 * s), int(30 * s)), 0, 0, 360, (150, 150, 150), -1)
    cv2.ellipse(layer, (cx, cy + int(80 * s)), (int(45 * s), int(14 * s)), 0, 0, 360, (50, 50, 90), -1)
    # Blur only around the face so that the rest of the canvas keeps its content.
    r = int(160 * s) + 8
    y0, y1 = max(0, cy - r), min(canvas.shape[0], cy + r)
    x0, x1 = max(0, cx - r), min(canvas.shape[1], cx + r)
    sigma = max(1.0, 3.0 * s * 400 / 290)
    layer[y0:y1, x0:x1] = cv2.GaussianBlur(layer[y0:y1, x0:x1], (0, 0), sigma)
    canvas[y0:y1, x0:x1] = layer[y0:y1, x0:x1]
    return canvas


def face_image(width: int = 640, height: int = 480, faces=((320, 240, 200),), background: int = 40) -> np.ndarray:
    """A BGR image with face-like patterns at (cx, cy, size) positions."""
    canvas = np.full((height, width, 3), background, np.uint8)
    for cx, cy, size in faces:
        draw_face(canvas, (cx, cy), size)
    return canvas


def make_face_clip(path: Path, n_frames: int = 40, fps: float = 10.0, size: tuple[int, int] = (640, 360),
                   tracks=((140, 180, 150, 2), (480, 180, 150, -2))) -> Path:
    """A clip with face patterns moving horizontally: tracks are (cx, cy, face size, dx/frame)."""
    w, h = size

    def frames():
        for i in range(n_frames):
            yield face_image(w, h, [(cx + dx * i, cy, fs) for cx, cy, fs, dx in tracks])

    return write_clip(path, frames(), fps, size)
