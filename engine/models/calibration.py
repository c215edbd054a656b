"""Calibration images for checking a quantized variant: files the user names, or a case's evidence
(`Case.calibration` gives that from the case's own open store).

Images are decoded with the engine's own loader and videos sampled with its frame sampler,
exactly as a scoring run would see them, so the check measures the variant on the pixels it
will really be given. Files are only read. An unreadable item is skipped and named, never a
crash; the set is consumed lazily so a few hundred frames never sit in memory at once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from PIL import Image

from engine.errors import EngineError
from engine.media.image import image_from_bgr, load_image
from engine.models.preprocess import PreprocessRecipe, check_resizable
from engine.media.sniff import sniff


@dataclass
class CalibrationSet:
    """Image and video files to draw calibration images from, and what was skipped."""

    files: list[tuple[str, str]]  # (path, "image" | "video")
    source: str
    frames_per_video: int = 8
    max_images: int = 256
    skipped: list[str] = field(default_factory=list)

    @property
    def expected_count(self) -> int:
        per_file = sum(1 if kind == "image" else self.frames_per_video for _, kind in self.files)
        return min(per_file, self.max_images)

    def images(self, recipe: PreprocessRecipe | None = None) -> Iterator[Image.Image]:
        """Decoded calibration images; with `recipe`, those it cannot resize are skipped too."""
        produced = 0
        for path, kind in self.files:
            if produced >= self.max_images:
                return
            try:
                if kind == "image":
                    decoded = [load_image(path).rgb]
                else:
                    from engine.media.video import sample_frames  # noqa: PLC0415 - OpenCV only when needed

                    wanted = min(self.frames_per_video, self.max_images - produced)
                    decoded = [image_from_bgr(frame.image_bgr) for frame in sample_frames(path, wanted)]
                if recipe is not None:
                    for image in decoded:
                        check_resizable(image.size, recipe)
            except EngineError as exc:
                self.skipped.append(f"{Path(path).name}: {exc}")
                continue
            for image in decoded[: self.max_images - produced]:
                produced += 1
                yield image


def _classify(paths: Iterable[str], skipped: list[str]) -> list[tuple[str, str]]:
    files = []
    for path in paths:
        try:
            kind = sniff(path).kind
        except (EngineError, OSError) as exc:
            skipped.append(f"{Path(path).name}: {exc}")
            continue
        if kind in ("image", "video"):
            files.append((path, kind))
        else:
            skipped.append(f"{Path(path).name}: not an image or video")
    return files


def calibration_from_paths(paths: Iterable[str | os.PathLike], *, frames_per_video: int = 8,
                           max_images: int = 256) -> CalibrationSet:
    """Files and folders (walked, sorted) the user points at."""
    expanded: list[str] = []
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            expanded.extend(str(p) for p in sorted(path.rglob("*")) if p.is_file() and not p.is_symlink())
        else:
            expanded.append(str(path))
    skipped: list[str] = []
    files = _classify(expanded, skipped)
    source = f"{len(files)} files given by the user"
    return CalibrationSet(files, source, frames_per_video, max_images, skipped)


def calibration_from_evidence(evidence: Iterable[Any], source: str, *, frames_per_video: int = 8,
                              max_images: int = 256) -> CalibrationSet:
    """A case's evidence items (images and videos; anything else is listed as skipped)."""
    items = list(evidence)
    files = [(item.path_resolved, item.media_kind) for item in items if item.media_kind in ("image", "video")]
    skipped = [f"{Path(item.path_resolved).name}: {item.media_kind or 'unknown'} evidence, not an image or video"
               for item in items if item.media_kind not in ("image", "video")]
    return CalibrationSet(files, f"{source} ({len(files)} files)", frames_per_video, max_images, skipped)
