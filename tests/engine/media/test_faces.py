"""Face detection on generated face-like patterns, detector naming, square crops, face modes."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.errors import MediaError
from engine.util.hashing import sha256_file
from engine.media.faces import (
    FaceBox,
    FaceDetector,
    FaceMode,
    HaarFaceDetector,
    YuNetFaceDetector,
    make_face_detector,
    square_crop,
)
from tests.engine.media import synth


@pytest.fixture(scope="module")
def haar() -> HaarFaceDetector:
    return HaarFaceDetector()


@pytest.mark.parametrize("size", [70, 120, 200, 300])
def test_haar_finds_the_synthetic_face_where_it_was_drawn(haar: HaarFaceDetector, size: int) -> None:
    image = synth.face_image(640, 480, [(300, 250, size)])
    boxes = haar.detect(image)
    assert len(boxes) == 1
    cx, cy = boxes[0].centre
    assert abs(cx - 300) < size * 0.2 and abs(cy - 250) < size * 0.3
    assert 0.6 * size < boxes[0].w < 1.6 * size


def test_two_faces_and_no_face(haar: HaarFaceDetector) -> None:
    two = haar.detect(synth.face_image(800, 400, [(200, 200, 150), (600, 200, 150)]))
    assert sorted(round(b.centre[0], -2) for b in two) == [200, 600]
    assert haar.detect(synth.face_image(640, 480, [])) == []  # no face: a result, not an error
    assert haar.detect(np.zeros((10, 10, 3), np.uint8)) == []


def test_detector_name_and_factory(haar: HaarFaceDetector) -> None:
    assert haar.name == f"opencv-haar-frontalface-default {cv2.__version__}"
    assert isinstance(haar, FaceDetector)
    assert isinstance(make_face_detector(None), HaarFaceDetector)
    assert isinstance(make_face_detector(""), HaarFaceDetector)


def test_yunet_missing_or_invalid_model_is_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="not found"):
        make_face_detector(str(tmp_path / "absent.onnx"))
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not an onnx model")
    with pytest.raises(MediaError, match="cannot be loaded"):
        YuNetFaceDetector(junk)
    assert sha256_file(junk)  # the bad model file is left as it was
    with pytest.raises(MediaError, match="not a regular file"):
        make_face_detector(str(tmp_path))


def test_detect_refuses_non_images(haar: HaarFaceDetector) -> None:
    with pytest.raises(MediaError):
        haar.detect(np.zeros((10, 10), np.float32))


def test_square_crop_with_margin_in_frame_coordinates() -> None:
    image = np.arange(400 * 300 * 3, dtype=np.uint32).reshape(300, 400, 3).astype(np.uint8)
    box = FaceBox(150, 100, 100, 80, 1.0)
    crop, crop_box = square_crop(image, box)
    assert (crop_box.w, crop_box.h) == (130, 130)
    assert crop_box.centre == pytest.approx(box.centre, abs=1)
    assert crop.shape == (130, 130, 3)
    assert np.array_equal(crop, image[crop_box.y:crop_box.y + 130, crop_box.x:crop_box.x + 130])
    crop2, box2 = square_crop(image, box, margin=2.0)
    assert (box2.w, box2.h) == (200, 200)


def test_square_crop_is_clipped_at_the_frame_edge() -> None:
    image = np.zeros((100, 100, 3), np.uint8)
    crop, crop_box = square_crop(image, FaceBox(0, 70, 40, 30, 1.0))
    assert crop_box.x == 0 and crop_box.y + crop_box.h == 100
    assert crop.shape[:2] == (crop_box.h, crop_box.w)
    with pytest.raises(MediaError):
        square_crop(image, FaceBox(500, 500, 10, 10, 1.0))
    with pytest.raises(MediaError):
        square_crop(image, FaceBox(10, 10, 10, 10, 1.0), margin=0)


def test_face_mode_values() -> None:
    assert {m.value for m in FaceMode} == {"only", "off", "auto"}
    assert FaceMode("only") is FaceMode.ONLY
