"""Every load of a stored model checks each file it uses against the import manifest.

A label swap in config.json turns p(manipulated) 0.998 into 0.002 without touching the ONNX
file, so the configuration files are checked as well as the graph; a second load in the same
process costs a stat, not a hash.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil

import onnx
import pytest
from onnx import numpy_helper

from engine.errors import ModelError
from engine.models.scoring_graph import FUSED_FILE
from engine.models import integrity, loader
from engine.models.loader import FIXTURE_MARKER, ModelOverrides
from engine.models.store import ModelStore, resolve_model
from tests.engine.conftest import IMAGES, MODELS, make_linear_classifier, run_main

PHOTO = str(IMAGES / "rgb_640x480.jpg")


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


@pytest.fixture
def store(home):
    return ModelStore(home)


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _swap_labels(folder) -> None:
    config = json.loads((folder / "config.json").read_text("utf-8"))
    config["id2label"] = {"0": config["id2label"]["1"], "1": config["id2label"]["0"]}
    (folder / "config.json").write_text(json.dumps(config), "utf-8")


def test_swapped_labels_are_refused_by_load_resolve_and_the_scorer(store, home):
    from engine.api import ModelChoice, Workstation

    stored = store.import_model(MODELS / "vit_optimum", "vit", allow_test_fixture=True)
    assert store.load("vit").labels == ("Real", "Fake")
    _swap_labels(stored.folder)
    for load in (lambda: store.load("vit"), lambda: resolve_model("vit", home),
                 lambda: Workstation(home).scorer(ModelChoice("vit"), provider="cpu")):
        with pytest.raises(ModelError) as caught:
            load()
        message = str(caught.value)
        assert "config.json changed since import" in message and "models verify vit" in message
        assert "\n" not in message


def test_swapped_labels_are_refused_by_score_and_analyze_on_the_command_line(store, home, tmp_path):
    from engine.case import CaseStore

    stored = store.import_model(MODELS / "vit_optimum", "vit", allow_test_fixture=True)
    case_path = str(tmp_path / "case.dfwcase")
    with CaseStore.create(case_path, "T", "E") as case:
        case.add_evidence(PHOTO)
    scored = run_main("score", PHOTO, "--model", "vit", "--provider", "cpu", "--json", home=home)
    assert scored.returncode == 0, scored.stderr
    _swap_labels(stored.folder)
    score = run_main("score", PHOTO, "--model", "vit", "--provider", "cpu", "--json", home=home)
    analyze = run_main("analyze", case_path, "--model", "vit", "--provider", "cpu", "--allow-test-fixture",
                       "--faces", "off", home=home)
    for result in (score, analyze):
        assert result.returncode != 0
        assert "config.json changed since import" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and "a bug" not in result.stderr
    with CaseStore.open(case_path, readonly=True) as case:
        assert case.list_runs() == []  # refused before a run was recorded


@pytest.mark.parametrize("model, change, message", [
    ("vit_optimum", "edit preprocessor_config.json", "preprocessor_config.json changed since import"),
    ("vit_quality_tfjs", "edit config.json", "config.json changed since import"),
    ("timm_vit", "edit config.json", "config.json changed since import"),
    ("vit_optimum", "remove config.json", "config.json is missing since import"),
    ("vit_optimum", f"remove {FIXTURE_MARKER}", f"{FIXTURE_MARKER} is missing since import"),
    ("timm_vit", "add preprocessor_config.json", "preprocessor_config.json was not part of the import"),
])
def test_every_configuration_file_a_load_reads_is_checked(store, model, change, message):
    stored = store.import_model(MODELS / model, "m", allow_test_fixture=True)
    store.load("m")
    action, _, name = change.partition(" ")
    path = stored.folder / name
    if action == "edit":
        data = json.loads(path.read_text("utf-8"))
        if "image_mean" in data:
            data["image_mean"] = [0.1, 0.2, 0.3]  # a valid config, a different model
        else:
            data["dfw_note"] = "edited"
        path.write_text(json.dumps(data), "utf-8")
    elif action == "remove":
        path.unlink()
    else:
        shutil.copy(MODELS / "vit_optimum" / name, path)
    with pytest.raises(ModelError, match=message.replace(".", r"\.")):
        store.load("m")


def test_a_variant_file_dropped_in_after_import_is_refused(store):
    stored = store.import_model(MODELS / "vit_optimum", "vit", allow_test_fixture=True)
    shutil.copy(MODELS / "siglip_optimum" / "model.onnx", stored.folder / "model_evil.onnx")
    with pytest.raises(ModelError, match=r"model_evil\.onnx was not part of the import"):
        store.load("vit", "evil")
    assert store.load("vit").variant == "default"  # the imported files still load


def test_a_second_load_in_the_process_costs_a_stat_not_a_hash(store, monkeypatch):
    stored = store.import_model(MODELS / "vit_quality_tfjs", "quality", allow_test_fixture=True)
    hashed: list[str] = []
    real = integrity.sha256_file

    def counting(path, *args, **kwargs):
        hashed.append(os.path.basename(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(integrity, "sha256_file", counting)
    monkeypatch.setattr(loader, "sha256_file", counting)
    first = store.load("quality")
    assert set(hashed) == {"model.onnx", "config.json", "preprocessor_config.json", "export_info.json", FIXTURE_MARKER,
                           FUSED_FILE}  # the fused scoring graph is checked like every file the load uses
    hashed.clear()
    second = store.load("quality")
    assert hashed == [] and second.onnx_sha256 == first.onnx_sha256
    # Writing a file makes it another file to the cache, even with its old mtime put back.
    config = stored.folder / "config.json"
    before = config.stat()
    text = config.read_text("utf-8")
    config.write_text(text.replace('"Issue In Deepfake"', '"Issue_In_Deepfake"'), "utf-8")
    os.utime(config, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(ModelError, match="config.json changed since import"):
        store.load("quality")
    assert hashed == ["config.json"]


def test_provenance_records_the_configuration_hashes(store):
    stored = store.import_model(MODELS / "vit_optimum", "vit", allow_test_fixture=True)
    provenance = store.load("vit").provenance()
    assert provenance["sha256"] == _sha(stored.folder / "model.onnx")
    assert provenance["config_sha256"] == {  # export_info.json: where the fixture says it came from
        name: _sha(stored.folder / name) for name in ("config.json", "preprocessor_config.json", "export_info.json")}
    timm = store.import_model(MODELS / "timm_vit", "timm", allow_test_fixture=True)
    assert store.load("timm").provenance()["config_sha256"] == {
        name: _sha(timm.folder / name) for name in ("config.json", "export_info.json")}


def test_external_weights_are_checked_and_recorded(store, tmp_path):
    source = tmp_path / "bare"
    source.mkdir()
    model = onnx.load(str(make_linear_classifier(tmp_path / "plain.onnx")))
    weights = model.graph.initializer[0]
    weights.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(weights), weights.name))  # raw bytes: movable
    onnx.save_model(model, str(source / "det.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="det.onnx.data", size_threshold=0)
    overrides = ModelOverrides(labels=["real", "fake"], preprocess="hf", input_size=8)
    stored = store.import_model(source / "det.onnx", "det", overrides=overrides)
    spec = store.load("det")
    assert spec.provenance()["external_sha256"] == {"det.onnx.data": _sha(stored.folder / "det.onnx.data")}
    data = bytearray((stored.folder / "det.onnx.data").read_bytes())
    data[0] ^= 0x40  # other weights, same graph
    (stored.folder / "det.onnx.data").write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"det\.onnx\.data changed since import"):
        store.load("det")


def test_a_bare_fixture_stays_a_fixture_once_stored(store, tmp_path):
    folder = tmp_path / "fixture"
    folder.mkdir()
    (folder / FIXTURE_MARKER).write_text("random weights\n")
    overrides = ModelOverrides(labels=["real", "fake"], preprocess="hf", input_size=8)
    store.import_model(make_linear_classifier(folder / "tiny.onnx"), "tiny", overrides=overrides,
                       allow_test_fixture=True)
    assert store.get("tiny").is_test_fixture
    assert store.load("tiny").is_test_fixture


def test_import_records_the_source_and_revision_the_analyst_gives(tmp_path):
    from engine.cli import main
    from tests.engine.conftest import make_linear_classifier

    home = tmp_path / "home"
    bare = make_linear_classifier(tmp_path / "bare.onnx", size=8)
    assert main(["--home", str(home), "models", "import", str(bare), "--name", "bare", "--labels", "fake,real",
                 "--preprocess", "hf", "--input-size", "8", "--source", "someone/deepfake-vit",
                 "--revision", "0123abcd"]) == 0
    spec = ModelStore(home).load("bare")
    assert (spec.source, spec.revision) == ("someone/deepfake-vit", "0123abcd")
    assert spec.provenance()["source"] == "someone/deepfake-vit" and spec.provenance()["revision"] == "0123abcd"
