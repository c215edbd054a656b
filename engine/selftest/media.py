"""Evidence the self-test makes itself: a still image (PNG) and a short clip (MP4, mp4v).

The clip goes through OpenCV's VideoWriter and back through the program's own decoder, so a
build whose OpenCV cannot write or read MP4 fails here rather than on an analyst's evidence.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from engine.errors import MediaError

CLIP_SIZE = (160, 120)  # width, height
CLIP_FRAMES = 12
CLIP_FPS = 12.0


def scene(width: int, height: int, phase: float = 0.0) -> np.ndarray:
    """Gradients and a moving disc: uint8 RGB with structure for resampling and rollout."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    red = 255 * x / max(width - 1, 1)
    green = 255 * y / max(height - 1, 1)
    blue = 127.5 + 127.5 * np.sin((x + 2 * y) / 9.0 + phase)
    disc = (x - width * (0.3 + 0.4 * phase / (2 * np.pi))) ** 2 + (y - height / 2) ** 2 < (min(width, height) / 5) ** 2
    rgb = np.stack([red, green, blue], axis=-1)
    rgb[disc] = (230, 30, 40)
    return rgb.clip(0, 255).astype(np.uint8)


def write_image(path: Path, width: int = 320, height: int = 240) -> Path:
    Image.fromarray(scene(width, height), "RGB").save(path)
    return path


def write_clip(path: Path, frames: int = CLIP_FRAMES) -> Path:
    """A one-second MP4 (mp4v) of the scene drifting; MediaError when OpenCV cannot write it."""
    import cv2

    width, height = CLIP_SIZE
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), CLIP_FPS, (width, height))
    if not writer.isOpened():
        raise MediaError(f"OpenCV cannot write an mp4v clip to {path.name} (no MP4 writer in this build)")
    try:
        for index in range(frames):
            rgb = scene(width, height, phase=2 * np.pi * index / frames)
            writer.write(np.ascontiguousarray(rgb[:, :, ::-1]))  # OpenCV takes BGR
    finally:
        writer.release()
    if not path.is_file() or path.stat().st_size == 0:
        raise MediaError(f"OpenCV wrote no data to {path.name}")
    return path
