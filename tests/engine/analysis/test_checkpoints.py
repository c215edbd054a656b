"""Resuming inside a long clip: frames stored under checkpoints, checked before a resume trusts them."""

from __future__ import annotations


import numpy as np
import pytest

from engine.analysis import itemstate
from engine.analysis.events import ItemFailed, RunFinished
from engine.analysis.job import AnalysisJob
from engine.case import CaseStore, verify_case
from engine.models.inference import ModelRunner
from engine.models.store import ModelStore
from tests.engine.conftest import MODELS, analyze
from tests.engine.media.synth import make_face_clip

FRAMES = 24


@pytest.fixture
def clip_case(tmp_path, monkeypatch):
    monkeypatch.setattr(itemstate, "CHECKPOINT_SECONDS", 0.0)  # a checkpoint after every scored batch
    clip = make_face_clip(tmp_path / "long clip.mp4", n_frames=FRAMES, fps=10.0)
    home = tmp_path / "home"
    ModelStore(home).import_model(str(MODELS / "vit_optimum"), allow_test_fixture=True)
    cases = []
    for name in ("interrupted", "reference"):
        path = str(tmp_path / f"{name}.dfwcase")
        with CaseStore.create(path, name, "Examiner", actor="tester") as store:
            evidence_id = store.add_evidence(clip).id
        cases.append(path)
    return {"home": home, "cases": cases, "evidence_id": evidence_id}


@pytest.fixture
def inferred(monkeypatch):
    """The number of regions each call to the model scored."""
    sizes: list[int] = []
    real = ModelRunner.logits_from_pixels

    def counting(self, pixels):
        sizes.append(len(pixels))
        return real(self, pixels)

    monkeypatch.setattr(ModelRunner, "logits_from_pixels", counting)
    return sizes


def _job(**kwargs):
    return AnalysisJob(models=("vit_optimum",), provider="cpu", allow_test_fixtures=True, frames_per_clip=FRAMES,
                       batch_size=2, **kwargs)


def _resume():
    return AnalysisJob(resume=True, provider="cpu", allow_test_fixtures=True)


def _interrupt(case_path, home, after_checkpoints=3):
    """Run until `after_checkpoints` checkpoints are stored, then cancel; the run's events."""
    stored = []
    real = itemstate.ItemState.store_checkpoint

    def counting(self, *args, **kwargs):
        done = real(self, *args, **kwargs)
        stored.extend([True] if done else [])
        return done

    itemstate.ItemState.store_checkpoint = counting
    try:
        return list(analyze(case_path, _job(), home=home, is_cancelled=lambda: len(stored) >= after_checkpoints))
    finally:
        itemstate.ItemState.store_checkpoint = real


def _rows(case_path):
    with CaseStore.open(case_path, readonly=True) as store:
        run = store.list_runs()[-1]
        rows = [(r.frame_index, r.track_id, tuple(r.box or ()), round(r.p_manipulated, 6))
                for r in store.results(run.id)]
        verdicts = {v.model: (round(v.score, 6) if v.score is not None else None, v.label)
                    for v in store.verdicts(run.id)}
        return run, rows, verdicts


def test_an_interrupted_clip_resumes_after_its_last_checkpoint_and_ends_as_one_run_would(clip_case, inferred):
    home, (case_path, reference_path) = clip_case["home"], clip_case["cases"]
    events = _interrupt(case_path, home)
    assert events[-1].status == "cancelled" and events[-1].items_done == 0
    run, kept, _ = _rows(case_path)
    with CaseStore.open(case_path, readonly=True) as store:
        points = store.item_checkpoints(run.id)
        report = verify_case(store, record=False)
    assert report.ok, report.problems
    point = points[clip_case["evidence_id"]]
    assert kept and max(frame for frame, *_ in kept) == point.through_frame
    assert len({frame for frame, *_ in kept}) == point.frames < FRAMES
    before = sum(inferred)

    inferred.clear()
    resumed = list(analyze(case_path, _resume(), home=home))
    assert resumed[-1].status == "completed"
    _, rows, verdicts = _rows(case_path)
    assert sum(inferred) == len(rows) - len(kept)  # only the frames after the checkpoint were scored again
    assert sum(inferred) < len(rows) and before + sum(inferred) >= len(rows)

    inferred.clear()
    list(analyze(reference_path, _job(), home=home))
    _, reference_rows, reference_verdicts = _rows(reference_path)
    assert rows == reference_rows  # same frames, tracks, boxes and scores as a run that was never stopped
    assert verdicts == reference_verdicts
    with CaseStore.open(case_path, readonly=True) as store:
        report = verify_case(store, record=False)
        resumed_entry = [e for e in store.audit_entries() if e.action == "run resumed"][-1]
    assert report.ok, report.problems
    assert resumed_entry.details["kept"] == [[clip_case["evidence_id"], "vit_optimum"]]


def test_a_checkpointed_row_changed_before_the_resume_is_caught_and_the_clip_redone(clip_case, inferred):
    home, (case_path, _) = clip_case["home"], clip_case["cases"]
    _interrupt(case_path, home)
    with CaseStore.open(case_path) as store:
        run_id = store.list_runs()[-1].id
        store.db.execute("UPDATE results SET p_manipulated = 0.001 WHERE id = (SELECT min(id) FROM results)")
        store.db.conn.commit()
    with CaseStore.open(case_path, readonly=True) as store:
        report = verify_case(store, record=False)
        assert not store.item_checkpoints(run_id)  # not trusted any more
    assert not report.ok and any("last checkpointed" in p for p in report.problems)

    inferred.clear()
    resumed = list(analyze(case_path, _resume(), home=home))
    assert resumed[-1].status == "completed"
    _, rows, _ = _rows(case_path)
    assert sum(inferred) == len(rows)  # every frame scored again
    assert 0.001 not in [p for *_, p in rows]
    with CaseStore.open(case_path, readonly=True) as store:
        report = verify_case(store, record=False)
        assert [e for e in store.audit_entries() if e.action == "run resumed"][-1].details["kept"] == []
    assert report.ok, report.problems


def test_a_model_failing_after_a_checkpoint_leaves_no_frames_of_that_item(clip_case, monkeypatch):
    home, (case_path, _) = clip_case["home"], clip_case["cases"]
    calls = []
    real = ModelRunner.logits_from_pixels

    def failing_later(self, pixels):
        calls.append(1)
        if len(calls) > 4:
            raise RuntimeError("the accelerator went away")
        return real(self, pixels)

    monkeypatch.setattr(ModelRunner, "logits_from_pixels", failing_later)
    events = list(analyze(case_path, _job(), home=home))
    assert any(isinstance(e, ItemFailed) for e in events)
    assert isinstance(events[-1], RunFinished) and events[-1].items_failed == 1
    with CaseStore.open(case_path, readonly=True) as store:
        run_id = store.list_runs()[-1].id
        assert any(e.action == "item checkpoint" for e in store.audit_entries())
        assert store.results(run_id) == [] and store.verdicts(run_id)[0].score is None
        report = verify_case(store, record=False)
    assert report.ok, report.problems


def test_frames_held_by_a_checkpoint_are_not_decoded_into_model_inputs_again(tmp_path):
    from engine.analysis.feeder import END, Feeder
    import queue

    clip = make_face_clip(tmp_path / "clip.mp4", n_frames=12, fps=10.0)
    with CaseStore.create(str(tmp_path / "c.dfwcase"), "c", "e", actor="t") as store:
        evidence = store.add_evidence(clip)
    from engine.models.loader import load_model

    spec = load_model(str(MODELS / "vit_optimum"))
    sent = {}
    for skip in ({}, {evidence.id: 5}):
        out: "queue.Queue" = queue.Queue()
        feeder = Feeder([(evidence, (spec.name,))], {spec.name: spec}, frames_per_clip=12, face_mode="auto",
                        face_margin=1.3, yunet_path=None, out=out, skip_through=skip)
        feeder.run()
        messages = []
        while (message := out.get()) is not END:
            messages.append(message)
        frames = [m[2][0].frame_index for m in messages if m[0] == "regions"]
        outcome = [m[2] for m in messages if m[0] == "decoded"][0]
        sent[bool(skip)] = (frames, outcome.frames, outcome.faces)
    assert sent[True][0] == [f for f in sent[False][0] if f > 5]
    assert sent[True][1:] == sent[False][1:]  # faces and frames still counted over the whole clip
    assert np.all(np.diff(sent[False][0]) > 0)


def test_a_report_of_the_stopped_run_says_what_the_unfinished_clip_holds(clip_case, tmp_path):
    import json
    from pathlib import Path

    from tests.engine.report.conftest import export_report

    home, (case_path, _) = clip_case["home"], clip_case["cases"]
    _interrupt(case_path, home)
    with CaseStore.open(case_path, readonly=True) as store:
        point = store.item_checkpoints(1)[clip_case["evidence_id"]]
    document = json.loads(Path(export_report(case_path, tmp_path / "r.json", "json").path).read_text())
    run = document["evidence"][0]["runs"][0]
    assert run["verdicts"] == [] and run["run_status"] == "cancelled"
    assert run["unfinished"] == (f"the run stopped before this item was finished: {point.frames} sampled frame(s) "
                                 "scored so far by vit_optimum; no verdict until the run is resumed")
    html = Path(export_report(case_path, tmp_path / "r.html", "html").path).read_text()
    assert f'<p class="caution"><b>Unfinished:</b> {run["unfinished"]}</p>' in html
