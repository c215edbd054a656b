"""AnalysisJob.check: settings that cannot make a sound run are refused before a run exists."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from engine.analysis.aggregate import AggregationError
from engine.case import CaseStore
from engine.errors import SettingsError
from engine.analysis.job import AnalysisJob
from engine.analysis.verdicts import VerdictSettings
from tests.engine.conftest import IMAGES, MODELS, analyze

VIT = str(MODELS / "vit_optimum")
GOOD = AnalysisJob(models=(VIT,))
BAD = {
    "frames 0": replace(GOOD, frames_per_clip=0),
    "frames -1": replace(GOOD, frames_per_clip=-1),
    "batch 0": replace(GOOD, batch_size=0),
    "batch -3": replace(GOOD, batch_size=-3),
    "top-k -1": replace(GOOD, occlusion_top_k=-1),
    "face mode": replace(GOOD, face_mode="sometimes"),
    "discard 5": replace(GOOD, discard_ratio=5.0),
    "discard nan": replace(GOOD, discard_ratio=math.nan),
    "face margin 0.5": replace(GOOD, face_margin=0.5),
    "threshold 2": replace(GOOD, verdict=VerdictSettings(threshold=2.0)),
    "threshold nan": replace(GOOD, verdict=VerdictSettings(threshold=math.nan)),
    "margin -1": replace(GOOD, verdict=VerdictSettings(margin=-1.0)),
    "margin nan": replace(GOOD, verdict=VerdictSettings(margin=math.nan)),
    "rule k 0": replace(GOOD, verdict=VerdictSettings(rule="topk_mean", params={"k": 0})),
    "weight -1": replace(GOOD, verdict=VerdictSettings(weights={"vit_optimum": -1.0})),
    "weight 0": replace(GOOD, verdict=VerdictSettings(weights={"vit_optimum": 0.0})),
    "weight nan": replace(GOOD, verdict=VerdictSettings(weights={"vit_optimum": math.nan})),
    "weight of another model": replace(GOOD, verdict=VerdictSettings(weights={"nomodel": 1.0})),
    "min track frames 0": replace(GOOD, verdict=VerdictSettings(min_track_frames=0)),
    "min track frames 1.5": replace(GOOD, verdict=VerdictSettings(min_track_frames=1.5)),
    "face detector a path": replace(GOOD, face_detector="../elsewhere/cf"),
    "face detector and yunet": replace(GOOD, face_detector="cf", yunet_path="yunet.onnx"),
}


def test_good_defaults_pass():
    GOOD.check(("vit_optimum",))
    replace(GOOD, verdict=VerdictSettings(weights={"vit_optimum": 2.5}), discard_ratio=0.9).check(("vit_optimum",))


@pytest.mark.parametrize("name", sorted(BAD))
def test_each_bad_setting_is_refused(name):
    with pytest.raises((SettingsError, AggregationError)) as caught:
        BAD[name].check(("vit_optimum",))
    assert str(caught.value)


@pytest.mark.parametrize("name", ["batch 0", "margin -1", "frames 0"])
def test_a_refused_job_records_no_run(tmp_path, name):
    case_path = str(tmp_path / "case.dfwcase")
    with CaseStore.create(case_path, "T", "E") as store:
        store.add_evidence(IMAGES / "rgb_640x480.jpg")
    job = replace(BAD[name], provider="cpu", allow_test_fixtures=True)
    with pytest.raises(SettingsError):
        list(analyze(case_path, job, home=str(tmp_path)))
    with CaseStore.open(case_path, readonly=True) as store:
        assert store.list_runs() == []


def test_resuming_a_run_recorded_with_a_bad_setting_is_refused_not_replayed(tmp_path):
    # A run recorded before settings were checked (batch size 0 used to spin forever).
    case_path = str(tmp_path / "case.dfwcase")
    with CaseStore.create(case_path, "T", "E") as store:
        evidence = store.add_evidence(IMAGES / "rgb_640x480.jpg")
        settings = {**replace(GOOD, batch_size=0).settings()}
        run_id = store.start_run([{"name": "vit_optimum", "requested_as": VIT}], settings, "cpu", [evidence.id])
        store.finish_run(run_id, "cancelled")
    job = AnalysisJob(resume=True, provider="cpu")
    with pytest.raises(SettingsError, match="batch size"):
        list(analyze(case_path, job, home=str(tmp_path)))
    with CaseStore.open(case_path, readonly=True) as store:
        assert [run.status for run in store.list_runs()] == ["cancelled"]


def test_a_run_records_the_frame_rule_no_stricter_than_its_sampling(tmp_path):
    """Two frames sampled per clip: a face seen in both is as well seen as it can be."""
    case_path = str(tmp_path / "case.dfwcase")
    with CaseStore.create(case_path, "T", "E") as store:
        store.add_evidence(IMAGES / "rgb_640x480.jpg")
    job = replace(GOOD, provider="cpu", allow_test_fixtures=True, frames_per_clip=2, face_mode="off")
    run_id = list(analyze(case_path, job, home=str(tmp_path)))[0].run_id
    with CaseStore.open(case_path, readonly=True) as store:
        settings = store.get_run(run_id).settings
    assert settings["verdict"]["min_track_frames"] == 2 and settings["face_detection"] is None
