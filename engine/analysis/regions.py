"""Evidence → the regions a detector scores: whole frames and face crops, with where they came from.

An image is one frame (index 0); a video gives up to N sampled frames. Per frame, the face
mode decides what is scored: the whole frame, the face crops, or both. Face boxes are
linked into tracks as frames arrive, so each region carries its track id and its box in
frame coordinates. Before any decoding, the file's SHA-256 is checked against the one the
case recorded: a changed evidence file is never analysed as if it were the original.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

import numpy as np
from PIL import Image

from engine.errors import MediaError
from engine.case.files import hash_regular_file
from engine.media.faces import FaceBox, FaceDetector, FaceMode, square_crop
from engine.media.image import image_from_bgr, load_image
from engine.media.tracking import FaceTracker
from engine.media.capture import DEFAULT_DECODER_THREADS
from engine.media.video import SamplingReport, WaitTurn, no_turn, sample_frames
from engine.vocab import RegionKind

FRAME_TRACK = None  # whole-frame regions have no face track


@dataclass(frozen=True)
class Region:
    """One thing a detector scores."""

    evidence_id: int
    frame_index: int
    timestamp: float | None
    kind: RegionKind
    track_id: int | None
    box: tuple[int, int, int, int]  # x, y, w, h in frame coordinates
    frame_size: tuple[int, int]  # width, height of the (rotated, displayed) frame
    image: Image.Image | None = field(repr=False, compare=False)  # None once preprocessed


@dataclass
class EvidenceOutcome:
    """What decoding an evidence item found, besides its regions (for verdict details)."""

    frames: int = 0
    faces: int = 0
    tracks: int = 0
    detector: str | None = None
    notes: list[str] = field(default_factory=list)
    # The detector's record (kind, file SHA-256, thresholds) and the candidate boxes it refused, by reason.
    face_detection: Mapping[str, Any] | None = None
    faces_refused: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"frames": self.frames, "faces": self.faces, "tracks": self.tracks,
                                "detector": self.detector, "notes": list(self.notes)}
        if self.detector is not None:
            data["face_detection"] = dict(self.face_detection or {})
            data["faces_refused"] = dict(self.faces_refused)
        return data


def _frame_regions(evidence_id: int, frame_index: int, timestamp: float | None,
                   frame_bgr: np.ndarray | None, frame_rgb: Image.Image | None,
                   face_mode: FaceMode, detector: FaceDetector | None, tracker: FaceTracker,
                   margin: float, outcome: EvidenceOutcome) -> list[Region]:
    """Regions of one frame, given as BGR (video) or as an RGB Pillow image (still image)."""
    if frame_rgb is not None:
        width, height = frame_rgb.size
    else:
        assert frame_bgr is not None, "a frame comes as BGR or as RGB"
        height, width = frame_bgr.shape[:2]
    regions: list[Region] = []
    if face_mode != FaceMode.OFF and detector is not None:
        if frame_bgr is None:
            frame_bgr = np.ascontiguousarray(np.asarray(frame_rgb)[:, :, ::-1])
        screening = detector.screen(frame_bgr)  # boxes under the floor or failing a check never get here
        for reason, count in screening.rejected.items():
            outcome.faces_refused[reason] = outcome.faces_refused.get(reason, 0) + count
        boxes: list[FaceBox] = screening.accepted
        track_ids = tracker.update(boxes)
        outcome.faces += len(boxes)
        outcome.tracks = max(outcome.tracks, max(track_ids, default=-1) + 1)
        for box, track_id in zip(boxes, track_ids):
            crop, crop_box = square_crop(frame_bgr, box, margin)
            regions.append(Region(evidence_id, frame_index, timestamp, RegionKind.FACE, track_id,
                                  (crop_box.x, crop_box.y, crop_box.w, crop_box.h), (width, height),
                                  image_from_bgr(crop)))
    if face_mode != FaceMode.ONLY:
        if frame_rgb is not None:
            whole = frame_rgb
        else:
            assert frame_bgr is not None
            whole = image_from_bgr(frame_bgr)
        regions.append(Region(evidence_id, frame_index, timestamp, RegionKind.FRAME, FRAME_TRACK,
                              (0, 0, width, height), (width, height), whole))
    return regions


def evidence_regions(
    evidence: Any,
    *,
    frames_per_clip: int,
    face_mode: FaceMode,
    detector: FaceDetector | None,
    face_margin: float = 1.3,
    outcome: EvidenceOutcome | None = None,
    is_cancelled: Callable[[], bool] | None = None,
    verify_hash: bool = True,
    decoder_threads: int = DEFAULT_DECODER_THREADS,
    decoder_workers: int = 1,
    detector_record: Mapping[str, Any] | None = None,
    wait_turn: WaitTurn | None = None,
) -> Iterator[list[Region]]:
    """Yield one list of regions per decoded frame of an evidence item (a case `Evidence`).

    `detector_record` is the detector's `record()` when the caller already has it.
    `wait_turn(stopped)` wraps each decode and each face search (see engine.analysis.turns);
    it may wait while inference holds the cores.
    Raises MediaError for anything undecodable and for a file that changed since import.
    """
    outcome = outcome if outcome is not None else EvidenceOutcome()
    outcome.detector = None
    if detector is not None and face_mode != FaceMode.OFF:
        outcome.detector = detector.name
        outcome.face_detection = detector_record if detector_record is not None else detector.record()
    path = evidence.path_resolved
    stopped = is_cancelled or (lambda: False)
    turn = wait_turn or no_turn
    if verify_hash:
        # The same guarded read as intake: a file swapped for a FIFO or device is refused, not waited on.
        with turn(stopped):
            actual = hash_regular_file(path).sha256
        if actual != evidence.sha256:
            raise MediaError(
                f"{path} changed since it was added to the case (SHA-256 {actual[:16]}… instead of "
                f"{evidence.sha256[:16]}…); not analysed"
            )
    tracker = FaceTracker()
    if evidence.media_kind == "image":
        with turn(stopped):  # each step ends before its yield: a waiting consumer holds no turn
            loaded = load_image(path)
            outcome.notes.extend(loaded.notes)
            outcome.frames = 1
            regions = _frame_regions(evidence.id, 0, None, None, loaded.rgb, face_mode, detector, tracker,
                                     face_margin, outcome)
        yield regions
        return
    if evidence.media_kind != "video":
        described = evidence.media_description or "this kind of file"
        raise MediaError(f"{described} cannot be analysed (only images and videos)")
    report = SamplingReport()
    for sampled in sample_frames(path, frames_per_clip, decoder_threads=decoder_threads, workers=decoder_workers,
                                 is_cancelled=is_cancelled, report=report, wait_turn=wait_turn):
        outcome.frames += 1
        with turn(stopped):  # the face search (and the RGB copy it starts from)
            regions = _frame_regions(evidence.id, sampled.frame_index, sampled.timestamp_s, sampled.image_bgr,
                                     None, face_mode, detector, tracker, face_margin, outcome)
        yield regions
    if report.message:
        outcome.notes.append(report.message)
