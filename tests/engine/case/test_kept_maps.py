"""Forensic maps kept in a case: stored with what made them, audited, sealed, checked by verify."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3

import numpy as np
import pytest
from PIL import Image

from engine.api import Workstation
from engine.case import CaseStore, verify_case
from engine.cli import main
from engine.errors import CaseError, CaseNotWritable, MediaError
from engine.forensics.service import map_of_file
from tests.engine.conftest import IMAGES


@pytest.fixture
def case_path(tmp_path):
    path = str(tmp_path / "maps.dfwcase")
    with CaseStore.create(path, "Maps", "Ann") as store:
        store.add_evidence(IMAGES / "rgb_640x480.jpg")
    return path


def _problems(case_path):
    with CaseStore.open(case_path, readonly=True) as store:
        return list(verify_case(store, record=False).problems)


def test_a_kept_map_is_the_png_the_viewer_shows_with_everything_that_made_it(case_path, tmp_path):
    with Workstation(tmp_path / "home").open_case(case_path, actor="ann") as case:
        kept = case.keep_map(1, 0, "ela", note="collar glows", quality=80)
        png = case.kept_map_png(kept.id)
    again = map_of_file(IMAGES / "rgb_640x480.jpg", "ela", quality=80)
    assert png == again.png_bytes()  # the same map another examiner makes with `maps`
    assert kept.sha256 == hashlib.sha256(png).hexdigest() and kept.size == len(png)
    assert (kept.kind, kept.params, kept.frame_index, kept.note, kept.author) == \
        ("ela", dict(again.params), 0, "collar glows", "ann")
    assert kept.statement == again.statement and kept.legend == again.legend
    assert kept.figures == {k: pytest.approx(v) for k, v in again.figures.items()}
    assert Image.open(io.BytesIO(png)).size == (kept.width, kept.height) == (640, 480)
    assert "Pillow" in kept.tool_version and "OpenCV" in kept.tool_version
    with CaseStore.open(case_path, readonly=True) as store:
        logged = [e for e in store.audit_entries() if e.action == "forensic map kept"]
        assert kept.evidence_sha256 == store.get_evidence(1).sha256
    assert len(logged) == 1 and logged[0].details["sha256"] == kept.sha256 and logged[0].actor == "ann"
    assert _problems(case_path) == []


@pytest.mark.parametrize("statement, expected", [
    ("UPDATE kept_maps SET note = 'nothing to see'", "kept map 1: its record differs"),
    ("UPDATE kept_maps SET params = '{\"quality\": 95}'", "kept map 1: its record differs"),
    ("UPDATE kept_maps SET data = zeroblob(100)", "kept map 1: its image is not the one the audit log sealed"),
    ("DELETE FROM kept_maps", "kept map 1 is gone, but the audit log never recorded its removal"),
])
def test_verify_names_a_kept_map_edited_behind_the_programs_back(case_path, tmp_path, statement, expected):
    with Workstation(tmp_path / "home").open_case(case_path) as case:
        case.keep_map(1, 0, "noise")
    connection = sqlite3.connect(case_path)
    connection.execute(statement)
    connection.commit()
    connection.close()
    assert any(expected in problem for problem in _problems(case_path))


def test_a_map_whose_image_was_swapped_is_refused_when_read(case_path, tmp_path):
    with Workstation(tmp_path / "home").open_case(case_path) as case:
        kept = case.keep_map(1, 0, "residual")
    other = map_of_file(IMAGES / "rgb_640x480.jpg", "noise").png_bytes()
    connection = sqlite3.connect(case_path)
    connection.execute("UPDATE kept_maps SET data = ?, size = ?", [other, len(other)])
    connection.commit()
    connection.close()
    with CaseStore.open(case_path, readonly=True) as store, pytest.raises(CaseError, match="SHA-256 recorded"):
        store.kept_map_png(kept.id)


def test_removing_a_map_is_audited_and_verify_stays_clean(case_path, tmp_path):
    with Workstation(tmp_path / "home").open_case(case_path) as case:
        kept = case.keep_map(1, 0, "spectrum", tile=128)
        case.remove_kept_map(kept.id)
        assert case.kept_maps() == []
        with pytest.raises(CaseError, match="no kept map"):
            case.remove_kept_map(kept.id)
    with CaseStore.open(case_path, readonly=True) as store:
        removed = [e for e in store.audit_entries() if e.action == "forensic map removed"]
    assert removed[0].details["sha256"] == kept.sha256
    assert _problems(case_path) == []


def test_bad_requests_are_clear_errors_and_store_nothing(case_path, tmp_path):
    with Workstation(tmp_path / "home").open_case(case_path) as case:
        with pytest.raises(MediaError, match="one frame"):
            case.keep_map(1, 3, "ela")
        with pytest.raises(CaseError, match="no evidence item 9"):
            case.keep_map(9, 0, "ela")
        with pytest.raises(Exception, match="quality"):
            case.keep_map(1, 0, "ela", quality=500)
        assert case.kept_maps() == []
    with Workstation(tmp_path / "home").open_case(case_path, readonly=True) as case:
        with pytest.raises(CaseNotWritable):
            case.keep_map(1, 0, "ela")


def test_a_changed_evidence_file_gives_no_map_to_keep(tmp_path):
    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(photo)
    path = str(tmp_path / "c.dfwcase")
    with CaseStore.create(path, "c", "e") as store:
        store.add_evidence(photo)
    Image.fromarray(np.full((64, 64, 3), 91, np.uint8)).save(photo)
    with Workstation(tmp_path / "home").open_case(path) as case:
        with pytest.raises(MediaError, match="changed"):
            case.keep_map(1, 0, "ela")
        assert case.kept_maps() == []


def test_the_command_line_keeps_lists_and_drops_maps(case_path, tmp_path, capsys):
    home = ["--home", str(tmp_path / "home")]
    assert main([*home, "case", "keep-map", case_path, "1", "--kind", "ela", "--quality", "75", "the collar",
                 "--json", "--actor", "bo"]) == 0
    kept = json.loads(capsys.readouterr().out)
    assert (kept["kind"], kept["params"]["quality"], kept["note"], kept["author"]) == ("ela", 75, "the collar", "bo")
    assert main([*home, "case", "maps", case_path]) == 0
    assert capsys.readouterr().out.strip() == \
        "map 1 on evidence 1: ela (ceiling=0.0, quality=75), 640×480, by bo: the collar"
    assert main([*home, "case", "drop-map", case_path, "1"]) == 0
    assert "removed map 1" in capsys.readouterr().out
    assert main([*home, "case", "maps", case_path, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_a_damaged_kept_map_row_is_named_and_the_others_are_still_listed_and_reported(case_path, tmp_path, capsys):
    home = tmp_path / "home"
    with Workstation(home).open_case(case_path) as case:
        case.keep_map(1, 0, "noise")
        case.keep_map(1, 0, "spectrum")
    connection = sqlite3.connect(case_path)
    connection.execute("UPDATE kept_maps SET params = 'not json' WHERE id = 1")
    connection.commit()
    connection.close()
    with CaseStore.open(case_path, readonly=True) as store:
        with pytest.raises(CaseError, match="kept_maps row 1, field params: not JSON"):
            store.kept_maps()
        damaged: list = []
        assert [m.id for m in store.kept_maps(unreadable=lambda row, why: damaged.append(row))] == [2]
        assert damaged == [1]
    assert main(["--home", str(home), "case", "maps", case_path]) == 1
    captured = capsys.readouterr()
    assert "kept_maps row 1, field params: not JSON" in captured.err
    assert captured.out.startswith("map 2 on evidence 1: spectrum")
    from tests.engine.report.conftest import export_report

    document = json.loads(open(export_report(case_path, tmp_path / "r.json", "json").path).read())
    assert [m["id"] for m in document["evidence"][0]["kept_maps"]] == [2]
    assert [(u["table"], u["id"]) for u in document["unreadable"]] == [("kept_maps", 1)]
