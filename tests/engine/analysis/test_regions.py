"""Evidence → regions: what each face mode scores, where boxes sit, and the hash check first."""

from __future__ import annotations

import cv2
import pytest

from engine.analysis.regions import EvidenceOutcome, evidence_regions
from engine.case import CaseStore
from engine.errors import MediaError
from engine.media.faces import make_face_detector
from engine.vocab import FaceMode, RegionKind
from tests.engine.media.synth import face_image, make_face_clip


@pytest.fixture
def items(tmp_path):
    face = tmp_path / "face.png"
    cv2.imwrite(str(face), face_image())
    clip = make_face_clip(tmp_path / "clip.mp4", n_frames=12, fps=6.0)
    with CaseStore.create(tmp_path / "c.dfwcase", "R", "E") as store:
        return {"face": store.add_evidence(face), "clip": store.add_evidence(clip), "paths": (face, clip)}


@pytest.mark.parametrize("mode, kinds", [(FaceMode.AUTO, [RegionKind.FACE, RegionKind.FRAME]),
                                         (FaceMode.ONLY, [RegionKind.FACE]), (FaceMode.OFF, [RegionKind.FRAME])])
def test_an_image_is_one_frame_with_the_regions_its_mode_asks_for(items, mode, kinds):
    outcome = EvidenceOutcome()
    (regions,) = list(evidence_regions(items["face"], frames_per_clip=4, face_mode=mode,
                                       detector=make_face_detector(None), outcome=outcome))
    assert [r.kind for r in regions] == kinds
    assert all(r.frame_index == 0 and r.timestamp is None and r.frame_size == (640, 480) for r in regions)
    for region in regions:
        x, y, w, h = region.box
        assert region.image.size == (w, h) and 0 <= x and 0 <= y and x + w <= 640 and y + h <= 480
        assert (region.track_id is None) == (region.kind == RegionKind.FRAME)
    assert outcome.frames == 1 and outcome.faces == (0 if mode == FaceMode.OFF else 1)
    assert (outcome.detector is None) == (mode == FaceMode.OFF)


def test_a_clip_gives_sampled_frames_with_two_stable_tracks(items):
    outcome = EvidenceOutcome()
    frames = list(evidence_regions(items["clip"], frames_per_clip=4, face_mode=FaceMode.ONLY,
                                   detector=make_face_detector(None), outcome=outcome))
    assert len(frames) == 4 and outcome.frames == 4 and outcome.tracks == 2
    indices = [regions[0].frame_index for regions in frames]
    assert indices == sorted(indices) and len(set(indices)) == 4
    sides = None
    for regions in frames:
        by_track = {r.track_id: r.box for r in regions}
        assert set(by_track) == {0, 1}
        left = min(by_track, key=lambda track: by_track[track][0])
        sides = sides if sides is not None else left
        assert left == sides  # each track follows its own face across the clip


def test_a_changed_file_is_refused_before_decoding(items):
    face_path = items["paths"][0]
    cv2.imwrite(str(face_path), face_image(faces=((200, 200, 150),)))
    with pytest.raises(MediaError, match="changed since it was added"):
        list(evidence_regions(items["face"], frames_per_clip=4, face_mode=FaceMode.OFF, detector=None))
