"""Reports say what a verdict rests on: the deciding track and its detections, a caution when only
face tracks seen too seldom were scored, and for an item a run stopped in, what it holds so far."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from engine.analysis.judgement import store_verdicts
from engine.analysis.verdicts import VerdictSettings, verdict_note
from engine.case import CaseStore
from tests.engine.media.synth import make_face_clip
from tests.engine.report.conftest import export_report

SETTINGS = VerdictSettings(min_track_frames=5)


@pytest.fixture
def weak_case(tmp_path) -> str:
    """A clip whose only scored regions are two face tracks seen in 2 and 3 sampled frames."""
    clip = make_face_clip(tmp_path / "clip.mp4", n_frames=12)
    path = str(tmp_path / "weak.dfwcase")
    with CaseStore.create(path, "Weak", "Ann") as store:
        evidence = store.add_evidence(clip)
        model = {"name": "det", "sha256": "ab" * 32, "meaning": {"judges": "authenticity", "manipulated": ["fake"]}}
        run_id = store.start_run([model], {"frames_per_clip": 8, "face_mode": "only", "verdict": SETTINGS.to_dict()},
                                 "cpu", [evidence.id])
        rows = [{"evidence_id": evidence.id, "model": "det", "frame_index": frame, "timestamp": frame / 10,
                 "track_id": track, "box": [10, 10, 50, 50], "probabilities": {"fake": p, "real": 1 - p},
                 "p_manipulated": p}
                for track, frames, p in ((1, (0, 1), 0.9), (2, (3, 4, 5), 0.2)) for frame in frames]
        store.add_results(run_id, rows, complete=(evidence.id, "det"))
        store_verdicts(store, run_id, evidence.id, {"det": "authenticity"}, SETTINGS, {"face_mode": "only"})
        store.finish_run(run_id)
    return path


def test_the_note_names_the_deciding_track_its_detections_and_the_caution():
    assert verdict_note({"reason": "no face found", "worst_track": "face track 1"}) == "no face found"
    assert verdict_note({"worst_track": "face track 2", "worst_track_detections": 7}) == \
        "most suspicious: face track 2 (7 detection(s))"
    weak = verdict_note({"worst_track": "face track 1", "worst_track_detections": 2,
                         "caution": "only face tracks seen in fewer than 5 sampled frames were scored"})
    assert weak == ("most suspicious: face track 1 (2 detection(s)); caution: only face tracks seen in fewer than "
                    "5 sampled frames were scored")
    assert verdict_note({"worst_track": "whole frame", "worst_track_detections": 16}) == \
        "most suspicious: whole frame (16 frame(s) scored)"
    assert verdict_note({}) is None


def test_a_verdict_resting_on_weak_tracks_says_so_in_every_format(weak_case, tmp_path):
    with CaseStore.open(weak_case, readonly=True) as store:
        verdict = next(v for v in store.verdicts(1) if v.model == "det")
    assert verdict.details.get("rests_on_weak_tracks") is True  # the case really is one
    caution = verdict.details["caution"]

    document = json.loads(Path(export_report(weak_case, tmp_path / "r.json", "json").path).read_text())
    shown = next(v for v in document["evidence"][0]["runs"][0]["verdicts"] if v["model"] == "det")
    assert shown["caution"] == caution and shown["note"].endswith(f"caution: {caution}")
    assert "(2 detection(s))" in shown["note"]
    ensemble = document["summary"][0]["ensemble"]
    assert ensemble["caution"] == caution

    html = Path(export_report(weak_case, tmp_path / "r.html", "html").path).read_text()
    assert f'<td class="caution">{shown["note"]}</td>' in html
    assert '<span class="caution">(rests on weak face tracks)</span>' in html  # in the summary, first

    rows = list(csv.DictReader(io.StringIO(
        Path(export_report(weak_case, tmp_path / "r.csv", "csv").path).read_text("utf-8-sig"))))
    summary = next(r for r in rows if r["row_kind"] == "summary")
    assert f"caution: {caution}" in summary["message"]

    from tests.engine.report.pdftools import pdf_text

    text = " ".join(pdf_text(export_report(weak_case, tmp_path / "r.pdf", "pdf").path).split())
    assert "rests on weak face tracks" in text
    assert "caution: only face tracks seen in fewer than 5" in text
