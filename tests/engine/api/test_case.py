"""engine.api.Case: everything on one open case, in one process, with no second open."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.api import (
    ENSEMBLE, AnalysisJob, EvidenceStatus, EvidenceVerdicts, RunFinished, RunProgress, RunStarted,
    RunStatus, Workstation,
)
from engine.case.lock import WriterLock
from engine.case.store import CaseStore
from engine.errors import CaseError, CaseNotWritable, MediaError
from engine.media.frames import read_frame
from tests.engine.conftest import IMAGES, MODELS
from tests.engine.media.synth import face_image, make_face_clip, make_indexed_clip, read_index

VIT = str(MODELS / "vit_optimum")
TIMM = str(MODELS / "timm_vit")
QUALITY = str(MODELS / "vit_quality_tfjs")


@pytest.fixture
def media(tmp_path) -> dict[str, Path]:
    folder = tmp_path / "evidence"
    folder.mkdir()
    clip = make_face_clip(folder / "clip.mp4", n_frames=20, fps=10.0)
    face = folder / "face.png"
    cv2.imwrite(str(face), face_image())
    photo = folder / "photo.jpg"
    shutil.copy(IMAGES / "exif_rot6_480x320.jpg", photo)
    return {"folder": folder, "clip": clip, "face": face, "photo": photo}


def _job(**kwargs) -> AnalysisJob:
    return AnalysisJob(models=(VIT, TIMM, QUALITY), provider="cpu", allow_test_fixtures=True, frames_per_clip=4,
                       **kwargs)


def test_one_open_case_does_everything_in_order(tmp_path, media):
    workstation = Workstation(tmp_path / "home")
    case_path = tmp_path / "one.dfwcase"
    with workstation.create_case(case_path, title="One", examiner="Ann") as case:
        report = case.add_evidence([media["folder"]])
        assert [Path(a.path).name for a in report.added] == ["clip.mp4", "face.png", "photo.jpg"]
        ids = [a.evidence.id for a in report.added]
        note = case.add_note(ids[0], "checked the jaw line")
        events = list(case.analyze(_job(explain=True)))
        assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
        assert events[-1].status == RunStatus.COMPLETED and events[-1].items_done == 9
        bookmark = case.add_bookmark(ids[0], 0, "first frame")
        result = case.export_report(tmp_path / "one.json", "json")
        assert result.ok and Path(result.path).is_file()
        verification = case.verify()
        assert verification.ok and verification.recorded
        actions = [entry.action for entry in case._store.audit_entries()]
    for action in ("note added", "run started", "run finished", "bookmark added", "report exported",
                   "verification done"):
        assert action in actions
    assert actions.index("note added") < actions.index("run started") < actions.index("bookmark added") \
        < actions.index("report exported")
    assert actions[-1] == "verification done"  # the export verified too; this is the last, separate check
    document = json.loads(Path(result.path).read_text("utf-8"))
    annotations = document["evidence"][0]["annotations"]
    assert [a["id"] for a in annotations["note"]] == [note] and [a["id"] for a in annotations["bookmark"]] == [bookmark]


def test_progress_counts_frames_up_to_the_total(tmp_path, media):
    workstation = Workstation(tmp_path / "home")
    seen: list[tuple[int, int]] = []
    with workstation.create_case(tmp_path / "p.dfwcase", title="P", examiner="Ann") as case:
        case.add_evidence([media["clip"], media["photo"]])
        events = list(case.analyze(_job(), progress=lambda done, total, _: seen.append((done, total))))
    started = events[0]
    assert started.frames_total == 4 + 1  # four sampled frames and one image
    progress = [e for e in events if isinstance(e, RunProgress)]
    assert progress and all(e.total == 5 and e.unit == "frames" for e in progress)
    dones = [e.done for e in progress]
    assert dones == sorted(dones) and dones[-1] == 5  # never backwards, and it ends full
    assert seen == [(e.done, e.total) for e in progress]  # the callable hears the same numbers


def test_overview_headline_tags_and_interrupted_status(tmp_path, media):
    workstation = Workstation(tmp_path / "home")
    case_path = tmp_path / "o.dfwcase"
    with workstation.create_case(case_path, title="O", examiner="Ann", number="7") as case:
        ids = [a.evidence.id for a in case.add_evidence([media["face"], media["photo"]]).added]
        case.add_tag(ids[0], "priority")
        case.add_tag(ids[0], "priority")
        list(case.analyze(AnalysisJob(models=(VIT,), provider="cpu", allow_test_fixtures=True, evidence_ids=(ids[0],))))
        overview = case.overview()
    assert overview.info.number == "7" and not overview.readonly
    first, second = overview.evidence
    assert first.status == EvidenceStatus.ANALYSED and first.tags == ("priority",)
    assert first.headline is not None and first.headline.model == ENSEMBLE and first.verdict_run_id == 1
    assert second.status == EvidenceStatus.NOT_ANALYSED and second.headline is None
    # A run left "running" by a writer that died reads as interrupted, and so do its items.
    with CaseStore.open(case_path) as store:
        run = store.start_run([{"name": "x"}], {}, "cpu", [ids[1]])
    with workstation.open_case(case_path, readonly=True) as case:
        overview = case.overview()
        assert overview.runs[-1].run.status == "running" and overview.runs[-1].status == RunStatus.INTERRUPTED
        assert overview.evidence[1].status == EvidenceStatus.INTERRUPTED
        assert overview.resumable_run is not None and overview.resumable_run.id == run


def test_a_case_held_elsewhere_opens_read_only_and_says_who(tmp_path):
    workstation = Workstation(tmp_path / "home")
    case_path = tmp_path / "held.dfwcase"
    workstation.create_case(case_path, title="H", examiner="Ann").close()
    holder = WriterLock.acquire(case_path)  # what another program's open leaves
    try:
        with workstation.open_case(case_path) as case:
            assert case.readonly and case.readonly_reason == "it is open for writing elsewhere"
            assert f"pid {os.getpid()}" in (case.holder or "")
            with pytest.raises(CaseNotWritable, match="open elsewhere"):
                case.add_note(1, "x")
            with pytest.raises(CaseNotWritable):
                case.add_evidence([IMAGES / "rgb_640x480.jpg"])
            verification = case.verify()
            assert not verification.recorded and "not recorded" in verification.notes[-1]
    finally:
        holder.release()


def test_timeline_regions_and_frames_come_from_the_stored_results(tmp_path, media):
    workstation = Workstation(tmp_path / "home")
    with workstation.create_case(tmp_path / "t.dfwcase", title="T", examiner="Ann") as case:
        clip = case.add_evidence([media["clip"]]).added[0].evidence
        events = list(case.analyze(_job()))
        run_id = events[0].run_id
        verdicts = {v.model: v for e in events if isinstance(e, EvidenceVerdicts) for v in e.verdicts}
        timeline = case.timeline(run_id, clip.id)
        rows = list(case.results(run_id, clip.id))
        assert timeline.authenticity == ("vit_optimum", "timm_vit") and timeline.others == ("vit_quality_tfjs",)
        assert len(timeline.frames) == 4 and timeline.threshold == 0.5 and timeline.band == (0.4, 0.6)
        vit = timeline.line("vit_optimum")
        for point in vit.points:  # a model's line is its most suspicious region of each frame
            assert point.score == max(r.p_manipulated for r in rows
                                      if r.model == "vit_optimum" and r.frame_index == point.frame_index)
        ensemble_track0 = timeline.line(ENSEMBLE, 0, per_track=True)
        frame = ensemble_track0.points[0].frame_index
        regions = {r.track_id: r for r in case.regions(run_id, clip.id, frame)}
        assert set(regions) == {None, 0, 1}
        face = regions[0]
        assert face.ensemble == pytest.approx((face.scores["vit_optimum"] + face.scores["timm_vit"]) / 2)
        assert face.scores["vit_quality_tfjs"] is None and ensemble_track0.points[0].score == pytest.approx(face.ensemble)
        # The ensemble verdict's worst track scores what the per-track line says (topk_mean, k=3).
        worst = verdicts[ENSEMBLE].details["worst_track"]
        track = None if worst == "whole frame" else int(worst.split()[-1])
        line = timeline.line(ENSEMBLE, track, per_track=True)
        assert verdicts[ENSEMBLE].score == pytest.approx(np.mean(sorted((p.score for p in line.points))[-3:]))
        # The frame handed back is the decoded frame the scores refer to.
        pixels = case.frame(clip.id, frame)
        np.testing.assert_array_equal(pixels, read_frame(media["clip"], frame)[:, :, ::-1])


def test_frame_refuses_a_changed_file_and_applies_rotation(tmp_path, media):
    workstation = Workstation(tmp_path / "home")
    clip = make_indexed_clip(tmp_path / "indexed.mp4", 30, rotation=90)
    with workstation.create_case(tmp_path / "f.dfwcase", title="F", examiner="Ann") as case:
        photo, video = (a.evidence for a in case.add_evidence([media["photo"], clip]).added)
        still = case.frame(photo.id, 0)
        assert still.shape == (480, 320, 3)  # EXIF orientation 6 turns 480×320 upright
        upright = case.frame(video.id, 12)
        assert read_index(upright[:, :, ::-1]) == 12 and upright.shape[:2] == (240, 320)
        with pytest.raises(MediaError, match="one frame"):
            case.frame(photo.id, 3)
        data = bytearray(media["photo"].read_bytes())
        data[-10] ^= 0xFF
        media["photo"].write_bytes(bytes(data))
        with pytest.raises(MediaError, match="changed since it was added"):
            case.frame(photo.id, 0)
        media["photo"].unlink()
        with pytest.raises(MediaError, match="cannot be shown"):
            case.frame(photo.id, 0)
        with pytest.raises(CaseError, match="no evidence item 99"):
            case.frame(99, 0)


def test_details_of_one_item_and_the_last_verification(tmp_path, media):
    workstation = Workstation(tmp_path / "home")
    with workstation.create_case(tmp_path / "d.dfwcase", title="D", examiner="Ann") as case:
        face, photo = (a.evidence.id for a in case.add_evidence([media["face"], media["photo"]]).added)
        assert case.overview().last_verification is None
        list(case.analyze(AnalysisJob(models=(VIT,), provider="cpu", allow_test_fixtures=True)))
        list(case.analyze(AnalysisJob(models=(TIMM,), provider="cpu", allow_test_fixtures=True, evidence_ids=(face,))))
        case.add_note(face, "looked at the ears")
        details = case.evidence_details(face)
        assert [r.run.id for r in details.runs] == [2, 1]  # newest first
        assert [v.model for v in details.runs[0].verdicts] == ["timm_vit", ENSEMBLE]
        assert details.summary.verdict_run_id == 2 and [a.text for a in details.annotations] == ["looked at the ears"]
        assert [r.run.id for r in case.evidence_details(photo).runs] == [1]
        assert [s.evidence.id for s in case.evidence_summaries([photo])] == [photo]
        with pytest.raises(CaseError, match="no evidence item 42"):
            case.evidence_details(42)
        media["photo"].write_bytes(b"changed")
        assert not case.verify().ok
        record = case.overview().last_verification
        assert record is not None and not record.ok and record.evidence_problems == (photo,)


def test_a_reader_sees_committed_writes_while_the_case_stays_open(tmp_path, media):
    workstation = Workstation(tmp_path / "home")
    with workstation.create_case(tmp_path / "r.dfwcase", title="R", examiner="Ann") as case:
        with case.reader() as reader:
            assert reader.readonly and reader.overview().evidence == ()
            face = case.add_evidence([media["face"]]).added[0].evidence.id
            assert [s.evidence.id for s in reader.overview().evidence] == [face]
            with pytest.raises(CaseNotWritable):
                reader.add_note(face, "x")


def test_a_track_marked_not_a_face_leaves_the_verdict_and_the_audit_log_says_so(tmp_path, media):
    workstation = Workstation(tmp_path / "home")
    with workstation.create_case(tmp_path / "x.dfwcase", title="X", examiner="Ann") as case:
        clip = case.add_evidence([media["clip"]]).added[0].evidence.id
        events = list(case.analyze(AnalysisJob(models=(VIT, TIMM), provider="cpu", allow_test_fixtures=True,
                                               frames_per_clip=4, face_mode="only")))
        run_id = events[0].run_id
        before = {v.model: v for v in case.evidence_details(clip).runs[0].verdicts}
        assert before[ENSEMBLE].details["tracks"] == {"face track 0": 4, "face track 1": 4}
        verdicts = {v.model: v for v in case.exclude_track(run_id, clip, 0)}
        assert verdicts[ENSEMBLE].details["tracks"] == {"face track 1": 4}
        assert verdicts[ENSEMBLE].details["excluded_tracks"] == {"0": "not a face"}
        timeline = case.timeline(run_id, clip)
        track1 = timeline.line(ENSEMBLE, 1, per_track=True)
        assert verdicts[ENSEMBLE].score == pytest.approx(np.mean(sorted(p.score for p in track1.points)[-3:]))
        assert timeline.line(ENSEMBLE, 0, per_track=True).excluded
        stored = {v.model: v for v in case.evidence_details(clip).runs[0].verdicts}
        assert stored[ENSEMBLE].score == pytest.approx(verdicts[ENSEMBLE].score)
        entries = [e for e in case._store.audit_entries() if e.action in ("track excluded", "verdicts recomputed")]
        assert [e.action for e in entries] == ["track excluded", "verdicts recomputed"]
        assert entries[1].details["before"][ENSEMBLE][0] == pytest.approx(before[ENSEMBLE].score)
        with pytest.raises(CaseError, match="already excluded"):
            case.exclude_track(run_id, clip, 0)
        with pytest.raises(CaseError, match="no face track 7"):
            case.exclude_track(run_id, clip, 7)
        again = {v.model: v for v in case.include_track(run_id, clip, 0)}
        assert again[ENSEMBLE].score == pytest.approx(before[ENSEMBLE].score)
        assert "excluded_tracks" not in again[ENSEMBLE].details
        agreement = case.model_agreement(run_id, clip)
        assert agreement.models == ("vit_optimum", "timm_vit") and ("vit_optimum", "timm_vit") in agreement.correlation
        assert case.verify().ok
