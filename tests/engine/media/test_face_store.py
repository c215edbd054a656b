"""Importing face detectors: copied and hashed into the app home, kind read from the graph,
refused when a detector of that kind cannot run the file, checked against the hash at every load."""

from __future__ import annotations

import json

import onnx
import pytest
from onnx import TensorProto, helper

from engine.errors import EngineError, ModelError
from engine.media.centerface import CenterFaceDetector
from engine.media.face_store import MANIFEST, FaceDetectorStore, guess_kind
from tests.engine.conftest import make_linear_classifier
from tests.engine.media import face_scenes
from tests.engine.media.centerface_fixture import SHA256, centerface_onnx


@pytest.fixture(scope="module")
def centerface_file():
    return centerface_onnx()


def _yunet_lookalike(path):
    """A graph with YuNet's output names that is no YuNet: a copy of its input, nothing more."""
    image = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 64, 64])
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, 3, 64, 64])
               for name in ("cls_8", "obj_8", "bbox_8", "kps_8")]
    nodes = [helper.make_node("Identity", ["input"], [out.name]) for out in outputs]
    model = helper.make_model(helper.make_graph(nodes, "yunet_lookalike", [image], outputs),
                              opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, str(path))
    return path


def test_import_list_load_and_remove(tmp_path, centerface_file):
    store = FaceDetectorStore(tmp_path / "home")
    stored = store.import_file(centerface_file, name="cf")
    assert (stored.kind, stored.sha256, stored.size) == ("centerface", SHA256, centerface_file.stat().st_size)
    manifest = json.loads((stored.folder / MANIFEST).read_text("utf-8"))
    assert manifest["sha256"] == SHA256 and manifest["kind"] == "centerface"
    assert stored.path.read_bytes() == centerface_file.read_bytes()  # a copy, not a link
    assert not stored.path.is_symlink()
    assert [d.name for d in store.list()] == ["cf"]
    detector = store.load("cf", SHA256)
    assert isinstance(detector, CenterFaceDetector) and detector.record()["stored_as"] == "cf"
    assert len(detector.detect(face_scenes.astronaut_bgr())) == 1
    with pytest.raises(ModelError, match="already imported"):
        store.import_file(centerface_file, name="cf")
    store.remove("cf")
    assert store.list() == [] and not (tmp_path / "home" / "face_detectors" / "cf").exists()


def test_every_load_checks_the_stored_file(tmp_path, centerface_file):
    store = FaceDetectorStore(tmp_path / "home")
    stored = store.import_file(centerface_file)
    assert stored.name == "centerface"
    with pytest.raises(ModelError, match="not the file the run used"):
        store.load("centerface", "0" * 64)
    data = bytearray(stored.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    stored.path.write_bytes(bytes(data))
    with pytest.raises(EngineError, match="changed since it was imported"):
        store.load("centerface")


def test_a_file_of_another_kind_is_refused(tmp_path, centerface_file):
    store = FaceDetectorStore(tmp_path / "home")
    with pytest.raises(ModelError, match="looks like a centerface model .*, not yunet"):
        store.import_file(centerface_file, name="as_yunet", kind="yunet")
    lookalike = _yunet_lookalike(tmp_path / "yunet_2023mar.onnx")
    assert guess_kind(lookalike.read_bytes()) == "yunet"
    with pytest.raises(ModelError, match="cannot be used as a yunet face detector"):
        store.import_file(lookalike)
    with pytest.raises(ModelError, match="looks like a yunet model"):
        store.import_file(lookalike, name="lookalike", kind="centerface")
    classifier = make_linear_classifier(tmp_path / "classifier.onnx")
    with pytest.raises(ModelError, match="does not look like a CenterFace or YuNet model"):
        store.import_file(classifier)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"junk")
    assert guess_kind(junk.read_bytes()) is None
    with pytest.raises(ModelError, match="cannot be used as a centerface"):
        store.import_file(junk, kind="centerface")
    assert store.list() == []  # nothing half-imported is left behind
    assert [p.name for p in store.root.iterdir()] == []


@pytest.mark.parametrize("name", ["../escape", "a/b", "", ".hidden", "x" * 101])
def test_names_are_never_paths(tmp_path, centerface_file, name):
    store = FaceDetectorStore(tmp_path / "home")
    with pytest.raises(ModelError):
        store.import_file(centerface_file, name=name or "/")
    with pytest.raises(ModelError, match="no face detector named"):
        store.load(name)
