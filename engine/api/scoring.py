"""`Scorer`: one model scoring image files without a case, as `main.py score` does.

Each image is decoded on its own, a batch at a time, so a long list never sits decoded in
memory; one that cannot be read (or that gives non-finite outputs) gets its error and the
others are still scored. Labels come highest first, as the Hugging Face
`image-classification` pipeline prints them.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from engine.api.records import ImageScore
from engine.errors import Cancelled, EngineError
from engine.media.image import load_image
from engine.models.inference import ModelRunner
from engine.models.preprocess import preprocess
from engine.models.quantize import describe_quantization
from engine.models.spec import ModelSpec
from engine.util.progress import IsCancelled, Progress


class Scorer:
    """A loaded model (its ONNX session built) and what really runs it."""

    def __init__(self, spec: ModelSpec, provider: str = "auto", batch_size: int = 8) -> None:
        self.spec = spec
        self.runner = ModelRunner(spec, provider, batch_size=batch_size)

    @property
    def provider(self) -> str:
        return self.runner.provider

    @property
    def ran_on(self) -> str:
        return self.runner.ran_on

    @property
    def notes(self) -> tuple[str, ...]:
        """Provider fallback and quantization figures, one line each."""
        notes = []
        if self.runner.info.fallback_reason:
            notes.append(self.runner.info.fallback_reason)
        if "quantization" in self.spec.extras:
            notes.append(f"{self.spec.name} {self.spec.variant}: "
                         f"{describe_quantization(dict(self.spec.extras['quantization']))}")
        return tuple(notes)

    def score(self, paths: Sequence[str], top_k: int | None = None, progress: Progress | None = None,
              is_cancelled: IsCancelled | None = None) -> list[ImageScore]:
        """One ImageScore per path, in order."""
        spec, runner = self.spec, self.runner
        results: list[ImageScore | None] = [None] * len(paths)
        step = runner.requested_batch_size
        for start in range(0, len(paths), step):
            if is_cancelled is not None and is_cancelled():
                raise Cancelled(f"scoring cancelled after {start} of {len(paths)} images")
            ready: list[tuple[int, np.ndarray]] = []
            for index in range(start, min(start + step, len(paths))):
                try:
                    ready.append((index, preprocess(load_image(paths[index]).rgb, spec.preprocess)))
                except (EngineError, OSError) as exc:
                    results[index] = ImageScore(paths[index], spec.name, error=str(exc))
            logits = runner.logits_from_pixels(np.stack([pixels for _, pixels in ready])) if ready else np.zeros((0, 0))
            for (index, _), row in zip(ready, logits):
                try:
                    (prediction,) = runner.predictions_from_logits(row[None, :])
                except EngineError as exc:  # non-finite outputs for this image
                    results[index] = ImageScore(paths[index], spec.name, error=str(exc))
                    continue
                results[index] = ImageScore(paths[index], spec.name, runner.provider,
                                            tuple(prediction.ranked(top_k)), prediction.p_manipulated)
            done = min(start + step, len(paths))
            if progress:
                progress(done, len(paths), paths[done - 1])
        return [result for result in results if result is not None]
