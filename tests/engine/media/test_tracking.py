"""Linking face boxes across sampled frames into tracks."""

from __future__ import annotations

from pathlib import Path

from engine.media.faces import FaceBox, HaarFaceDetector
from engine.media.tracking import FaceTracker, iou


def link_tracks(detections_per_frame):
    """Track ids parallel to the input, as the pipeline's tracker gives them frame by frame."""
    tracker = FaceTracker()
    return [tracker.update(boxes) for boxes in detections_per_frame]
from engine.media.video import sample_frames
from tests.engine.media import synth


def _box(x: int, y: int, s: int = 100) -> FaceBox:
    return FaceBox(x, y, s, s, 1.0)


def test_iou() -> None:
    assert iou(_box(0, 0), _box(0, 0)) == 1.0
    assert iou(_box(0, 0), _box(200, 0)) == 0.0
    assert iou(_box(0, 0), _box(50, 0)) == 5000 / 15000


def test_two_people_keep_their_ids_even_when_order_changes() -> None:
    frames = [[_box(100 + 10 * i, 100), _box(500 - 10 * i, 100)] for i in range(5)]
    frames[2].reverse()
    ids = link_tracks(frames)
    assert ids[0] == [0, 1]
    assert ids[2] == [1, 0]
    assert all(row in ([0, 1], [1, 0]) for row in ids)
    assert [ids[f][i] for f in range(5) for i in range(2) if frames[f][i].x < 300] == [0] * 5


def test_a_missed_detection_does_not_split_the_track() -> None:
    frames = [[_box(100, 100)], [_box(120, 100)], [], [_box(160, 100)]]
    assert link_tracks(frames) == [[0], [0], [], [0]]


def test_far_jump_or_size_change_starts_a_new_track() -> None:
    assert link_tracks([[_box(100, 100)], [_box(600, 100)]]) == [[0], [1]]
    assert link_tracks([[_box(100, 100, 100)], [_box(100, 100, 300)]]) == [[0], [1]]


def test_long_absence_starts_a_new_track() -> None:
    frames = [[_box(100, 100)], [], [], [], [_box(100, 100)]]
    assert link_tracks(frames) == [[0], [], [], [], [1]]


def test_tracks_from_a_generated_clip(tmp_path: Path) -> None:
    path = synth.make_face_clip(tmp_path / "faces.mp4", n_frames=40)
    detector = HaarFaceDetector()
    detections = [detector.detect(f.image_bgr) for f in sample_frames(path, 8)]
    assert all(len(d) == 2 for d in detections)
    ids = link_tracks(detections)
    # The face that starts on the left keeps one id, the right one the other.
    left_ids = {ids[f][i] for f, boxes in enumerate(detections) for i, b in enumerate(boxes) if b.centre[0] < 320}
    right_ids = {ids[f][i] for f, boxes in enumerate(detections) for i, b in enumerate(boxes) if b.centre[0] >= 320}
    assert len(left_ids) == 1 and len(right_ids) == 1 and left_ids != right_ids
