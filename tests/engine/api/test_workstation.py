"""engine.api.Workstation: models through the API, scoring by NAME:VARIANT, providers, opening cases."""

from __future__ import annotations

import json

import pytest

from engine.api import ModelChoice, ModelOverrides, Workstation
from engine.errors import CaseError, MeaningUnknown
from engine.models.quantize import quantize_stored_model
from engine.models.store import ModelStore
from tests.engine.conftest import IMAGES, MODELS, make_linear_classifier, run_main


def test_model_summaries_say_what_each_model_judges(tmp_path):
    workstation = Workstation(tmp_path / "home")
    workstation.import_model(MODELS / "vit_optimum", name="vit", allow_test_fixture=True)
    workstation.import_model(MODELS / "siglip_optimum", name="siglip", allow_test_fixture=True)
    workstation.import_model(MODELS / "timm_vit", name="timm", allow_test_fixture=True)
    workstation.import_model(MODELS / "vit_quality_tfjs", name="quality", allow_test_fixture=True)
    models = {m.name: m for m in workstation.list_models()}
    assert models["vit"].manipulated_labels == ("Fake",) and models["vit"].input_size == (224, 224)
    assert models["siglip"].manipulated_labels == ("fake",) and models["siglip"].labels == ("fake", "real")
    assert models["timm"].manipulated_labels == ("fake",)
    assert models["quality"].judges == "other" and models["quality"].manipulated_labels == ()
    assert all(m.is_test_fixture and len(m.sha256 or "") == 64 for m in models.values())
    assert workstation.model("vit").to_json() == json.loads(run_main(
        "models", "list", "--json", home=tmp_path / "home").stdout)[-1]


def test_a_model_whose_labels_say_nothing_must_be_stated(tmp_path):
    onnx = make_linear_classifier(tmp_path / "m.onnx")
    workstation = Workstation(tmp_path / "home")
    with pytest.raises(MeaningUnknown) as caught:
        workstation.inspect_model(onnx, overrides=ModelOverrides(labels=["cat", "dog"], preprocess="hf", input_size=8))
    assert caught.value.labels == ("cat", "dog")
    stated = ModelOverrides(labels=["cat", "dog"], preprocess="hf", input_size=8, manipulated_labels=["dog"])
    summary = workstation.import_model(onnx, name="pets", overrides=stated)
    assert summary.manipulated_labels == ("dog",) and summary.meaning_source == "stated by the user"


def test_score_takes_a_variant_by_name(tmp_path):
    home = tmp_path / "home"
    store = ModelStore(home)
    store.import_model(make_linear_classifier(tmp_path / "det.onnx"), "det",
                       overrides=ModelOverrides(labels=["real", "fake"], preprocess="hf", input_size=8))
    from engine.media.image import load_image

    images = [load_image(IMAGES / n).rgb for n in ("rgb_640x480.jpg", "gray_257x129.png", "tiny_17x31.png")]
    quantize_stored_model(store, "det", images, source="fixture images", force=True)
    scorer = Workstation(home).scorer(ModelChoice("det", "int8"), provider="cpu")
    assert scorer.spec.variant == "int8" and any("agreement" in note for note in scorer.notes)
    (result,) = scorer.score([str(IMAGES / "rgb_640x480.jpg")])
    assert result.error is None and 0.0 <= result.p_manipulated <= 1.0
    cli = run_main("score", str(IMAGES / "rgb_640x480.jpg"), "--model", "det:int8", "--provider", "cpu", "--json",
                   home=home)
    assert cli.returncode == 0, cli.stderr
    (printed,) = json.loads(cli.stdout)
    assert printed["p_manipulated"] == pytest.approx(result.p_manipulated, abs=1e-7)


def test_providers_and_case_doors(tmp_path):
    facts = Workstation.providers("cpu")
    assert "cpu" in facts.available and facts.planned == "cpu"
    workstation = Workstation(tmp_path / "home")
    with pytest.raises(CaseError, match="not found"):
        workstation.open_case(tmp_path / "missing.dfwcase")
    not_a_case = tmp_path / "photo.dfwcase"
    not_a_case.write_bytes((IMAGES / "rgb_640x480.jpg").read_bytes())
    before = not_a_case.read_bytes()
    with pytest.raises(CaseError, match="not a case file"):
        workstation.open_case(not_a_case)
    assert not_a_case.read_bytes() == before
    assert not (tmp_path / "home").exists()  # cases alone never make an app home
