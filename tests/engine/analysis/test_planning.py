"""Run planning: what a run record says was asked for, and how many frames an item gives."""

from __future__ import annotations

from engine.analysis.job import ModelChoice
from engine.analysis.planning import expected_frames
from engine.analysis.resume import recorded_choice
from engine.case.records import Evidence


def evidence(kind, metadata=None):
    return Evidence(1, "p", "p", 1, None, None, "0" * 64, kind, None, None, metadata or {})


def test_recorded_choice_reads_a_store_name_and_variant_never_a_path():
    assert recorded_choice("det:int8") == ModelChoice("det", "int8")
    assert recorded_choice("det") == ModelChoice("det", None)
    # Only the recorded name counts: what the run was asked for (a path, say) is never loaded.
    assert recorded_choice("vit_optimum") == ModelChoice("vit_optimum")


def test_expected_frames():
    assert expected_frames(evidence("image"), 16) == 1
    assert expected_frames(evidence("video", {"video": {"frame_count": 5}}), 16) == 5
    assert expected_frames(evidence("video", {"video": {"frame_count": 500}}), 16) == 16
    assert expected_frames(evidence("video", {"describe_error": "x"}), 16) == 16
