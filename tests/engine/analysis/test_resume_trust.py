"""`analyze --resume` trusts nothing in the case that selects code or files.

Each test starts a real run, leaves it resumable, and edits what the case says about it (the
run record's models or settings, as anyone holding the file could) or the model store, then
resumes: models come only from the store by their recorded name and must be the recorded
files, fixtures need the resuming job's own permission, settings are checked again, and a
YuNet path stored in the case is never opened.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from engine.analysis import feeder as feeder_module
from engine.analysis.events import RunFinished
from engine.analysis.job import AnalysisJob
from engine.case import CaseStore
from engine.errors import EngineError, MediaError, ModelError, SettingsError
from engine.media.facebox import FaceScreening
from engine.models import loader
from engine.models.loader import ModelOverrides
from engine.models.store import ModelStore
from tests.engine.conftest import IMAGES, MODELS, analyze, make_linear_classifier, run_main

VIT = MODELS / "vit_optimum"
PICTURES = [IMAGES / "rgb_640x480.jpg", IMAGES / "tiny_17x31.png", IMAGES / "gray_257x129.png"]


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    overrides = ModelOverrides(labels=["real", "fake"], preprocess="hf", input_size=8)
    ModelStore(home).import_model(make_linear_classifier(tmp_path / "det.onnx"), "det", overrides=overrides)
    ModelStore(home).import_model(VIT, "vit", allow_test_fixture=True)
    return home


@pytest.fixture
def case_path(tmp_path):
    path = str(tmp_path / "case.dfwcase")
    with CaseStore.create(path, "Resume", "Examiner") as store:
        for picture in PICTURES:
            store.add_evidence(picture)
    return path


def _cancelled_run(case_path, home, *models, **settings) -> int:
    """A run of `models` cancelled before its first item: resumable, every item pending."""
    job = AnalysisJob(models=tuple(models), provider="cpu", face_mode="off", allow_test_fixtures=True, **settings)
    events = list(analyze(case_path, job, home=home, is_cancelled=lambda: True))
    assert isinstance(events[-1], RunFinished) and events[-1].status == "cancelled"
    return events[0].run_id


def _edit_run(case_path, run_id, column, change) -> None:
    """Change the run row's JSON `column` in the file, as an editor of the case could."""
    db = sqlite3.connect(case_path)
    try:
        (text,) = db.execute(f"SELECT {column} FROM runs WHERE id = ?", [run_id]).fetchone()
        db.execute(f"UPDATE runs SET {column} = ? WHERE id = ?", [json.dumps(change(json.loads(text))), run_id])
        db.commit()
    finally:
        db.close()


def _resume(case_path, home, **kwargs):
    return list(analyze(case_path, AnalysisJob(resume=True, provider="cpu", **kwargs), home=home))


def _set_model_field(key, value):
    def change(models):
        models[0][key] = value
        return models
    return change


@pytest.fixture
def loaded_folders(monkeypatch):
    """Every model folder or file loaded from here on."""
    seen = []
    real = loader.load_model

    def spy(path, *args, **kwargs):
        seen.append(str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(loader, "load_model", spy)
    monkeypatch.setattr("engine.models.store.load_model", spy)
    return seen


def test_requested_as_edited_to_a_fixture_folder_is_refused_and_nothing_loads_from_it(case_path, home,
                                                                                       loaded_folders):
    run_id = _cancelled_run(case_path, home, "det")
    _edit_run(case_path, run_id, "models", _set_model_field("requested_as", str(VIT)))
    with pytest.raises(ModelError, match="from a folder, not from the model store"):
        _resume(case_path, home)
    assert not any(str(VIT) in path for path in loaded_folders)
    with CaseStore.open(case_path, readonly=True) as store:
        assert store.get_run(run_id).status == "cancelled"


def test_a_run_started_from_a_model_folder_cannot_be_resumed_by_path(case_path, home, loaded_folders):
    _cancelled_run(case_path, home, str(VIT))
    loaded_folders.clear()
    with pytest.raises(ModelError, match=r"import the model \(`models import FOLDER`\) and start a new run"):
        _resume(case_path, home, allow_test_fixtures=True)
    assert loaded_folders == []


def test_a_fixture_needs_the_resuming_jobs_own_permission(case_path, home):
    _cancelled_run(case_path, home, "vit")
    with pytest.raises(ModelError, match="random-weight test fixture"):
        _resume(case_path, home)
    events = _resume(case_path, home, allow_test_fixtures=True)
    assert events[-1].status == "completed" and events[-1].items_done == len(PICTURES)


@pytest.mark.parametrize("change, message", [
    (_set_model_field("sha256", None), "recorded no usable SHA-256"),
    (lambda models: [{**models[0], "config_sha256": {**models[0]["config_sha256"], "config.json": "0" * 64}}],
     r"\('config.json' differ\)"),
])
def test_the_recorded_hashes_must_match_the_stored_model(case_path, home, change, message):
    run_id = _cancelled_run(case_path, home, "vit")
    _edit_run(case_path, run_id, "models", change)
    with pytest.raises(ModelError, match=message):
        _resume(case_path, home, allow_test_fixtures=True)


def test_a_run_records_the_configuration_hashes_and_a_changed_config_is_refused_on_resume(case_path, home):
    run_id = _cancelled_run(case_path, home, "vit")
    folder = ModelStore(home).get("vit").folder
    with CaseStore.open(case_path, readonly=True) as store:
        (record,) = store.get_run(run_id).models
    assert record["config_sha256"]["config.json"] == hashlib.sha256((folder / "config.json").read_bytes()).hexdigest()
    config = json.loads((folder / "config.json").read_text("utf-8"))
    config["id2label"] = {"0": "Fake", "1": "Real"}
    (folder / "config.json").write_text(json.dumps(config), "utf-8")
    with pytest.raises(ModelError, match="config.json changed since import"):
        _resume(case_path, home, allow_test_fixtures=True)


class _FakeYuNet:
    def __init__(self, path):
        self.name = f"yunet:{hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]}"

    def screen(self, image_bgr):
        return FaceScreening([])

    def detect(self, image_bgr):
        return []

    def record(self):
        return {"kind": "yunet", "name": self.name}


def test_a_stored_yunet_path_is_never_opened(case_path, home, tmp_path, monkeypatch):
    opened = []

    def detector(path):
        opened.append(str(path) if path else None)
        return _FakeYuNet(path)

    monkeypatch.setattr(feeder_module, "make_face_detector", detector)
    yunet = tmp_path / "face_detection_yunet.onnx"
    yunet.write_bytes(b"yunet weights" * 100)
    job = AnalysisJob(models=("det",), provider="cpu", face_mode="auto", yunet_path=str(yunet))
    events = list(analyze(case_path, job, home=home, is_cancelled=lambda: True))
    run_id = events[0].run_id
    with CaseStore.open(case_path, readonly=True) as store:
        settings = store.get_run(run_id).settings
    assert settings["yunet_sha256"] == hashlib.sha256(yunet.read_bytes()).hexdigest()
    stored_elsewhere = tmp_path / "elsewhere.onnx"
    _edit_run(case_path, run_id, "settings", lambda s: {**s, "yunet_path": str(stored_elsewhere)})
    opened.clear()
    with pytest.raises(SettingsError, match=r"give the same file again to resume it \(--yunet FILE"):
        _resume(case_path, home)
    other = tmp_path / "other.onnx"
    other.write_bytes(b"another detector")
    with pytest.raises(SettingsError, match="is not the one run"):
        _resume(case_path, home, yunet_path=str(other))
    assert opened == []
    copy = tmp_path / "copy of yunet.onnx"
    copy.write_bytes(yunet.read_bytes())
    finished = _resume(case_path, home, yunet_path=str(copy))[-1]
    assert finished.status == "completed"
    assert opened == [str(copy)]  # the analyst's file, never the stored path


def test_a_yunet_file_swapped_after_planning_is_refused(case_path, home, tmp_path, monkeypatch):
    yunet = tmp_path / "yunet.onnx"
    yunet.write_bytes(b"first")
    monkeypatch.setattr(feeder_module, "make_face_detector", lambda path: _FakeYuNet(str(tmp_path / "swapped")))
    (tmp_path / "swapped").write_bytes(b"second")
    with pytest.raises(MediaError, match="changed after it was checked"):
        list(analyze(case_path, AnalysisJob(models=("det",), provider="cpu", yunet_path=str(yunet)), home=home))


SETTINGS = {
    "frames as a word": (lambda s: {**s, "frames_per_clip": "lots"}, "frames per clip"),
    # The case store may refuse this shape itself when it reads the run (CaseError): either way one line.
    "settings a list": (lambda s: [s], "settings"),
    "unknown rule": (lambda s: {**s, "verdict": {**s["verdict"], "rule": "majority_of_vibes"}},
                     "verdict rule 'majority_of_vibes' is not a known rule"),
    "verdict a list": (lambda s: {**s, "verdict": [1, 2]}, "verdict settings are a JSON list"),
    "rule a list": (lambda s: {**s, "verdict": {**s["verdict"], "rule": ["mean"]}}, "verdict rule must be"),
    "params a list": (lambda s: {**s, "verdict": {**s["verdict"], "params": [["k", 2]]}}, "verdict params"),
    "threshold a word": (lambda s: {**s, "verdict": {**s["verdict"], "threshold": "high"}}, "verdict threshold"),
    "explain a word": (lambda s: {**s, "explain": "yes"}, "explain must be true or false"),
    "face mode a list": (lambda s: {**s, "face_mode": ["auto"]}, "face mode"),
    "batch a fraction": (lambda s: {**s, "batch_size": 2.5}, "batch size"),
    "margin as text": (lambda s: {**s, "face_margin": "1.3"}, "face margin"),
}


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_recorded_settings_are_checked_again(case_path, home, name):
    change, message = SETTINGS[name]
    run_id = _cancelled_run(case_path, home, "det")
    _edit_run(case_path, run_id, "settings", change)
    expected = EngineError if name == "settings a list" else SettingsError
    with pytest.raises(expected) as caught:
        _resume(case_path, home)
    text = str(caught.value)
    assert message in text and "\n" not in text
    assert f"run {run_id}" in text or f"runs row {run_id}" in text


@pytest.mark.parametrize("name", ["frames as a word", "settings a list", "unknown rule"])
def test_the_command_line_refuses_bad_recorded_settings_in_one_line(case_path, home, name):
    change, message = SETTINGS[name]
    run_id = _cancelled_run(case_path, home, "det")
    _edit_run(case_path, run_id, "settings", change)
    result = run_main("analyze", case_path, "--resume", "--provider", "cpu", home=home)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "a bug" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_command_line_resumes_with_the_same_yunet_file_only(case_path, home, tmp_path):
    run_id = _cancelled_run(case_path, home, "det")
    recorded = "ab" * 32
    _edit_run(case_path, run_id, "settings",
              lambda s: {**s, "face_mode": "auto", "yunet_path": "/dev/zero", "yunet_sha256": recorded})
    result = run_main("analyze", case_path, "--resume", "--provider", "cpu", home=home)
    assert result.returncode != 0 and "--yunet FILE" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    given = tmp_path / "mine.onnx"
    given.write_bytes(b"not it")
    result = run_main("analyze", case_path, "--resume", "--provider", "cpu", "--yunet", str(given), home=home)
    assert result.returncode != 0 and "is not the one run" in result.stderr, result.stderr


@pytest.mark.parametrize("value", [[], "frames_per_clip=16", None, 3])
def test_restored_settings_must_be_an_object(value):
    with pytest.raises(SettingsError, match="the settings are a JSON"):
        AnalysisJob().restored(value, ())
