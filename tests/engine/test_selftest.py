"""The self-test: every step reported, a broken step named with exit 1, nothing left behind."""

from __future__ import annotations

import json

import onnx
import pytest

from engine.api import Workstation, run_self_test
from engine.cli import main
from engine.errors import MediaError, ModelError
from engine.explain.attention_graph import find_attention_softmax
from engine.explain.rollout import token_layout
from engine.models.loader import load_model
from engine.selftest import steps as selftest_steps
from engine.selftest.run import CLEAN_UP
from engine.selftest.tiny_models import write_all
from tests.engine.conftest import run_main

STEP_NAMES = [name for name, _ in selftest_steps.STEPS] + [CLEAN_UP]


def _run_cli(capsys, home, *args: str) -> tuple[int, str]:
    code = main(["--home", str(home), "self-test", *args])
    return code, capsys.readouterr().out


def test_self_test_reports_every_step_as_json(tmp_path, capsys):
    code, out = _run_cli(capsys, tmp_path / "home", "--json")
    outcome = json.loads(out)
    assert code == 0, out
    assert outcome["ok"] is True
    assert [step["name"] for step in outcome["steps"]] == STEP_NAMES
    assert all(step["status"] == "ok" and step["detail"] for step in outcome["steps"])
    assert "cpu" in outcome["providers"]["available"]
    assert outcome["providers"]["used"] and set(outcome["providers"]["used"]) <= set(outcome["providers"]["available"])
    assert outcome["versions"]["Build"] == "from source"
    # The overlays really are attention rollouts from the three architectures.
    analyze = next(step for step in outcome["steps"] if step["name"] == "analyze with overlays")
    assert "3 models × 2 items" in analyze["detail"] and "attention-rollout overlays" in analyze["detail"]


def test_self_test_through_main_prints_one_line_per_step(tmp_path):
    result = run_main("self-test", home=tmp_path / "home")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0].split(maxsplit=1)[1] for line in lines[:-1]] == STEP_NAMES
    assert all(line.startswith("ok ") for line in lines[:-1])
    assert lines[-1].startswith("self-test passed in") and "ran on" in lines[-1]


def test_a_broken_step_exits_1_and_is_named(tmp_path, capsys, monkeypatch):
    def no_writer(path, frames=12):
        raise MediaError("OpenCV cannot write an mp4v clip (no MP4 writer in this build)")

    monkeypatch.setattr(selftest_steps, "write_clip", no_writer)
    code, out = _run_cli(capsys, tmp_path / "home")
    lines = dict(line.split(":", 1) for line in out.splitlines()[:-1])
    assert code == 1
    assert lines["FAILED  generated media"].strip() == "OpenCV cannot write an mp4v clip (no MP4 writer in this build)"
    assert all(lines[f"ok      {name}"] for name in ("runtime", "tiny models", "import models"))
    assert all(f"skipped {name}" in lines for name in ("score image", "case", "analyze with overlays", "PDF report"))
    assert f"ok      {CLEAN_UP}" in lines  # cleaning up runs whatever failed
    assert "FAILED (generated media)" in out.splitlines()[-1]


def test_an_unexpected_error_is_one_line_and_its_traceback_is_logged(tmp_path, capsys, monkeypatch):
    def broken(self, progress=None):
        raise ValueError("a bug in the verifier")

    monkeypatch.setattr("engine.api.case.Case.verify", broken)
    home = tmp_path / "home"
    code, out = _run_cli(capsys, home, "--json")
    outcome = json.loads(out)
    failed = [step for step in outcome["steps"] if step["status"] == "FAILED"]
    assert code == 1 and outcome["ok"] is False
    assert [(s["name"], s["detail"]) for s in failed] == [("verify case", "unexpected ValueError: a bug in the verifier")]
    log = (home / "logs" / "workstation.log").read_text("utf-8")
    assert "Traceback (most recent call last)" in log and "ValueError: a bug in the verifier" in log


def test_nothing_is_left_behind(tmp_path):
    outcome = run_self_test(workdir=tmp_path)
    assert outcome.ok, [step.line() for step in outcome.steps]
    assert list(tmp_path.iterdir()) == []


def test_a_provider_that_cannot_run_here_fails_the_self_test(tmp_path):
    outcome = run_self_test("directml", workdir=tmp_path)  # DirectML exists on Windows only
    assert not outcome.ok
    assert outcome.steps[0].status == "FAILED" and "directml was asked for" in outcome.steps[0].detail
    assert outcome.steps[-1].name == CLEAN_UP and outcome.steps[-1].ok
    assert list(tmp_path.iterdir()) == []


def test_progress_is_reported_for_each_step(tmp_path):
    seen = []
    run_self_test(progress=lambda done, total, message: seen.append((done, total, message)), workdir=tmp_path)
    assert [message for _, _, message in seen] == STEP_NAMES
    assert seen[-1][0] == seen[-1][1] == len(STEP_NAMES)


def test_tiny_models_are_fixtures_shaped_like_the_supported_architectures(tmp_path):
    models = {m.key: m for m in write_all(tmp_path)}
    expected = {"vit": ("cls", 1, "optimum"), "siglip": ("mean", 0, "optimum"), "timm": ("cls", 1, "timm")}
    for key, (readout, prefix, layout) in expected.items():
        model = models[key]
        spec = load_model(model.folder)
        graph = onnx.load(str(model.folder / "model.onnx"))
        assert spec.is_test_fixture and spec.layout == layout and spec.labels == model.labels
        assert len(find_attention_softmax(graph)) == model.attention_layers
        grid = model.input_size // (32 if key == "vit" else 16)
        layout_found = token_layout(prefix + grid * grid, spec.input_size, architecture=spec.architecture)
        assert (layout_found.readout, layout_found.prefix_tokens) == (readout, prefix)
    assert models["siglip"].input_size != 224 and models["timm"].labels == ("fake",)
    with pytest.raises(ModelError, match="test fixture"):  # never importable as a detector
        Workstation(tmp_path / "home").import_model(models["vit"].folder)


def test_version_names_the_runtime_libraries(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    lines = capsys.readouterr().out.splitlines()
    assert stopped.value.code == 0
    assert lines[0] == "Deepfake Forensic Workstation 0.1.0"
    names = [line.split(":")[0] for line in lines[1:]]
    assert names == ["Python", "onnxruntime", "OpenCV", "NumPy", "Build"]
    assert "providers: " in lines[2] and "cpu" in lines[2]
