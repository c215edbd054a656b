"""The analysis pipeline end to end on generated evidence and the fixture models."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.case import CaseStore
from engine.errors import ModelError
from engine.analysis.feeder import Feeder
from engine.models.inference import ModelRunner
from engine.media.image import load_image
from engine.models.loader import load_model
from engine.analysis.events import EvidenceVerdicts, ItemFailed, ItemScored, RunFinished, RunStarted
from engine.analysis.job import AnalysisJob
from engine.analysis.verdicts import VerdictSettings
from tests.engine.conftest import IMAGES, MODELS, analyze, run_main
from tests.engine.media.synth import face_image, make_face_clip

VIT = str(MODELS / "vit_optimum")
QUALITY = str(MODELS / "vit_quality_tfjs")
TIMM = str(MODELS / "timm_vit")


@pytest.fixture
def evidence(tmp_path):
    folder = tmp_path / "evidence dossier é"
    folder.mkdir()
    clip = make_face_clip(folder / "clip with faces.mp4", n_frames=30, fps=10.0)
    face = folder / "face.png"
    cv2.imwrite(str(face), face_image())
    photo = folder / "photo.jpg"
    shutil.copy(IMAGES / "rgb_640x480.jpg", photo)
    return {"clip": clip, "face": face, "photo": photo}


def _case(tmp_path, paths) -> tuple[str, list[int]]:
    path = str(tmp_path / "case.dfwcase")
    with CaseStore.create(path, "Pipeline", "Examiner", actor="tester") as store:
        ids = [store.add_evidence(p).id for p in paths]
    return path, ids


def _job(*models, **kwargs) -> AnalysisJob:
    return AnalysisJob(models=tuple(models), provider="cpu", allow_test_fixtures=True, **kwargs)


def _run(case_path, *models, home=None, is_cancelled=None, **kwargs):
    return analyze(case_path, _job(*models, **kwargs), home=home, is_cancelled=is_cancelled)


def test_end_to_end_with_an_authenticity_and_a_quality_model(tmp_path, evidence, monkeypatch):
    monkeypatch.setenv("DFW_HOME", str(tmp_path / "home"))
    case_path, (clip_id, photo_id) = _case(tmp_path, [evidence["clip"], evidence["photo"]])
    before = {p: (os.stat(p).st_mtime_ns, Path(p).read_bytes()) for p in (evidence["clip"], evidence["photo"])}
    events = list(_run(case_path, VIT, QUALITY, frames_per_clip=6, batch_size=4))
    assert isinstance(events[0], RunStarted) and events[0].provider == "cpu"
    assert isinstance(events[-1], RunFinished) and events[-1].status == "completed"
    assert events[-1].items_done == 4 and events[-1].items_failed == 0
    assert sum(isinstance(e, ItemScored) for e in events) == 4
    run_id = events[0].run_id
    with CaseStore.open(case_path, readonly=True) as store:
        clip_rows = store.results(run_id, clip_id, "vit_optimum")
        # 6 sampled frames, each the whole frame plus the two faces of the generated clip
        assert len({r.frame_index for r in clip_rows}) == 6
        assert {r.track_id for r in clip_rows} == {None, 0, 1}
        for row in clip_rows:
            x, y, w, h = row.box
            assert 0 <= x and 0 <= y and x + w <= 640 and y + h <= 360
            assert row.p_manipulated == pytest.approx(row.probabilities["Fake"])
        quality_rows = store.results(run_id, clip_id, "vit_quality_tfjs")
        assert len(quality_rows) == len(clip_rows)
        assert all(r.p_manipulated is None for r in quality_rows)
        # The stored photo score is exactly what the model gives the decoded image.
        (photo_row,) = store.results(run_id, photo_id, "vit_optimum")
        runner = ModelRunner(load_model(VIT), "cpu")
        expected = runner.predict([load_image(evidence["photo"]).rgb])[0]
        assert photo_row.p_manipulated == pytest.approx(expected.p_manipulated, abs=1e-6)
        verdicts = {(v.evidence_id, v.model): v for v in store.verdicts(run_id)}
        assert verdicts[(clip_id, "vit_quality_tfjs")].label == "not applicable"
        assert verdicts[(clip_id, "vit_quality_tfjs")].score is None
        ensemble = verdicts[(clip_id, "ensemble")]
        assert ensemble.details["models"] == ["vit_optimum"]  # the quality model is kept out
        assert ensemble.score == pytest.approx(verdicts[(clip_id, "vit_optimum")].score)
        assert verdicts[(photo_id, "ensemble")].score == pytest.approx(photo_row.p_manipulated)
        assert ensemble.rule == "topk_mean" and ensemble.rule_params == {"k": 3}
        run = store.get_run(run_id)
        assert {m["name"] for m in run.models} == {"vit_optimum", "vit_quality_tfjs"}
        assert all(m["provider"] == "cpu" and len(m["sha256"]) == 64 for m in run.models)
        assert run.settings["frames_per_clip"] == 6
    after = {p: (os.stat(p).st_mtime_ns, Path(p).read_bytes()) for p in before}
    assert after == before  # evidence untouched


def test_bad_items_are_recorded_and_the_run_goes_on(tmp_path, evidence):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes((IMAGES / "rgb_640x480.jpg").read_bytes()[:400])
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(5000))
    case_path, ids = _case(tmp_path, [broken, evidence["photo"], garbage])
    events = list(_run(case_path, VIT))
    failed = [e for e in events if isinstance(e, ItemFailed)]
    assert sorted(e.evidence_id for e in failed) == [ids[0], ids[2]]
    assert all(e.stage == "decode" and e.message for e in failed)
    assert events[-1].status == "completed" and events[-1].items_done == 1 and events[-1].items_failed == 2
    with CaseStore.open(case_path, readonly=True) as store:
        errors = store.item_errors(events[0].run_id)
        assert {e.evidence_id for e in errors} == {ids[0], ids[2]}
        assert store.integrity_check() == ["ok"]


def test_inference_on_the_cpu_decodes_with_one_thread_per_capture(tmp_path, evidence, monkeypatch):
    import engine.analysis.regions

    seen: list[tuple[int, int]] = []
    real = engine.analysis.regions.sample_frames

    def recording(path, n, *, decoder_threads, workers, **kwargs):
        seen.append((decoder_threads, workers))
        return real(path, n, decoder_threads=decoder_threads, workers=workers, **kwargs)

    monkeypatch.setattr(engine.analysis.regions, "sample_frames", recording)
    other = make_face_clip(tmp_path / "other.mp4", n_frames=20, fps=10.0)
    case_path, _ = _case(tmp_path, [evidence["clip"], other])
    events = list(_run(case_path, VIT, frames_per_clip=3, face_mode="off"))
    assert events[-1].status == "completed" and events[-1].items_done == 2
    plan = Feeder.decoding_for("cpu")
    assert seen == [(1, plan.workers), (1, plan.workers)]  # onnxruntime already keeps every core busy


def test_decoding_plan_follows_where_inference_runs():
    from engine.analysis.feeder import MAX_DECODE_WORKERS, DecodePlan

    assert Feeder.decoding_for("cpu", cpus=32) == DecodePlan(threads=1, workers=MAX_DECODE_WORKERS)
    assert Feeder.decoding_for("cpu", cpus=2) == DecodePlan(threads=1, workers=2)
    assert Feeder.decoding_for("cuda", cpus=16) == DecodePlan(threads=2, workers=MAX_DECODE_WORKERS)
    assert Feeder.decoding_for("directml", cpus=1) == DecodePlan(threads=2, workers=1)


def test_changed_evidence_is_not_analysed(tmp_path, evidence):
    copy = tmp_path / "copy.png"
    shutil.copy(evidence["face"], copy)
    case_path, (item,) = _case(tmp_path, [copy])
    with open(copy, "ab") as handle:
        handle.write(b"\x00")
    events = list(_run(case_path, VIT))
    (failure,) = [e for e in events if isinstance(e, ItemFailed)]
    assert "changed since it was added" in failure.message


def test_cancel_keeps_finished_items_and_resume_completes(tmp_path, evidence):
    from engine.models.store import ModelStore

    paths = [evidence["photo"], evidence["face"], IMAGES / "tiny_17x31.png", IMAGES / "gray_257x129.png"]
    case_path, ids = _case(tmp_path, paths)
    home = tmp_path / "home"
    ModelStore(home).import_model(VIT, allow_test_fixture=True)  # a resume loads models from the store only
    scored = []

    def cancel_after_first_item():
        return len(scored) >= 1

    events = []
    for event in _run(case_path, "vit_optimum", home=home, batch_size=1, is_cancelled=cancel_after_first_item):
        events.append(event)
        if isinstance(event, ItemScored):
            scored.append(event)
    assert events[-1].status == "cancelled"
    assert events[-1].items_done == len(scored) < len(ids)
    run_id = events[0].run_id
    with CaseStore.open(case_path, readonly=True) as store:
        kept = store.results(run_id)
        assert {r.evidence_id for r in kept} == {e.evidence_id for e in scored}
    resumed = list(analyze(case_path, AnalysisJob(resume=True, provider="cpu", allow_test_fixtures=True), home=home))
    assert resumed[0].run_id == run_id
    assert resumed[0].items == len(ids) - len(scored)  # only what was missing
    assert resumed[-1].status == "completed" and resumed[-1].items_done == len(ids)
    with CaseStore.open(case_path, readonly=True) as store:
        rows = store.results(run_id)
        assert {r.evidence_id for r in rows} == set(ids)
        regions = [(r.evidence_id, r.frame_index, r.track_id) for r in rows]
        assert len(regions) == len(set(regions))  # no region stored twice
        assert {v.evidence_id for v in store.verdicts(run_id) if v.model == "ensemble"} == set(ids)


def test_faces_only_without_a_face_is_not_applicable(tmp_path):
    case_path, (item,) = _case(tmp_path, [IMAGES / "gray_257x129.png"])
    events = list(_run(case_path, VIT, face_mode="only"))
    (verdicts,) = [e for e in events if isinstance(e, EvidenceVerdicts)]
    by_model = {v.model: v for v in verdicts.verdicts}
    assert by_model["vit_optimum"].label == "not applicable"
    assert by_model["vit_optimum"].details["reason"] == "no face found"
    assert by_model["vit_optimum"].details["outcome"]["detector"].startswith("opencv-haar")
    assert events[-1].status == "completed" and events[-1].items_done == 1


def test_ensemble_weights(tmp_path, evidence):
    case_path, (item,) = _case(tmp_path, [evidence["photo"]])
    settings = VerdictSettings(rule="mean", weights={"vit_optimum": 3.0, "timm_vit": 1.0})
    events = list(_run(case_path, VIT, TIMM, face_mode="off", verdict=settings))
    (verdicts,) = [e for e in events if isinstance(e, EvidenceVerdicts)]
    by_model = {v.model: v for v in verdicts.verdicts}
    expected = (3 * by_model["vit_optimum"].score + by_model["timm_vit"].score) / 4
    assert by_model["ensemble"].score == pytest.approx(expected)
    assert by_model["ensemble"].details["weights"] == {"vit_optimum": 3.0, "timm_vit": 1.0}


def test_fixtures_refused_without_permission_and_nothing_to_resume(tmp_path, evidence):
    case_path, _ = _case(tmp_path, [evidence["photo"]])
    with pytest.raises(ModelError, match="test fixture"):
        list(analyze(case_path, AnalysisJob(models=(VIT,), provider="cpu")))
    with pytest.raises(Exception, match="no cancelled or interrupted run"):
        list(analyze(case_path, AnalysisJob(resume=True, provider="cpu")))


def test_analyze_cli_json(tmp_path, evidence):
    case_path, ids = _case(tmp_path, [evidence["photo"], evidence["face"]])
    result = run_main("analyze", case_path, "--model", VIT, "--model", QUALITY, "--provider", "cpu",
                      "--allow-test-fixture", "--json", home=tmp_path / "home")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "completed" and report["errors"] == []
    assert {(v["evidence_id"], v["model"]) for v in report["verdicts"]} == {
        (i, m) for i in ids for m in ("vit_optimum", "vit_quality_tfjs", "ensemble")}


def test_explain_stores_rollout_for_every_region_and_occlusion_for_the_top_k(tmp_path, evidence):
    from engine.explain import CAVEAT, OCCLUSION, ROLLOUT, Overlay, open_attention_runner
    from engine.models.loader import ModelOverrides
    from engine.models.store import ModelStore
    from engine.models.preprocess import preprocess
    from tests.engine.conftest import make_linear_classifier

    home = tmp_path / "home"
    ModelStore(home).import_model(make_linear_classifier(tmp_path / "cnn.onnx"), "no-attention",
                                  overrides=ModelOverrides(labels=["real", "fake"], preprocess="hf", input_size=8))
    case_path, (clip_id, photo_id) = _case(tmp_path, [evidence["clip"], evidence["photo"]])
    job = _job(VIT, "no-attention", frames_per_clip=4, explain=True, discard_ratio=0.5, occlusion_top_k=2)
    events = list(analyze(case_path, job, home=str(home)))
    assert events[-1].status == "completed"
    scored = {(e.evidence_id, e.model): e for e in events if isinstance(e, ItemScored)}
    assert scored[(clip_id, "vit_optimum")].overlays == scored[(clip_id, "vit_optimum")].regions == 12
    assert scored[(clip_id, "no-attention")].overlays == 2
    assert scored[(photo_id, "no-attention")].overlays == 1  # only one region to explain
    with CaseStore.open(case_path, readonly=True) as store:
        run = store.get_run(events[0].run_id)
        assert {m["name"]: m["overlay_method"] for m in run.models} == {"vit_optimum": ROLLOUT, "no-attention": OCCLUSION}
        described = store.overlays(run.id, photo_id)
        by_model = {row.model: row for row in described}
        assert by_model["vit_optimum"].method == ROLLOUT and by_model["no-attention"].method == OCCLUSION
        payload = store.get_overlay(by_model["vit_optimum"].id)
        overlay = Overlay.from_npz_bytes(payload)
        assert overlay.caveat == CAVEAT and overlay.params["discard_ratio"] == 0.5
        assert overlay.box == (0, 0, 640, 480) and overlay.frame_size == (640, 480)
        # The stored map is the rollout of the photo as the model saw it.
        spec = load_model(VIT)
        runner = open_attention_runner(spec, tmp_path / "cache", "cpu")
        pixels = preprocess(load_image(evidence["photo"]).rgb, spec.preprocess)[None]
        _, expected = runner.logits_and_rollout(pixels, 0.5)
        np.testing.assert_allclose(overlay.grid, expected[0], atol=1e-6)
        # Occlusion overlays were made for the most suspicious clip regions.
        clip_rows = store.results(run.id, clip_id, "no-attention")
        top = sorted(clip_rows, key=lambda r: r.p_manipulated, reverse=True)[:2]
        occluded = [Overlay.from_npz_bytes(store.get_overlay(row.id))
                    for row in store.overlays(run.id, clip_id) if row.model == "no-attention"]
        assert sorted((o.params["track_id"], tuple(o.box)) for o in occluded) == sorted(
            (r.track_id, tuple(int(v) for v in r.box)) for r in top)


def test_a_validated_int8_variant_runs_beside_fp32_and_says_so(tmp_path, evidence):
    from engine.models.loader import ModelOverrides
    from engine.models.quantize import quantize_stored_model
    from engine.models.store import ModelStore
    from tests.engine.conftest import make_linear_classifier

    home = tmp_path / "home"
    store = ModelStore(home)
    store.import_model(make_linear_classifier(tmp_path / "det.onnx", size=8), "det",
                       overrides=ModelOverrides(labels=["real", "fake"], preprocess="hf", input_size=8))
    images = [load_image(IMAGES / name).rgb for name in ("rgb_640x480.jpg", "gray_257x129.png", "tiny_17x31.png")]
    outcome = quantize_stored_model(store, "det", images, source="fixture images", force=True)
    variant = outcome.variant
    assert variant == "int8" and outcome.accepted
    case_path, (photo,) = _case(tmp_path, [evidence["photo"]])
    events = list(_run(case_path, "det", ("det", variant), home=str(home), face_mode="off"))
    started, finished = events[0], events[-1]
    assert started.models == ("det", f"det:{variant}") and finished.status == "completed"
    assert any(note.startswith(f"det:{variant}: ") and "agreement" in note for note in started.notes)
    with CaseStore.open(case_path, readonly=True) as case:
        run = case.get_run(started.run_id)
        recorded = {m["name"]: m for m in run.models}
        assert recorded[f"det:{variant}"]["variant"] == variant
        assert recorded[f"det:{variant}"]["quantization"]["top1_agreement"] == outcome.figures["top1_agreement"]
        assert recorded["det"]["sha256"] != recorded[f"det:{variant}"]["sha256"]
        assert {r.model for r in case.results(run.id)} == {"det", f"det:{variant}"}


def test_an_openvino_variant_records_the_runtime_and_precision_that_really_ran(tmp_path, evidence):
    from engine.models.openvino_runtime import cpu_has_bf16
    from engine.models.store import ModelStore

    home = tmp_path / "home"
    store = ModelStore(home)
    store.import_model(MODELS / "vit_optimum", "vit", allow_test_fixture=True)
    # Figures as make_openvino_variant records them (test_openvino.py makes them for real).
    store.record_quantization("vit", "openvino-bf16", "model.onnx", {
        "runtime": "openvino", "precision": "bf16", "weight_type": "bf16", "origin": "made", "passed": True,
        "top1_agreement": 1.0, "max_abs_delta_p": 0.001, "calibration": {"images": 10}})
    case_path, _ = _case(tmp_path, [evidence["photo"]])
    events = list(_run(case_path, "vit", ("vit", "openvino-bf16"), home=str(home), face_mode="off"))
    assert events[-1].status == "completed"
    with CaseStore.open(case_path, readonly=True) as case:
        run = case.get_run(events[0].run_id)
        recorded = {m["name"]: m for m in run.models}
        bf16 = recorded["vit:openvino-bf16"]
        assert bf16["runtime"].startswith("openvino ") and bf16["provider"] == "cpu"
        assert bf16["precision"] == ("bf16" if cpu_has_bf16() else "f32")
        assert bf16["sha256"] == recorded["vit"]["sha256"]  # the same file, another runtime
        assert recorded["vit"]["runtime"].startswith("onnxruntime ") and recorded["vit"]["precision"] is None
        scores = {r.model: r.p_manipulated for r in case.results(run.id)}
    assert abs(scores["vit"] - scores["vit:openvino-bf16"]) < 0.05


def test_evidence_swapped_for_a_fifo_is_refused_not_waited_on(tmp_path, evidence):
    copy = tmp_path / "swapped.png"
    shutil.copy(evidence["face"], copy)
    case_path, (item,) = _case(tmp_path, [copy])
    os.remove(copy)
    os.mkfifo(copy)
    events = list(_run(case_path, VIT))
    (failure,) = [e for e in events if isinstance(e, ItemFailed)]
    assert "FIFO" in failure.message and events[-1].status == "completed"


def test_an_evidence_id_given_twice_is_analysed_once_and_an_unknown_one_is_refused(tmp_path, evidence):
    from engine.errors import CaseError

    case_path, (photo,) = _case(tmp_path, [evidence["photo"]])
    events = list(_run(case_path, VIT, evidence_ids=(photo, photo), face_mode="off"))
    assert events[0].items == 1 and events[-1].items_done == 1
    with CaseStore.open(case_path, readonly=True) as store:
        assert len(store.results(events[0].run_id)) == 1
    with pytest.raises(CaseError, match="no evidence item 99"):
        list(_run(case_path, VIT, evidence_ids=(99,)))
