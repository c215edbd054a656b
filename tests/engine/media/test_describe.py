"""Evidence descriptions stored at intake: EXIF for images, probe for videos, a reason otherwise."""

from __future__ import annotations

from engine.case import CaseStore
from engine.case.intake import add_and_describe
from engine.media.describe import describe_evidence
from tests.engine.conftest import IMAGES
from tests.engine.media.synth import make_face_clip


def test_image_video_and_other(tmp_path):
    image = describe_evidence(IMAGES / "exif_rot6_480x320.jpg", "image")["image"]
    assert image["orientation"] == 6 and (image["width"], image["height"]) == (480, 320)
    clip = make_face_clip(tmp_path / "clip.mp4", n_frames=12, fps=6.0)
    video = describe_evidence(clip, "video")["video"]
    assert video["frame_count"] == 12 and video["fps"] == 6.0 and video["duration_s"] == 2.0
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x01" * 500)
    assert "describe_error" in describe_evidence(junk, "video")
    assert describe_evidence(junk, "other") == {"describe_error": "not an image or a video (other)"}


def test_intake_stores_the_description_once(tmp_path):
    with CaseStore.create(str(tmp_path / "c.dfwcase"), "T", "E") as store:
        item = add_and_describe(store, IMAGES / "rgb_640x480.jpg")
        assert item.metadata["image"]["format"] == "jpeg"
        again = add_and_describe(store, IMAGES / "rgb_640x480.jpg")
        assert again.duplicate and again.id == item.id
        actions = [entry.action for entry in store.audit_entries()]
        assert actions.count("evidence metadata recorded") == 1
