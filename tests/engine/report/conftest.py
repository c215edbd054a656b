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


QUANTIZED = "det"  # a linear classifier made here, with an INT8 variant kept below its thresholds (forced)


def _forced_int8_model(home: Path, folder: Path) -> str:
    """A stored model with an INT8 variant that cannot meet its thresholds, kept with --force."""
    from engine.media.image import load_image
    from engine.models.loader import ModelOverrides
    from engine.models.quantize import Thresholds, quantize_stored_model
    from engine.models.store import ModelStore
    from tests.engine.conftest import make_linear_classifier

    store = ModelStore(home)
    store.import_model(make_linear_classifier(folder / "det.onnx", size=8), QUANTIZED,
                       overrides=ModelOverrides(labels=["real", "fake"], preprocess="hf", input_size=8))
    images = [load_image(IMAGES / n).rgb for n in ("rgb_640x480.jpg", "gray_257x129.png", "tiny_17x31.png")]
    outcome = quantize_stored_model(store, QUANTIZED, images, source="fixture images", force=True,
                                    thresholds=Thresholds(min_top1_agreement=1.5))  # unreachable: forced
    assert outcome.figures["forced"] is True
    return f"{QUANTIZED}:{outcome.variant}"


def build_history_case(folder: Path) -> dict:
    """Three items analysed twice by the real pipeline: run 1 (two models, faces auto) cancelled
    after its first item and resumed; run 2 with four models (one sigmoid, one INT8 variant kept
    below its thresholds, one that judges quality), faces only and overlays; and bookmarks."""
    from engine.analysis.events import EvidenceVerdicts
    from engine.api import ModelChoice

    evidence = folder / "evidence"
    evidence.mkdir(parents=True)
    clip = make_face_clip(evidence / "interview.mp4", n_frames=20, fps=10.0)
    face = evidence / "portrait.png"
    cv2.imwrite(str(face), face_image())
    photo = evidence / "street.jpg"
    shutil.copy(IMAGES / "rgb_640x480.jpg", photo)
    home = folder / "home"
    variant = _forced_int8_model(home, folder)
    workstation = Workstation(home)
    for path, name in ((VIT, "vit"), (TIMM, "timm"), (QUALITY, "quality")):  # a resume loads models from the store
        workstation.import_model(path, name=name, allow_test_fixture=True)
    case_path = str(folder / "history.dfwcase")
    with CaseStore.create(case_path, "Two runs", "Ann", number="H-2", actor="tester") as store:
        ids = [store.add_evidence(p).id for p in (clip, face, photo)]
    # One region per batch, so the cancel after the first item's verdict lands before the next
    # item is scored: with 8, every item's regions may fit the first batch and finish together.
    first = AnalysisJob(models=("vit", "timm"), provider="cpu", allow_test_fixtures=True, frames_per_clip=4, batch_size=1)
    done = {"items": 0}
    for event in analyze(case_path, first, home=str(home), is_cancelled=lambda: done["items"] >= 1):
        if isinstance(event, EvidenceVerdicts):
            done["items"] += 1
    list(analyze(case_path, AnalysisJob(models=("vit", "timm"), provider="cpu", allow_test_fixtures=True,
                                        frames_per_clip=4, resume=True), home=str(home)))
    second = AnalysisJob(models=("vit", "timm", ModelChoice(QUANTIZED, variant.split(":")[1]), "quality"), provider="cpu",
                         allow_test_fixtures=True, frames_per_clip=5, face_mode="only", explain=True, batch_size=8)
    list(analyze(case_path, second, home=str(home)))
    with CaseStore.open(case_path, actor="tester") as store:
        runs = [r.id for r in store.list_runs()]
        assert [r.status for r in store.list_runs()] == ["completed", "completed"]
        store.add_bookmark(ids[0], 0, "jaw", "warning")
        store.add_bookmark(ids[0], 3, "", "ok")
        store.add_bookmark(ids[1], 0, "compare with the original", "check")
    return {"case": case_path, "home": str(home), "ids": ids, "runs": runs, "variant": variant}


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> dict:
    return build_history_case(tmp_path_factory.mktemp("history case"))
