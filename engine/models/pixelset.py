"""Calibration pixels preprocessed once and kept on disk, so several variants can be measured
on exactly the same inputs without holding them all in memory (SigLIP-512 pixels are 3 MB an
image) or decoding the images again (a case's evidence is read only once)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Iterable

import numpy as np
from PIL import Image

from engine.errors import Cancelled, ModelError
from engine.models.preprocess import preprocess_batch
from engine.models.runtime import run_batched
from engine.models.spec import ModelSpec
from engine.util.progress import IsCancelled, Progress

CHUNK_IMAGES = 16  # images preprocessed and stored at a time


class PixelSet:
    """The model inputs of a calibration set, in chunks of `CHUNK_IMAGES` saved as .npy files."""

    def __init__(self, spec: ModelSpec, images: Iterable[Image.Image], *, progress: Progress | None = None,
                 total: int | None = None, is_cancelled: IsCancelled | None = None) -> None:
        self.spec = spec
        self._folder = tempfile.TemporaryDirectory(prefix="dfw-calibration-")
        self.chunks: list[Path] = []
        self.count = 0
        chunk: list[Image.Image] = []
        for image in images:
            chunk.append(image)
            if len(chunk) == CHUNK_IMAGES:
                self._store(chunk, is_cancelled)
                chunk = []
                if progress:
                    progress(self.count, total or self.count, f"{self.count} images")
        if chunk:
            self._store(chunk, is_cancelled)
        if not self.count:
            self.close()
            raise ModelError("no calibration images: give --images or --case with usable images or videos")

    def _store(self, chunk: list[Image.Image], is_cancelled: IsCancelled | None) -> None:
        if is_cancelled is not None and is_cancelled():
            self.close()
            raise Cancelled(f"preparing calibration images for {self.spec.name!r} cancelled after {self.count}")
        path = Path(self._folder.name) / f"chunk{len(self.chunks):05d}.npy"
        np.save(path, preprocess_batch(chunk, self.spec.preprocess))
        self.chunks.append(path)
        self.count += len(chunk)

    def logits(self, session: Any, batch_size: int, is_cancelled: IsCancelled | None = None,
               lanes: int = 1) -> np.ndarray:
        """The session's logits for every image, in order (`lanes` as in `run_batched`)."""
        out = []
        for path in self.chunks:
            if is_cancelled is not None and is_cancelled():
                raise Cancelled(f"measuring a variant of {self.spec.name!r} cancelled")
            (logits,) = run_batched(session, self.spec.input_name, np.load(path, mmap_mode="r"), batch_size,
                                    output_names=[self.spec.output_name], fixed_batch=self.spec.fixed_batch,
                                    lanes=lanes)
            out.append(logits)
        return np.concatenate(out)

    def close(self) -> None:
        self._folder.cleanup()

    def __enter__(self) -> "PixelSet":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
