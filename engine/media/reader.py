"""Frames of evidence files for display: the exact frame a score refers to, from the file the case recorded.

Before a file is decoded its SHA-256 is checked against the case's record, so a viewer never
shows a changed file's pixels as the evidence. Hashing a long clip at every frame step would
make stepping slow, so a match is remembered with the file's identity (device, inode, size,
modification time); any change to those hashes the file again. Frames come out as uint8
RGB in displayed orientation (EXIF orientation or container rotation applied), indexed by
the decoder's own frame index, the one every result records. Files are only ever read.
"""

from __future__ import annotations

import os
from typing import Protocol

import numpy as np

from engine.case.files import check_regular, hash_regular_file
from engine.errors import MediaError
from engine.media.frames import ClipReader
from engine.media.image import load_image
from engine.media.video import sample_frames

_Identity = tuple[int, int, int, int]


class EvidenceFile(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def path_resolved(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    @property
    def media_kind(self) -> str | None: ...


def _identity(path: str) -> _Identity:
    info = check_regular(path)
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


class EvidenceReader:
    """Decodes frames of evidence items after checking each file still has its recorded hash."""

    def __init__(self) -> None:
        self._matched: dict[tuple[int, str], _Identity] = {}
        self._image: tuple[tuple[int, str], np.ndarray] | None = None  # the last still image decoded
        self._clip: tuple[tuple[int, str], ClipReader] | None = None  # the clip being stepped through

    def check(self, evidence: EvidenceFile) -> None:
        """Raise MediaError unless the file is there and still has the SHA-256 the case recorded."""
        key = (evidence.id, evidence.sha256)
        path = evidence.path_resolved
        try:
            identity = _identity(path)
        except Exception as exc:  # CaseError from check_regular: missing, not a file, unreadable
            raise MediaError(f"evidence {evidence.id} cannot be shown: {exc}") from None
        if self._matched.get(key) == identity:
            return
        self._matched.pop(key, None)
        actual = hash_regular_file(path).sha256
        if actual != evidence.sha256:
            raise MediaError(f"evidence {evidence.id} changed since it was added to the case ({path}: SHA-256 "
                             f"{actual[:16]}… instead of {evidence.sha256[:16]}…); it is not shown")
        self._matched[key] = identity

    def frame(self, evidence: EvidenceFile, frame_index: int) -> np.ndarray:
        """Frame `frame_index` (0 for an image) as uint8 RGB (H, W, 3)."""
        self.check(evidence)
        path = evidence.path_resolved
        if evidence.media_kind == "image":
            if frame_index != 0:
                raise MediaError(f"an image has one frame (0), not frame {frame_index}")
            key = (evidence.id, evidence.sha256)
            if self._image is None or self._image[0] != key:
                self._image = (key, np.ascontiguousarray(np.asarray(load_image(path).rgb)))
            return self._image[1]
        if evidence.media_kind == "video":
            key = (evidence.id, evidence.sha256)
            if self._clip is None or self._clip[0] != key:
                self.close()
                self._clip = (key, ClipReader(path))
            return np.ascontiguousarray(self._clip[1].frame(frame_index)[:, :, ::-1])
        raise MediaError(f"evidence {evidence.id} is not an image or a video")

    def close(self) -> None:
        if self._clip is not None:
            self._clip[1].close()
            self._clip = None


def thumbnail(path: str | os.PathLike, media_kind: str | None, size: int) -> np.ndarray:
    """A preview no larger than `size` × `size` (uint8 RGB): the image, or a clip's middle frame.

    For the evidence table only; it checks no hash (the viewer does, before it shows a frame).
    """
    from PIL import Image

    name = os.fspath(path)
    if media_kind == "image":
        picture = load_image(name).rgb
    elif media_kind == "video":
        middle = next(iter(sample_frames(name, 1)))
        picture = Image.fromarray(np.ascontiguousarray(middle.image_bgr[:, :, ::-1]), "RGB")
    else:
        raise MediaError(f"{name} is not an image or a video")
    picture.thumbnail((size, size), Image.Resampling.BILINEAR)
    return np.ascontiguousarray(np.asarray(picture.convert("RGB")))
