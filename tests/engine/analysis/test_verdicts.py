"""Verdicts from stored rows, with numbers worked by hand."""

from __future__ import annotations

import pytest

from engine.analysis.verdicts import VerdictSettings, compute_verdicts
from engine.case.records import FrameResult


def row(model, frame, track, p, probabilities=None):
    return FrameResult(0, 1, 1, model, frame, None, track, None,
                       probabilities or ({"fake": p, "real": 1 - p} if p is not None else {"a": 0.25, "b": 0.75}), p)


def test_worst_track_wins_and_ensemble_weights_per_region():
    rows = [
        row("a", 0, None, 0.2), row("a", 1, None, 0.4),
        row("a", 0, 0, 0.9), row("a", 1, 0, 0.7),
        row("b", 0, None, 0.6), row("b", 1, None, 0.3),
        row("b", 0, 0, 0.1), row("b", 1, 0, 0.3),
        row("q", 0, None, None), row("q", 1, None, None),
    ]
    settings = VerdictSettings(rule="mean", threshold=0.5, margin=0.1, weights={"a": 3.0})
    verdicts = {v.model: v for v in compute_verdicts(rows, {"a": "authenticity", "b": "authenticity", "q": "other"}, settings)}
    # a: whole frame mean 0.3, face track 0 mean 0.8 → 0.8 (face track 0)
    assert verdicts["a"].score == pytest.approx(0.8) and verdicts["a"].details["worst_track"] == "face track 0"
    assert verdicts["a"].label == "likely manipulated"
    # b: whole frame 0.45, face 0.2 → 0.45, within 0.5 ± 0.1 → inconclusive
    assert verdicts["b"].score == pytest.approx(0.45) and verdicts["b"].label == "inconclusive"
    # ensemble per region: frame0 whole (3·0.2+0.6)/4 = 0.3, frame1 whole (3·0.4+0.3)/4 = 0.375 → 0.3375
    # face: (3·0.9+0.1)/4 = 0.7, (3·0.7+0.3)/4 = 0.6 → 0.65 → worst track 0.65
    assert verdicts["ensemble"].score == pytest.approx(0.65)
    assert verdicts["ensemble"].details["models"] == ["a", "b"]
    assert verdicts["q"].label == "not applicable" and verdicts["q"].score is None
    assert verdicts["q"].details["mean_probabilities"] == {"a": 0.25, "b": 0.75}


def test_no_authenticity_model_means_no_ensemble():
    verdicts = compute_verdicts([row("q", 0, None, None)], {"q": "other"}, VerdictSettings())
    assert [v.model for v in verdicts] == ["q"]


def test_empty_results_carry_the_reason():
    (model, ensemble) = compute_verdicts([], {"a": "authenticity"}, VerdictSettings(),
                                         {"empty_reason": "no face found"})
    assert model.label == ensemble.label == "not applicable"
    assert model.details["reason"] == ensemble.details["reason"] == "no face found"


@pytest.mark.parametrize("recorded, named", [
    ([1, 2], "not an object"),
    ({"rule": "coin_toss"}, "coin_toss"),
    ({"rule": 7}, "not a known rule"),
    ({"params": [3]}, "params"),
    ({"weights": {"m": 1, 2: 3}}, "weights"),
    ({"threshold": "high"}, "threshold"),
    ({"margin": float("nan")}, "margin"),
    ({"threshold": True}, "threshold"),
    ({"min_track_frames": 0}, "face track needs"),
    ({"min_track_frames": 2.5}, "face track needs"),
    ({"min_track_frames": True}, "face track needs"),
])
def test_recorded_settings_of_the_wrong_shape_are_one_line_errors(recorded, named):
    from engine.errors import SettingsError

    with pytest.raises(SettingsError, match=named):
        VerdictSettings.from_dict(recorded)


def clip_row(model, frame, track, p):
    """A row of a clip: clips' rows carry a timestamp, a still image's never do."""
    return FrameResult(0, 1, 1, model, frame, frame / 10.0, track, None, {"fake": p, "real": 1 - p}, p)


def test_a_face_track_seen_in_too_few_frames_never_decides_beside_others():
    """A sleeve taken for a face in two frames scores 0.99; the person seen in four frames and
    the whole frames decide, and the details name the weak track and what the verdict rests on."""
    rows = [clip_row("a", f, None, 0.3) for f in range(4)] + [clip_row("a", f, 1, 0.2) for f in range(4)]
    rows += [clip_row("a", 1, 0, 0.99), clip_row("a", 2, 0, 0.99)]
    settings = VerdictSettings(rule="mean", min_track_frames=3)
    model, ensemble = compute_verdicts(rows, {"a": "authenticity"}, settings)
    for verdict in (model, ensemble):
        assert verdict.score == pytest.approx(0.3) and verdict.label == "no indication"
        assert verdict.details["worst_track"] == "whole frame" and verdict.details["worst_track_detections"] == 4
        assert verdict.details["weak_tracks"] == ["face track 0"] and "rests_on_weak_tracks" not in verdict.details
    legacy = VerdictSettings(rule="mean", min_track_frames=1)  # what runs recorded before the rule judge by
    assert compute_verdicts(rows, {"a": "authenticity"}, legacy)[0].score == pytest.approx(0.99)


def test_weak_tracks_decide_only_when_nothing_else_exists_and_the_verdict_says_so():
    rows = [clip_row("a", 3, 0, 0.9), clip_row("a", 7, 0, 0.7), clip_row("a", 9, 1, 0.4)]
    model, ensemble = compute_verdicts(rows, {"a": "authenticity"}, VerdictSettings(rule="mean"))
    for verdict in (model, ensemble):
        assert verdict.score == pytest.approx(0.8) and verdict.label == "likely manipulated"
        assert verdict.details["rests_on_weak_tracks"] is True and verdict.details["worst_track"] == "face track 0"
        assert verdict.details["weak_tracks"] == ["face track 0", "face track 1"]
        assert verdict.details["worst_track_detections"] == 2 and "fewer than 3" in verdict.details["caution"]


def test_a_still_image_face_is_never_weak():
    (model,) = compute_verdicts([row("a", 0, 0, 0.9)], {"a": "authenticity"}, VerdictSettings())[:1]
    assert model.score == pytest.approx(0.9) and "weak_tracks" not in model.details


def test_the_frame_rule_is_recorded_and_read_back():
    settings = VerdictSettings(min_track_frames=5)
    assert settings.to_dict()["min_track_frames"] == 5
    assert VerdictSettings.from_dict(settings.to_dict()).min_track_frames == 5
    assert VerdictSettings.from_dict({}).min_track_frames == 1  # recorded before the rule: every track decides
