"""Reports show each item's provenance findings and the forensic maps the examiner kept, beside
the verdicts: in JSON, HTML, PDF and CSV, each map with the command that makes it again."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from engine.api import Workstation
from engine.cli import main
from engine.report.forensics import MAP_SHOWN_SIDE
from tests.engine.conftest import ROOT
from tests.engine.report.conftest import export_report

SCHEMA = json.loads((ROOT / "docs" / "report-schema.json").read_text())
PARAMETERS = ("a portrait of a man, studio light\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1234, "
              "Model: v1-5-pruned-emaonly")


@pytest.fixture(scope="module")
def forensic_case(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("forensic case")
    rng = np.random.default_rng(5)
    generated = folder / "generated.png"
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", PARAMETERS)
    Image.fromarray(rng.integers(0, 255, (96, 128, 3), dtype=np.uint8)).save(generated, pnginfo=info)
    large = folder / "large photo.jpg"
    Image.fromarray(rng.integers(0, 255, (1500, 2000, 3), dtype=np.uint8)).save(large, quality=85)
    path = str(folder / "forensic.dfwcase")
    home = folder / "home"
    Workstation(home).create_case(path, title="Forensic", examiner="Ann").close()
    with Workstation(home).open_case(path, actor="ann") as case:
        case.add_evidence([generated, large])
        small = case.keep_map(1, 0, "noise", note="flat noise", block=8)
        big = case.keep_map(2, 0, "ela", quality=85)
        png = case.kept_map_png(small.id)
    return {"case": path, "home": home, "folder": folder, "small": small, "big": big, "small_png": png,
            "generated": generated}


def _json(case: dict, tmp_path: Path) -> dict:
    document = json.loads(Path(export_report(case["case"], tmp_path / "r.json", "json").path).read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    return document


def test_the_json_holds_each_items_findings_strongest_first_and_its_kept_maps(forensic_case, tmp_path):
    document = _json(forensic_case, tmp_path)
    generated, large = document["evidence"]
    findings = generated["provenance"]["findings"]
    assert generated["provenance"]["state"] == "read"
    assert findings[0]["severity"] == "strong indication" and findings[0]["check"] == "generator.parameters"
    assert "Seed: 1234" in findings[0]["value"]
    ranks = [("informative", "noteworthy", "strong indication").index(f["severity"]) for f in findings]
    assert ranks == sorted(ranks, reverse=True)
    assert document["summary"][0]["findings_text"].startswith("1 strong indication")
    assert [s["kept_maps"] for s in document["summary"]] == [1, 1]
    kept = generated["kept_maps"][0]
    assert (kept["kind"], kept["params"]["block"], kept["note"], kept["author"]) == ("noise", 8, "flat noise", "ann")
    assert kept["sha256"] == hashlib.sha256(forensic_case["small_png"]).hexdigest()
    assert kept["image"] == kept["sha256"]  # small enough to be shown as stored
    scaled = large["kept_maps"][0]
    assert scaled["size"] == [2000, 1500] and max(scaled["shown_size"]) == MAP_SHOWN_SIDE
    assert scaled["image"] in document["images"] and scaled["image"] != scaled["sha256"]
    assert "Provenance findings describe" in document["method"]["provenance"]


def test_the_remake_command_makes_the_same_map_again(forensic_case, tmp_path, capsys, monkeypatch):
    kept = _json(forensic_case, tmp_path)["evidence"][1]["kept_maps"][0]
    words = kept["remake"].split(" ")
    assert words[:3] == ["python", "main.py", "maps"]
    import shlex

    args = shlex.split(kept["remake"])[3:]
    args[args.index("map.png")] = str(tmp_path / "again.png")
    assert main(["--home", str(forensic_case["home"]), "maps", *args]) == 0
    assert hashlib.sha256((tmp_path / "again.png").read_bytes()).hexdigest() == kept["sha256"]


def test_the_html_shows_findings_the_maps_and_a_provenance_column(forensic_case, tmp_path):
    html = Path(export_report(forensic_case["case"], tmp_path / "r.html", "html").path).read_text()
    assert "<th>Provenance</th>" in html and "1 strong indication" in html
    assert '<td class="severity-strong-indication">strong indication</td>' in html
    assert html.count('<figure class="map">') == 2
    assert "Map 1: Noise level" in html and "flat noise" in html and "block = 8" in html
    assert "Map 2: Error level analysis (ELA)" in html and "ceiling from the picture" in html
    assert "(shown at 1400×1050)" in html


def test_the_pdf_has_the_findings_and_the_maps_with_their_parameters(forensic_case, tmp_path):
    from tests.engine.report.pdftools import pdf_text

    text = " ".join(pdf_text(export_report(forensic_case["case"], tmp_path / "r.pdf", "pdf").path).split())
    assert "Provenance findings" in text and "strong indication" in text
    assert "Kept forensic maps" in text and "Map 1: Noise level" in text and "flat noise" in text
    assert forensic_case["big"].sha256 in text.replace(" ", "") or forensic_case["big"].sha256[:32] in text


def test_the_csv_has_a_row_per_finding_and_per_kept_map(forensic_case, tmp_path):
    path = export_report(forensic_case["case"], tmp_path / "r.csv", "csv").path
    rows = list(csv.DictReader(io.StringIO(Path(path).read_text("utf-8-sig"))))
    findings = [r for r in rows if r["row_kind"] == "finding" and r["evidence_id"] == "1"]
    assert any(r["finding_severity"] == "strong indication" and "generation" in r["message"].lower() or
               r["finding_source"] == "PNG tEXt 'parameters'" for r in findings)
    maps = [r for r in rows if r["row_kind"] == "forensic_map"]
    assert [(r["evidence_id"], r["map_kind"], r["map_sha256"]) for r in maps] == [
        ("1", "noise", forensic_case["small"].sha256), ("2", "ela", forensic_case["big"].sha256)]
    assert maps[0]["message"] == "flat noise" and maps[0]["author"] == "ann"


def test_a_clip_says_its_findings_were_not_read(tmp_path):
    from tests.engine.media.synth import make_face_clip

    clip = make_face_clip(tmp_path / "clip.mp4", n_frames=4)
    path = str(tmp_path / "c.dfwcase")
    Workstation(tmp_path / "home").create_case(path, title="c", examiner="e").close()
    with Workstation(tmp_path / "home").open_case(path) as case:
        case.add_evidence([clip])
    document = json.loads(Path(export_report(path, tmp_path / "r.json", "json").path).read_text())
    provenance = document["evidence"][0]["provenance"]
    assert provenance["state"] == "not read" and "read on demand" in provenance["note"]
