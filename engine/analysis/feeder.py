"""The producer half of a run: decode evidence, find faces, preprocess pixels, fill a queue.

It runs on its own thread so decoding and face detection overlap inference on the calling
thread; the queue is bounded, so a fast decoder never piles up frames in memory. Decoded
images are dropped as soon as each model's input tensor is made. Any error while decoding
an item becomes an "error" message for that item and the feeder moves on.
"""

from __future__ import annotations

import os
import queue
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from PIL import Image

from engine.errors import EngineError, MediaError
from engine.media.capture import DEFAULT_DECODER_THREADS
from engine.media.face_store import FaceDetectorStore
from engine.media.faces import FaceDetector, FaceMode, make_face_detector
from engine.models.spec import ModelSpec
from engine.models.preprocess import preprocess
from engine.analysis.regions import EvidenceOutcome, Region, evidence_regions
from engine.analysis.turns import CpuTurns
from engine.vocab import FailureStage

END = object()  # the last message: nothing more will come
MAX_DECODE_WORKERS = 4  # parallel captures per clip; more only multiplies decoder memory


@dataclass(frozen=True)
class DecodePlan:
    threads: int = DEFAULT_DECODER_THREADS  # FFmpeg threads per capture
    workers: int = 1  # captures sampling one clip in parallel


def _pixels_of(region: Region) -> Image.Image:
    if region.image is None:  # only a region already preprocessed has none
        raise AssertionError(f"region of frame {region.frame_index} has no pixels left")
    return region.image


class Feeder(threading.Thread):
    """Messages: ("regions", evidence_id, [Region], {model: (n,3,H,W) pixels}),
    ("decoded", evidence_id, EvidenceOutcome), ("error", evidence_id, stage, message), END."""

    def __init__(self, work: list[tuple[Any, tuple[str, ...]]], specs: Mapping[str, ModelSpec], *,
                 frames_per_clip: int, face_mode: str, face_margin: float, yunet_path: str | None,
                 out: "queue.Queue[Any]", yunet_sha256: str | None = None,
                 face_detector: tuple[Path, str, str | None] | None = None,
                 skip_through: Mapping[int, int] | None = None, turns: CpuTurns | None = None) -> None:
        """`face_detector`: (app home, name, SHA-256 the run recorded) of an imported face detector.
        `skip_through`: evidence id → the last frame a resume already holds; those frames are
        decoded and searched for faces again (so tracks and counts come out as in one go) but
        not preprocessed or sent. `turns`: shared with the pipeline, which holds it while it runs
        inference on the CPU; decoding and face search wait for it (engine.analysis.turns)."""
        super().__init__(name="dfw-feeder", daemon=True)
        self.work, self.specs, self.out = work, specs, out
        self.skip_through = dict(skip_through or {})
        self.frames_per_clip, self.face_margin = frames_per_clip, face_margin
        self.face_mode = FaceMode(face_mode)
        self.detector: FaceDetector | None = None
        if self.face_mode != FaceMode.OFF and face_detector is not None:
            home, name, sha256 = face_detector
            self.detector = FaceDetectorStore(home).load(name, sha256)  # hashes the bytes it builds from
        elif self.face_mode != FaceMode.OFF:
            self.detector = make_face_detector(yunet_path)
        if self.detector is not None and yunet_sha256 and self.detector.name != f"yunet:{yunet_sha256[:12]}":
            # The file was hashed when the run was planned; it must still be that file.
            raise MediaError(f"the YuNet face model changed after it was checked ({self.detector.name}, expected "
                             f"yunet:{yunet_sha256[:12]}); start the run again")
        # What the run records of its face detector: kind, name, file SHA-256, thresholds.
        self.detector_record = self.detector.record() if self.detector is not None else None
        self.stop = threading.Event()
        self.turns = turns if turns is not None else CpuTurns()
        # Read as each item starts, so the pipeline can correct it once it knows where
        # inference really runs (see `decoding_for`).
        self.decoding = DecodePlan()

    @staticmethod
    def decoding_for(provider: str, cpus: int | None = None) -> "DecodePlan":
        """How to decode video when inference runs on `provider`.

        A clip sampled by seeking is shared among up to one capture per CPU: every capture
        decodes different frames, so the CPU spent is the same as with one, but a light model
        no longer waits on a single decoding core (1.75× faster end to end for a small ViT on
        a 1080p clip with 2 cores, unchanged for ViT-B, which keeps both cores busy anyway).
        FFmpeg's own frame threading is kept for GPU runs only: on the CPU, where onnxruntime
        uses every core, it just costs about 10 % more CPU for the same frames.
        """
        cpus = cpus or os.cpu_count() or 1
        workers = max(1, min(MAX_DECODE_WORKERS, cpus))
        return DecodePlan(threads=1 if provider == "cpu" else DEFAULT_DECODER_THREADS, workers=workers)

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
        skip_through = self.skip_through.get(evidence.id, -1)
        try:
            for regions in evidence_regions(
                evidence, frames_per_clip=self.frames_per_clip, face_mode=self.face_mode, detector=self.detector,
                face_margin=self.face_margin, outcome=outcome, is_cancelled=self.stop.is_set,
                decoder_threads=self.decoding.threads, decoder_workers=self.decoding.workers,
                detector_record=self.detector_record, wait_turn=self.turns.decoding,
            ):
                if not regions or regions[0].frame_index <= skip_through:
                    continue
                images = [_pixels_of(r) for r in regions]
                with self.turns.decoding(self.stop.is_set):
                    pixels = {name: np.stack([preprocess(image, self.specs[name].preprocess) for image in images])
                              for name in models}
                light = [replace(region, image=None) for region in regions]
                if not self._put(("regions", evidence.id, light, pixels)):
                    return False
        except EngineError as exc:
            return self._put(("error", evidence.id, FailureStage.DECODE, str(exc)))
        except Exception as exc:  # a decoder bug must not end the batch
            return self._put(("error", evidence.id, FailureStage.DECODE, f"unexpected {type(exc).__name__}: {exc}"))
        return self._put(("decoded", evidence.id, outcome))

    def run(self) -> None:
        try:
            for evidence, models in self.work:
                if self.stop.is_set() or not self._feed(evidence, models):
                    return
        finally:
            self._put(END)
