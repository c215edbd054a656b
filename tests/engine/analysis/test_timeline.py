"""A timeline from stored results: lines per model, ensemble and track; band; frames without faces."""

from __future__ import annotations

import pytest

from engine.analysis.timeline import build_timeline, frame_regions
from engine.case.records import FrameResult
from engine.vocab import ENSEMBLE, RegionKind

MODELS = [{"name": "a", "meaning": {"judges": "authenticity"}}, {"name": "b", "meaning": {"judges": "authenticity"}},
          {"name": "q", "meaning": {"judges": "other"}}]
SETTINGS = {"face_mode": "auto", "verdict": {"threshold": 0.6, "margin": 0.1, "rule": "max", "params": {},
                                             "weights": {}}}


def row(model, frame, track, p, probabilities=None):
    return FrameResult(0, 1, 5, model, frame, frame / 10, track, [1, 2, 3, 4], probabilities or {"fake": p or 0}, p)


ROWS = [row("a", 0, None, 0.1), row("a", 0, 0, 0.9), row("b", 0, None, 0.3), row("b", 0, 0, 0.5),
        row("a", 3, None, 0.7), row("b", 3, None, 0.5), row("q", 0, None, None, {"hq": 0.8}),
        row("q", 3, None, None, {"hq": 0.1})]


def test_lines_band_and_faces():
    timeline = build_timeline(1, 5, ROWS, MODELS, SETTINGS)
    assert timeline.authenticity == ("a", "b") and timeline.others == ("q",)
    assert [(f.frame_index, f.faces) for f in timeline.frames] == [(0, 1), (3, 0)]
    assert timeline.frames_without_faces == (3,) and timeline.band == pytest.approx((0.5, 0.7))
    a = timeline.line("a")
    assert [(p.frame_index, p.timestamp, p.score) for p in a.points] == [(0, 0.0, 0.9), (3, 0.3, 0.7)]
    ensemble = timeline.line(ENSEMBLE)
    assert [p.score for p in ensemble.points] == pytest.approx([0.7, 0.6])  # worst region: (0.9+0.5)/2, (0.7+0.5)/2
    face = timeline.line(ENSEMBLE, 0, per_track=True)
    assert [p.frame_index for p in face.points] == [0] and face.label == "ensemble · face track 0"
    assert timeline.line("q") is None and timeline.headline is ensemble
    assert timeline.frames_over() == (0, 3) and timeline.frames_over(0.65) == (0,)


def test_one_model_has_no_ensemble_line_and_regions_list_each_box():
    timeline = build_timeline(1, 5, [r for r in ROWS if r.model == "a"], MODELS[:1], SETTINGS)
    assert timeline.line(ENSEMBLE) is None and timeline.headline.name == "a"
    regions = frame_regions([r for r in ROWS if r.frame_index == 0], ["a", "b"])
    assert [(r.kind, r.track_id) for r in regions] == [(RegionKind.FRAME, None), (RegionKind.FACE, 0)]
    assert regions[1].scores == {"a": 0.9, "b": 0.5} and regions[1].ensemble == pytest.approx(0.7)
    assert regions[0].scores["q"] is None and regions[0].probabilities["q"] == {"hq": 0.8}
    assert regions[0].box == (1.0, 2.0, 3.0, 4.0)


def test_an_excluded_track_keeps_its_line_but_leaves_the_frame_lines():
    timeline = build_timeline(1, 5, ROWS, MODELS, SETTINGS, excluded={0: "a sleeve"})
    assert [p.score for p in timeline.line("a").points] == [0.1, 0.7]  # frame 0 without the "face"
    face = timeline.line("a", 0, per_track=True)
    assert face.excluded and [p.score for p in face.points] == [0.9]
    assert timeline.excluded_tracks == {0: "a sleeve"}


def test_agreement_counts_frames_over_and_correlates_the_lines():
    from engine.analysis.agreement import model_agreement, pearson

    rows = [row(m, f, None, p) for m, ps in (("a", (0.1, 0.5, 0.9, 0.7)), ("b", (0.2, 0.4, 0.8, 0.9)))
            for f, p in enumerate(ps)]
    agreement = model_agreement(build_timeline(1, 5, rows, MODELS[:2], SETTINGS))
    assert agreement.over_threshold == {"a": 2, "b": 2} and agreement.frames == 4
    assert agreement.correlation[("a", "b")] == pytest.approx(pearson([0.1, 0.5, 0.9, 0.7], [0.2, 0.4, 0.8, 0.9]))
    assert 0.8 < agreement.correlation[("a", "b")] < 1.0
    assert pearson([1, 1, 1], [0, 1, 2]) is None and pearson([1, 2], [1, 2]) is None
