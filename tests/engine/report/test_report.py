"""Case reports in every format, from a case the real pipeline filled."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from pathlib import Path

import jsonschema
import pytest
from PIL import Image as PILImage

from engine.case import CaseStore
from engine.errors import ReportError
from engine.analysis.job import AnalysisJob
from engine.report.tabular import CSV_COLUMNS
from tests.engine.conftest import ROOT, analyze, run_main
from tests.engine.report.conftest import BOOKMARK_COMMENT, HOSTILE, VIT, build_case, export_report

SCHEMA = json.loads((ROOT / "docs" / "report-schema.json").read_text())


def _sha(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _last_export(case_path: str) -> dict:
    with CaseStore.open(case_path, readonly=True) as store:
        entries = [e for e in store.audit_entries() if e.action == "report exported"]
        assert store.verify_audit_chain() == []
    return entries[-1].details


@pytest.mark.parametrize("fmt", ["html", "pdf", "json", "csv"])
def test_each_format_is_written_hashed_and_logged(built, tmp_path, fmt):
    out = tmp_path / f"report.{fmt}"
    result = export_report(built["case"], out, fmt, actor="tester")
    data = out.read_bytes()
    assert result.sha256 == hashlib.sha256(data).hexdigest() == _sha(result.path)
    assert Path(result.sidecar).read_text(encoding="utf-8") == f"{result.sha256}  report.{fmt}\n"
    logged = _last_export(built["case"])
    assert logged["sha256"] == result.sha256 and logged["format"] == fmt and logged["path"] == str(out)
    assert result.ok and result.evidence_changed == ()
    assert oct(out.stat().st_mode & 0o777) != oct(0o600)  # an ordinary document, not a private temp file
    if fmt == "html":
        text = data.decode("utf-8")
        assert text.lstrip().lower().startswith("<!doctype html")
        assert "Überprüfung Müller" in text and "Anaïs Examiner" in text
        assert text.count("data:image/png;base64,") >= 1  # the per-frame chart
        assert text.count("data:image/jpeg;base64,") >= 3  # frame thumbnails and crops, embedded
        assert "src=\"http" not in text and "src='http" not in text  # self-contained
        assert "not proof of manipulation" in text
    elif fmt == "pdf":
        assert data.startswith(b"%PDF-")
        assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 3
    elif fmt == "json":
        document = json.loads(data)
        jsonschema.Draft202012Validator(SCHEMA).validate(document)
        assert [e["id"] for e in document["evidence"]] == built["ids"]
        with CaseStore.open(built["case"], readonly=True) as store:
            assert len(document["frames"]) == len(store.results(built["run_id"]))
        judged = {m["name"]: m["judges"] for m in document["models"]}
        assert judged == {"vit_optimum": "authenticity", "timm_vit": "authenticity", "vit_quality_tfjs": "other"}
        assert all(m["is_test_fixture"] and m["provider"] == "cpu" for m in document["models"])
        first = document["evidence"][0]["runs"][0]
        assert {v["model"] for v in first["verdicts"]} == {"vit_optimum", "timm_vit", "vit_quality_tfjs", "ensemble"}
        assert all(v["rule"] == "topk_mean" and v["rule_params"] == {"k": 3} and v["threshold"] == 0.5
                   for v in first["verdicts"])
        overlays = [f for f in first["top_frames"] if f["overlay"]]
        assert any(f["frame_index"] == built["overlay_frame"] for f in overlays)
        assert document["audit"]["chain_ok"] is True
        assert document["evidence"][0]["annotations"]["bookmark"][0]["frame_index"] == 0
    else:
        text = data.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        assert tuple(rows[0]) == CSV_COLUMNS
        kind = CSV_COLUMNS.index("row_kind")
        with CaseStore.open(built["case"], readonly=True) as store:
            assert sum(row[kind] == "result" for row in rows) == len(store.results(built["run_id"]))
            assert sum(row[kind] == "bookmark" for row in rows) == len(store.annotations(kind="bookmark"))


def test_hostile_file_name_shows_as_text(built, tmp_path):
    out = tmp_path / "report.html"
    export_report(built["case"], out, "html")
    text = out.read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;.jpg" in text
    assert "<img src=x" not in text
    assert "&lt;b&gt;bold&lt;/b&gt;" in text  # the note's markup is text too
    assert HOSTILE.endswith(".jpg")


def test_changed_evidence_is_reported_prominently(tmp_path):
    case = build_case(tmp_path / "changed", models=(VIT,), with_clip=False)
    changed_path, changed_id = case["paths"][0], case["ids"][0]
    before = Path(changed_path).read_bytes()
    Path(changed_path).write_bytes(before + b"\x00tampered")
    html = tmp_path / "changed.html"
    result = export_report(case["case"], html, "html")
    assert result.evidence_changed == (changed_id,) and not result.ok
    text = html.read_text(encoding="utf-8")
    assert "EVIDENCE CHANGED SINCE IMPORT" in text
    document = json.loads(Path(export_report(case["case"], tmp_path / "changed.json", "json").path).read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    entry = next(e for e in document["evidence"] if e["id"] == changed_id)
    assert entry["changed_since_import"] is True and entry["sha256_now"] != entry["sha256_recorded"]
    assert document["verification"]["evidence_changed"] == [changed_id]
    assert _last_export(case["case"])["evidence_changed"] == [changed_id]


def test_selection_and_refusing_to_overwrite_evidence(built, tmp_path):
    only = json.loads(Path(export_report(built["case"], tmp_path / "one.json", "json",
                                         evidence_ids=[built["ids"][1]]).path).read_text())
    assert [e["id"] for e in only["evidence"]] == [built["ids"][1]]
    marked = json.loads(Path(export_report(built["case"], tmp_path / "marked.json", "json",
                                           bookmarked_only=True).path).read_text())
    assert [e["id"] for e in marked["evidence"]] == [built["ids"][0]]
    target = str(built["paths"][1])
    before = (Path(target).read_bytes(), os.stat(target).st_mtime_ns)
    with pytest.raises(ReportError, match="refusing to write the report over"):
        export_report(built["case"], target, "html")
    for own in ("", ".lock", "-wal"):  # the case, its writer lock, its journal
        with pytest.raises(ReportError, match="refusing to write the report over"):
            export_report(built["case"], built["case"] + own, "json")
    assert (Path(target).read_bytes(), os.stat(target).st_mtime_ns) == before
    with pytest.raises(ReportError, match="no evidence item 999"):
        export_report(built["case"], tmp_path / "x.json", "json", evidence_ids=[999])


def test_report_command(built, tmp_path):
    out = tmp_path / "cli report.json"
    result = run_main("report", built["case"], "--format", "json", "-o", str(out), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["sha256"] == _sha(str(out)) and summary["ok"] is True


def test_pdf_copes_with_a_thin_strip_image_and_a_very_long_examiner(tmp_path):
    folder = tmp_path / "odd"
    folder.mkdir()
    strip = folder / "strip.png"
    PILImage.new("RGB", (20, 1000), (200, 30, 30)).save(strip)
    case_path = str(folder / "case.dfwcase")
    long_name = "y" * 3000
    with CaseStore.create(case_path, "T", long_name, number="n " * 5000, actor="tester") as store:
        store.add_evidence(strip)
    events = list(analyze(case_path, AnalysisJob(models=(VIT,), provider="cpu", allow_test_fixtures=True),
                          home=str(folder / "home")))
    assert events[-1].status == "completed"
    result = export_report(case_path, tmp_path / "odd.pdf", "pdf")
    data = Path(result.path).read_bytes()
    assert data.startswith(b"%PDF") and result.ok
    document = json.loads(Path(export_report(case_path, tmp_path / "odd.json", "json").path).read_text())
    assert document["case"]["examiner"] == long_name  # cut only on the PDF's cover


def test_the_checksum_sidecar_of_an_odd_name_still_checks_with_sha256sum(built, tmp_path):
    import shutil
    import subprocess

    odd = tmp_path / "line\nbreak \\ report.json"
    result = export_report(built["case"], odd, "json")
    sidecar = Path(result.sidecar).read_text(encoding="utf-8")
    assert sidecar.startswith("\\") and sidecar.count("\n") == 1
    if shutil.which("sha256sum"):
        checked = subprocess.run(["sha256sum", "-c", Path(result.sidecar).name], cwd=tmp_path,
                                 capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def _bookmarks_of(document: dict) -> list[dict]:
    return [b for e in document["evidence"] for b in e["annotations"]["bookmark"]]


def test_bookmarks_appear_with_status_comment_frame_and_time_in_every_format(built, tmp_path):
    document = json.loads(Path(export_report(built["case"], tmp_path / "b.json", "json").path).read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    marks = {b["status"]: b for b in _bookmarks_of(document)}
    assert sorted(marks) == ["ok", "warning"]
    warning = marks["warning"]
    assert (warning["frame_index"], warning["text"], warning["author"]) == (built["overlay_frame"], BOOKMARK_COMMENT,
                                                                            "reviewer")
    assert warning["timestamp"] == pytest.approx(built["overlay_time"]) and warning["timestamp"] is not None
    for field, value in (("status", None), ("status", "red"), ("frame_index", None)):
        broken = json.loads(json.dumps(document))
        broken["evidence"][0]["annotations"]["bookmark"][0][field] = value
        with pytest.raises(jsonschema.ValidationError):  # the schema says what a bookmark must hold
            jsonschema.Draft202012Validator(SCHEMA).validate(broken)
    sampled = {f["frame_index"] for f in document["frames"] if f["evidence_id"] == built["ids"][0]}
    assert 0 not in sampled and marks["ok"]["timestamp"] is None  # no run scored frame 0, so no time is known

    html = Path(export_report(built["case"], tmp_path / "b.html", "html").path).read_text(encoding="utf-8")
    summary = html[html.index('<h2 id="bookmarks">Bookmarks</h2>'):html.index('<section class="evidence"')]
    assert '<span class="mark mark-warning">warning</span>' in summary
    assert '<span class="mark mark-ok">ok</span>' in summary
    assert "=mouth &lt;i&gt;blurs&lt;/i&gt;\nsecond line" in summary and "<i>blurs" not in html
    assert f"{built['overlay_time']:.2f} s" in summary and HOSTILE not in summary

    rows = list(csv.DictReader(io.StringIO(
        Path(export_report(built["case"], tmp_path / "b.csv", "csv").path).read_text(encoding="utf-8-sig"))))
    assert all(None not in row and len(row) == len(CSV_COLUMNS) for row in rows)  # one rectangular table
    marked = [r for r in rows if r["row_kind"] == "bookmark"]
    assert [r["bookmark_status"] for r in marked] == [b["status"] for b in _bookmarks_of(document)]
    row = next(r for r in marked if r["bookmark_status"] == "warning")
    assert row["bookmark_comment"] == "'" + BOOKMARK_COMMENT  # a formula start is defused, the text kept
    assert (row["frame_index"], row["timestamp"]) == (str(built["overlay_frame"]), f"{built['overlay_time']:.3f}")
    assert row["p_manipulated"] == row["model"] == "" and row["evidence_sha256"] == document["evidence"][0]["sha256_recorded"]
    assert len([r for r in rows if r["row_kind"] == "result"]) == len(document["frames"])


def test_the_pdf_lists_the_bookmarks_in_their_colours(built, tmp_path):
    from engine.report.pdf import _bookmarks, _Styles

    document = json.loads(Path(export_report(built["case"], tmp_path / "p.json", "json").path).read_text())
    heading, table = _bookmarks(document, _Styles())
    assert heading.getPlainText() == "Bookmarks"
    cells = [[c.getPlainText() if hasattr(c, "getPlainText") else str(c) for c in row] for row in table._cellvalues]
    assert cells[0] == ["Evidence", "Frame", "Time in clip", "Status", "Comment", "By", "Added"]
    warning = next(row for row in cells[1:] if row[3] == "warning")
    assert warning[2] == f"{built['overlay_time']:.2f} s" and warning[4] == "=mouth <i>blurs</i>second line"
    statuses = {row[3]: row for row in cells[1:]}
    assert set(statuses) == {"ok", "warning"}
    markup = next(c for c in table._cellvalues[1:] if "warning" in c[3].getPlainText())[3].text
    assert "#b00000" in markup.lower()  # red, as in the window


def _case_without_bookmarks(folder: Path, with_evidence: bool = True) -> str:
    folder.mkdir()
    case_path = str(folder / "plain.dfwcase")
    with CaseStore.create(case_path, "Plain", "Ann", actor="tester") as store:
        if with_evidence:
            photo = folder / "photo.png"
            PILImage.new("RGB", (8, 8)).save(photo)
            store.add_evidence(photo)
    return case_path


@pytest.mark.parametrize("with_evidence, options, message", [
    (True, {"bookmarked_only": True}, "nothing to report: no evidence item carries a bookmark"),
    (True, {"bookmarked_only": True, "evidence_ids": [1]}, "no evidence item of those chosen carries a bookmark"),
    (False, {}, "nothing to report: the case holds no evidence yet"),
])
@pytest.mark.parametrize("fmt", ["html", "pdf", "json", "csv"])
def test_an_empty_selection_is_refused_and_writes_nothing(tmp_path, fmt, with_evidence, options, message):
    case_path = _case_without_bookmarks(tmp_path / "plain", with_evidence)
    with CaseStore.open(case_path, readonly=True) as store:
        logged = len(store.audit_entries())
    out = tmp_path / f"empty.{fmt}"
    with pytest.raises(ReportError, match=message):
        export_report(case_path, out, fmt, **options)
    assert not out.exists() and not Path(str(out) + ".sha256").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain"]  # no temporary file left either
    with CaseStore.open(case_path, readonly=True) as store:
        assert len(store.audit_entries()) == logged  # refused before verifying: nothing hashed, nothing logged


def test_the_report_command_exits_2_on_an_empty_selection(tmp_path, capsys):
    from engine.cli import main

    case_path = _case_without_bookmarks(tmp_path / "plain")
    out = tmp_path / "marked.html"
    code = main(["report", case_path, "--format", "html", "-o", str(out), "--bookmarked-only"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "nothing to report" in err and not out.exists()
    with CaseStore.open(case_path) as store:
        store.add_bookmark(1, 0, "now there is one", "check")
    assert main(["report", case_path, "--format", "html", "-o", str(out), "--bookmarked-only"]) == 0
    assert '<span class="mark mark-check">to check</span>' in out.read_text(encoding="utf-8")
