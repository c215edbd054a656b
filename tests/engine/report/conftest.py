"""A case built by the real pipeline for report tests: a face clip, a face photo and a photo with a hostile name."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.case import CaseStore
from engine.explain.overlay import OCCLUSION, Overlay
from engine.models.loader import load_model
from engine.analysis.events import RunStarted
from engine.analysis.job import AnalysisJob
from engine.api import Workstation
from tests.engine.conftest import IMAGES, MODELS, analyze
from tests.engine.media.synth import face_image, make_face_clip

VIT = str(MODELS / "vit_optimum")
TIMM = str(MODELS / "timm_vit")
QUALITY = str(MODELS / "vit_quality_tfjs")
HOSTILE = "<img src=x onerror=alert(1)>.jpg"
BOOKMARK_COMMENT = "=mouth <i>blurs</i>\nsecond line"  # markup, a formula start and a line break


def build_case(folder: Path, models=(VIT, TIMM, QUALITY), with_clip: bool = True) -> dict:
    evidence = folder / "evidence"
    evidence.mkdir(parents=True)
    paths = []
    if with_clip:
        paths.append(make_face_clip(evidence / "interview clip.mp4", n_frames=30, fps=10.0))
    face = evidence / "face é.png"
    cv2.imwrite(str(face), face_image())
    paths.append(face)
    hostile = evidence / HOSTILE
    shutil.copy(IMAGES / "rgb_640x480.jpg", hostile)
    paths.append(hostile)
    case_path = str(folder / "case.dfwcase")
    with CaseStore.create(case_path, "Überprüfung Müller", "Anaïs Examiner", number="2026-ÄÖ-17",
                          organisation="Forensic Lab é", actor="tester") as store:
        ids = [store.add_evidence(p).id for p in paths]
    job = AnalysisJob(models=tuple(models), provider="cpu", allow_test_fixtures=True, frames_per_clip=5, batch_size=8)
    events = list(analyze(case_path, job, home=str(folder / "home")))
    run_id = next(e.run_id for e in events if isinstance(e, RunStarted))
    with CaseStore.open(case_path, actor="tester") as store:
        first = ids[0]
        store.add_note(first, "Lighting looks odd near the jaw — vérifier <b>bold</b>")
        store.add_tag(first, "priority")
        store.add_bookmark(first, 0, "first frame")
        # An overlay on the most suspicious region of the first item, as the explain step stores it.
        rows = [r for r in store.results(run_id, first, "vit_optimum")]
        top = max(rows, key=lambda r: r.p_manipulated)
        store.add_bookmark(first, top.frame_index, BOOKMARK_COMMENT, "warning", author="reviewer")
        spec = load_model(VIT)
        grid = np.linspace(0, 1, 14 * 14, dtype=np.float32).reshape(14, 14)
        overlay = Overlay(OCCLUSION, spec.name, spec.onnx_sha256, grid, tuple(top.box), spec.preprocess)
        store.add_overlay(run_id, first, top.frame_index, **overlay.case_fields())
    return {"case": case_path, "ids": ids, "paths": paths, "run_id": run_id, "overlay_frame": top.frame_index,
            "overlay_box": top.box, "overlay_time": top.timestamp}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    return build_case(tmp_path_factory.mktemp("report case"))


def export_report(case_path, out, fmt, actor=None, **options):
    """Export through the engine API, as `main.py report` does."""
    with Workstation().open_case(case_path, actor=actor) as case:
        return case.export_report(out, fmt, **options)
