"""The producer half of a run: decode evidence, find faces, preprocess pixels, fill a queue.

It runs on its own thread so decoding and face detection overlap inference on the calling
thread; the queue is bounded, so a fast decoder never piles up frames in memory. Decoded
images are dropped as soon as each model's input tensor is made. Any error while decoding
an item becomes an "error" message for that item and the feeder moves on.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import replace
from typing import Any, Mapping

import numpy as np

from engine.errors import EngineError
from engine.media.capture import DEFAULT_DECODER_THREADS
from engine.media.faces import FaceMode, make_face_detector
from engine.models.spec import ModelSpec
from engine.preprocess import preprocess
from engine.regions import EvidenceOutcome, evidence_regions

END = object()  # the last message: nothing more will come


class Feeder(threading.Thread):
    """Messages: ("regions", evidence_id, [Region], {model: (n,3,H,W) pixels}),
    ("decoded", evidence_id, EvidenceOutcome), ("error", evidence_id, stage, message), END."""

    def __init__(self, work: list[tuple[Any, tuple[str, ...]]], specs: Mapping[str, ModelSpec], *,
                 frames_per_clip: int, face_mode: str, face_margin: float, yunet_path: str | None,
                 out: "queue.Queue[Any]") -> None:
        super().__init__(name="dfw-feeder", daemon=True)
        self.work, self.specs, self.out = work, specs, out
        self.frames_per_clip, self.face_margin = frames_per_clip, face_margin
        self.face_mode = FaceMode(face_mode)
        self.detector = make_face_detector(yunet_path) if self.face_mode != FaceMode.OFF else None
        self.stop = threading.Event()
        # Read as each item starts, so the pipeline can correct it once it knows where
        # inference really runs (see `decoder_threads_for`).
        self.decoder_threads = DEFAULT_DECODER_THREADS

    @staticmethod
    def decoder_threads_for(provider: str) -> int:
        """Decoder threads when inference runs on `provider`.

        On the CPU, onnxruntime already keeps every core busy, so decoding can only take
        turns with it; FFmpeg's frame threading then costs about 10 % more CPU for the same
        frames (measured on 1080p MPEG-4), which is time taken from inference. With a GPU
        doing the inference the cores are free and two threads decode faster.
        """
        return 1 if provider == "cpu" else DEFAULT_DECODER_THREADS

    def _put(self, item: Any) -> bool:
        while not self.stop.is_set():
            try:
                self.out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _feed(self, evidence: Any, models: tuple[str, ...]) -> bool:
        outcome = EvidenceOutcome()
        try:
            for regions in evidence_regions(
                evidence, frames_per_clip=self.frames_per_clip, face_mode=self.face_mode, detector=self.detector,
                face_margin=self.face_margin, outcome=outcome, is_cancelled=self.stop.is_set,
                decoder_threads=self.decoder_threads,
            ):
                if not regions:
                    continue
                pixels = {name: np.stack([preprocess(r.image, self.specs[name].preprocess) for r in regions])
                          for name in models}
                light = [replace(region, image=None) for region in regions]
                if not self._put(("regions", evidence.id, light, pixels)):
                    return False
        except EngineError as exc:
            return self._put(("error", evidence.id, "decode", str(exc)))
        except Exception as exc:  # a decoder bug must not end the batch
            return self._put(("error", evidence.id, "decode", f"unexpected {type(exc).__name__}: {exc}"))
        return self._put(("decoded", evidence.id, outcome))

    def run(self) -> None:
        try:
            for evidence, models in self.work:
                if self.stop.is_set() or not self._feed(evidence, models):
                    return
        finally:
            self._put(END)
