"""Link face boxes across sampled frames into tracks, so each person in a clip gets one id.

Sampled frames can be seconds apart, so overlap alone is not enough: a pair of boxes is linked
when they overlap (IoU) or when their centres are close relative to the face size and their
sizes are similar. Matching is greedy on a combined score, best pairs first. A track survives
a few frames without a detection (a missed face, a turned head) before it is closed.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.media.facebox import iou
from engine.media.faces import FaceBox

__all__ = ["FaceTracker", "iou"]

# Centre distance, in face widths, beyond which two boxes are not the same face.
_MAX_CENTRE_DISTANCE = 1.0
# Largest accepted ratio between the two boxes' sides.
_MAX_SIZE_RATIO = 1.6
# Frames a track may go undetected and still be continued.
_MAX_GAP = 2


def _affinity(a: FaceBox, b: FaceBox, gap: int) -> float | None:
    """Higher is better; None when the boxes cannot belong to one face."""
    side_a, side_b = max(a.w, a.h), max(b.w, b.h)
    ratio = max(side_a, side_b) / max(1, min(side_a, side_b))
    if ratio > _MAX_SIZE_RATIO:
        return None
    (ax, ay), (bx, by) = a.centre, b.centre
    distance = ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5 / max(1.0, (side_a + side_b) / 2.0)
    overlap = iou(a, b)
    # A face can move further over several missed frames.
    if overlap <= 0.0 and distance > _MAX_CENTRE_DISTANCE * gap:
        return None
    return overlap + (1.0 - min(distance / gap, 1.0)) + (1.0 / ratio) * 0.25


@dataclass
class _Track:
    track_id: int
    last_box: FaceBox
    last_frame: int


class FaceTracker:
    """Links boxes frame by frame; ids depend only on the frames seen so far, so a producer
    can label each frame's faces as soon as the frame is decoded."""

    def __init__(self) -> None:
        self._tracks: list[_Track] = []
        self._frame_no = -1

    def update(self, boxes: list[FaceBox]) -> list[int]:
        """Track ids for the next frame's boxes, in the order given."""
        self._frame_no += 1
        frame_no = self._frame_no
        live = [t for t in self._tracks if frame_no - t.last_frame <= _MAX_GAP + 1]
        pairs: list[tuple[float, int, int]] = []
        for ti, track in enumerate(live):
            for bi, box in enumerate(boxes):
                score = _affinity(track.last_box, box, frame_no - track.last_frame)
                if score is not None:
                    pairs.append((score, ti, bi))
        pairs.sort(key=lambda p: -p[0])
        ids: list[int | None] = [None] * len(boxes)
        used_tracks: set[int] = set()
        for _score, ti, bi in pairs:
            if ti in used_tracks or ids[bi] is not None:
                continue
            used_tracks.add(ti)
            ids[bi] = live[ti].track_id
            live[ti].last_box = boxes[bi]
            live[ti].last_frame = frame_no
        for bi, box in enumerate(boxes):
            if ids[bi] is None:
                track = _Track(len(self._tracks), box, frame_no)
                self._tracks.append(track)
                ids[bi] = track.track_id
        return [int(i) for i in ids if i is not None]
