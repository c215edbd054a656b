"""`models import-face-detector`, `models face-detectors` and `analyze --face-detector` as an
analyst runs them, in a separate process, with the real CenterFace file."""

from __future__ import annotations

import json
import sqlite3

import cv2

from tests.engine.conftest import make_linear_classifier
from tests.engine.conftest import run_main as run
from tests.engine.media.centerface_fixture import SHA256, centerface_onnx
from tests.engine.media.face_scenes import astronaut_bgr


def test_import_list_analyze_verify_remove(tmp_path):
    home = tmp_path / "home"
    source = centerface_onnx()
    refused = run("models", "import-face-detector", str(source), "--kind", "yunet", home=home)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "looks like a centerface model" in refused.stderr
    imported = run("models", "import-face-detector", str(source), "--name", "cf", "--json", home=home)
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["sha256"] == SHA256 and json.loads(imported.stdout)["kind"] == "centerface"
    listed = run("models", "face-detectors", "--json", home=home)
    assert [(d["name"], d["kind"], d["sha256"]) for d in json.loads(listed.stdout)] == [("cf", "centerface", SHA256)]
    assert "cf" in run("models", "face-detectors", home=home).stdout

    model = make_linear_classifier(tmp_path / "det.onnx")
    assert run("models", "import", str(model), "--name", "det", "--labels", "real,fake", "--preprocess", "hf",
               "--input-size", "8", home=home).returncode == 0
    photo = tmp_path / "astronaut.png"
    cv2.imwrite(str(photo), astronaut_bgr())
    case = str(tmp_path / "case.dfwcase")
    assert run("case", "new", case, "--title", "T", "--examiner", "E", home=home).returncode == 0
    assert run("case", "add", case, str(photo), home=home).returncode == 0
    missing = run("analyze", case, "--model", "det", "--face-detector", "nope", "--provider", "cpu", home=home)
    assert missing.returncode == 2 and "no face detector named 'nope'" in missing.stderr
    analysed = run("analyze", case, "--model", "det", "--faces", "only", "--face-detector", "cf",
                   "--provider", "cpu", "--json", home=home)
    assert analysed.returncode == 0, analysed.stderr
    db = sqlite3.connect(case)
    (settings,) = db.execute("SELECT settings FROM runs").fetchone()
    (details,) = db.execute("SELECT details FROM verdicts WHERE model = 'ensemble'").fetchone()
    db.close()
    settings, details = json.loads(settings), json.loads(details)
    assert settings["face_detector"] == "cf" and settings["face_detection"]["sha256"] == SHA256
    assert details["outcome"]["faces"] == 1 and details["outcome"]["face_detection"]["kind"] == "centerface"
    assert details["worst_track"] == "face track 0" and details["worst_track_detections"] == 1
    assert run("verify", case, home=home).returncode == 0
    assert run("models", "remove-face-detector", "cf", home=home).returncode == 0
    assert json.loads(run("models", "face-detectors", "--json", home=home).stdout) == []
