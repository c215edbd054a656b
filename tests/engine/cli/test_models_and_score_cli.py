"""`python main.py models …` and `score` as an analyst runs them, in a separate process."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tests.engine.conftest import IMAGES, MODELS, REFERENCE
from tests.engine.conftest import run_main as run



def test_models_import_list_verify_remove(tmp_path):
    home = tmp_path / "home"
    result = run("models", "import", str(MODELS / "vit_optimum"), "--name", "vit", home=home)
    assert result.returncode == 2 and "test fixture, not a detector" in result.stderr
    result = run("models", "import", str(MODELS / "vit_optimum"), "--name", "vit", "--allow-test-fixture",
                 "--json", home=home)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["labels"] == ["Real", "Fake"]
    result = run("models", "import", str(MODELS / "siglip_optimum"), "--name", "vit", "--allow-test-fixture", home=home)
    assert result.returncode == 2 and result.stderr.strip() == (
        "error: a model named 'vit' is already in the store; choose another --name")
    listed = json.loads(run("models", "list", "--json", home=home).stdout)
    assert [m["name"] for m in listed] == ["vit"] and listed[0]["is_test_fixture"] is True
    assert "TEST FIXTURE" in run("models", "list", home=home).stdout
    assert run("models", "verify", "vit", home=home).returncode == 0
    (home / "models" / "vit" / "config.json").write_text("{}")
    verify = run("models", "verify", "vit", "--json", home=home)
    assert verify.returncode == 1 and json.loads(verify.stdout)["changed"] == ["config.json"]
    assert run("models", "remove", "vit", home=home).returncode == 0
    assert json.loads(run("models", "list", "--json", home=home).stdout) == []


def test_score_json_matches_reference_and_reports_bad_images(tmp_path):
    broken = tmp_path / "broken photo é.jpg"
    broken.write_bytes((IMAGES / "rgb_640x480.jpg").read_bytes()[:300])
    images = [str(IMAGES / "rgb_640x480.jpg"), str(broken), str(IMAGES / "exif_rot6_480x320.jpg")]
    result = run("score", *images, "--model", str(MODELS / "siglip_optimum"), "--provider", "cpu", "--json",
                 home=tmp_path / "home")
    assert result.returncode == 1  # one image failed, the others were scored
    assert "random-weight test fixture" in result.stderr
    rows = json.loads(result.stdout)
    assert [row["path"] for row in rows] == images
    assert "error" in rows[1] and "broken photo é.jpg" in rows[1]["error"]
    reference = json.loads((REFERENCE / "siglip_optimum.json").read_text())
    for row in (rows[0], rows[2]):
        assert set(row) == {"path", "model", "provider", "predictions", "p_manipulated"}
        assert row["provider"] == "cpu"
        scores = [p["score"] for p in row["predictions"]]
        assert scores == sorted(scores, reverse=True)
        want = reference["images"][Path(row["path"]).name]["probs"]
        by_label = {p["label"]: p["score"] for p in row["predictions"]}
        np.testing.assert_allclose([by_label["fake"], by_label["real"]], want, atol=1e-5)
        assert row["p_manipulated"] == by_label["fake"]


def test_score_quality_model_has_no_p_manipulated(tmp_path):
    result = run("score", str(IMAGES / "tiny_17x31.png"), "--model", str(MODELS / "vit_quality_tfjs"),
                 "--provider", "cpu", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "p_manipulated" not in result.stdout
    assert "does not judge authenticity" in result.stdout


def test_score_unknown_model_is_one_line(tmp_path):
    result = run("score", str(IMAGES / "tiny_17x31.png"), "--model", "nope", home=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and result.stderr.startswith("error: ")
