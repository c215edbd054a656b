"""Runs with `--faces only` on a pan past a person and orange sleeves, as in the field case:
face regions only where the face is, the detector's record (name, file SHA-256, thresholds)
in the run's settings and each item's outcome, an imported CenterFace chosen by name and
resumed only with the same file, and verdicts that `verify` judges again the same way."""

from __future__ import annotations

import json
import sqlite3

import pytest

from engine.analysis.events import EvidenceVerdicts, RunFinished
from engine.analysis.job import AnalysisJob
from engine.case import CaseStore
from engine.case.verify import verify_case
from engine.errors import EngineError, SettingsError
from engine.media.face_store import FaceDetectorStore
from engine.media.haar import HAAR_MIN_CONFIDENCE
from engine.models.loader import ModelOverrides
from engine.models.store import ModelStore
from tests.engine.conftest import analyze, make_linear_classifier
from tests.engine.media.centerface_fixture import SHA256 as CENTERFACE_SHA256
from tests.engine.media.centerface_fixture import centerface_onnx
from tests.engine.media.face_scenes import make_pan_clip


@pytest.fixture(scope="module")
def pan(tmp_path_factory):
    return make_pan_clip(tmp_path_factory.mktemp("pan") / "pan past a sleeve.mp4")


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    overrides = ModelOverrides(labels=["real", "fake"], preprocess="hf", input_size=8)
    ModelStore(home).import_model(make_linear_classifier(tmp_path / "det.onnx"), "det", overrides=overrides)
    FaceDetectorStore(home).import_file(centerface_onnx(), name="cf")
    return home


@pytest.fixture
def case_path(tmp_path, pan):
    path = str(tmp_path / "pan.dfwcase")
    with CaseStore.create(path, "Pan", "Examiner") as store:
        store.add_evidence(pan.path)
    return path


def _job(frames_per_clip: int = 15, **settings) -> AnalysisJob:
    return AnalysisJob(models=("det",), provider="cpu", face_mode="only", frames_per_clip=frames_per_clip, **settings)


def _stored(case_path):
    with CaseStore.open(case_path, readonly=True) as store:
        run = store.list_runs()[-1]
        return run, store.results(run.id), store.verdicts(run.id)


@pytest.mark.parametrize("detector", [None, "cf"])
def test_faces_only_scores_the_face_and_never_the_sleeves(case_path, home, pan, detector):
    events = list(analyze(case_path, _job(face_detector=detector), home=home))
    assert isinstance(events[-1], RunFinished) and events[-1].status == "completed"
    run, results, verdicts = _stored(case_path)
    assert results, "the face was not found at all"
    for row in results:
        assert not pan.on_sleeve(row.frame_index, row.box), (row.frame_index, row.box)
        assert pan.on_face(row.frame_index, row.box), (row.frame_index, row.box)
    record = run.settings["face_detection"]
    if detector is None:
        assert record["kind"] == "haar" and record["thresholds"]["min_confidence"] == HAAR_MIN_CONFIDENCE
        assert record["thresholds"]["eye_check"] and record["thresholds"]["skin_check"]
    else:
        assert record["kind"] == "centerface" and record["sha256"] == CENTERFACE_SHA256
        assert run.settings["face_detector"] == "cf" and run.settings["face_detector_sha256"] == CENTERFACE_SHA256
    outcome = verdicts[0].details["outcome"]
    assert outcome["face_detection"] == record and outcome["detector"] == record["name"]
    if detector is None:
        assert sum(outcome["faces_refused"].values()) > 0  # the sleeves were looked at, and refused


def test_a_weak_face_track_decides_only_when_nothing_else_exists(case_path, home):
    """The face shows in the first few frames only, so with ten frames sampled from thirty its
    track(s) are seen in fewer than three. With faces only they are all there is: the verdict
    rests on them and says so, and `verify` judges the stored rows again by the same rule."""
    list(analyze(case_path, _job(frames_per_clip=10), home=home))
    run, results, verdicts = _stored(case_path)
    frames: dict[int, set[int]] = {}
    for row in results:
        frames.setdefault(row.track_id, set()).add(row.frame_index)
    assert frames and all(len(seen) < 3 for seen in frames.values())
    assert run.settings["verdict"]["min_track_frames"] == 3
    lead = next(v for v in verdicts if v.model == "ensemble")
    assert lead.details["weak_tracks"] == [f"face track {track}" for track in sorted(frames)]
    assert lead.details["rests_on_weak_tracks"] is True and "rests on them alone" in lead.details["caution"]
    worst = int(lead.details["worst_track"].rsplit(" ", 1)[1])
    assert lead.details["worst_track_detections"] == len([r for r in results if r.track_id == worst])
    with CaseStore.open(case_path, readonly=True) as store:
        report = verify_case(store, record=False)
    assert report.ok, report.problems


def _edit_settings(case_path, change) -> None:
    db = sqlite3.connect(case_path)
    try:
        run_id, text = db.execute("SELECT id, settings FROM runs ORDER BY id DESC").fetchone()
        db.execute("UPDATE runs SET settings = ? WHERE id = ?", [json.dumps(change(json.loads(text))), run_id])
        db.commit()
    finally:
        db.close()


def _resume(case_path, home):
    return list(analyze(case_path, AnalysisJob(resume=True, provider="cpu"), home=home))


def test_a_resume_takes_the_imported_detector_by_name_with_its_recorded_hash(case_path, home):
    list(analyze(case_path, _job(face_detector="cf"), home=home, is_cancelled=lambda: True))
    original_settings = _stored(case_path)[0].settings
    stored = FaceDetectorStore(home).get("cf")
    original = stored.path.read_bytes()
    stored.path.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    with pytest.raises(EngineError, match="changed since it was imported"):
        _resume(case_path, home)
    stored.path.write_bytes(original)
    _edit_settings(case_path, lambda s: {**s, "face_detector": "../../elsewhere"})
    with pytest.raises(SettingsError, match="record of its face detector is damaged"):
        _resume(case_path, home)
    _edit_settings(case_path, lambda s: {**original_settings, "face_detection": {
        **original_settings["face_detection"], "thresholds": {"min_confidence": 0.1}}})
    with pytest.raises(SettingsError, match="face detector is not the one run .* used"):
        _resume(case_path, home)
    _edit_settings(case_path, lambda s: original_settings)
    events = _resume(case_path, home)
    assert events[-1].status == "completed" and any(isinstance(e, EvidenceVerdicts) for e in events)


def test_a_resume_refuses_a_detector_no_longer_imported(case_path, home):
    list(analyze(case_path, _job(face_detector="cf"), home=home, is_cancelled=lambda: True))
    FaceDetectorStore(home).remove("cf")
    with pytest.raises(SettingsError, match="which is not imported now"):
        _resume(case_path, home)


def test_a_run_cannot_name_two_face_detectors(case_path, home, tmp_path):
    with pytest.raises(SettingsError, match="choose one face detector"):
        list(analyze(case_path, _job(face_detector="cf", yunet_path=str(tmp_path / "y.onnx")), home=home))
    with pytest.raises(EngineError, match="no face detector named 'nope'"):
        list(analyze(case_path, _job(face_detector="nope"), home=home))
