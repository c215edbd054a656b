"""Reports that lead with findings: a summary first, the latest run per item unless asked, each
run's settings and history, every model's overlay, quantization facts, the label a sigmoid
model favours, headings kept with what follows, progress by stage, and a write that leaves
nothing half-done. The case is made by the real pipeline (conftest.build_history_case)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
from PIL import Image as PILImage

from engine.analysis.aggregate import verdict_label
from engine.case import CaseStore, verify_case
from engine.case.audit import AuditEntry
from engine.errors import ReportError
from engine.report.collect import build_document
from engine.report.method import run_method
from engine.report.tabular import CSV_COLUMNS
from engine.report.topframes import Images
from tests.engine.conftest import ROOT, run_main
from tests.engine.report.conftest import export_report
from tests.engine.report.pdftools import pdf_images, pdf_text

SCHEMA = json.loads((ROOT / "docs" / "report-schema.json").read_text())


def _json(history: dict, tmp_path: Path, name: str = "r.json", **options) -> dict:
    document = json.loads(Path(export_report(history["case"], tmp_path / name, "json", **options).path).read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    return document


def _csv(history: dict, tmp_path: Path, **options) -> list[dict]:
    path = export_report(history["case"], tmp_path / "r.csv", "csv", **options).path
    return list(csv.DictReader(io.StringIO(Path(path).read_text("utf-8-sig"))))


def _pdf_text(path: str | Path, first: int | None = None, last: int | None = None) -> str:
    """The text of pages `first`..`last` (a table cell's lines stay together)."""
    return pdf_text(path, first, last)


def _latest_verdicts(history: dict, evidence_id: int) -> dict[str, str]:
    with CaseStore.open(history["case"], readonly=True) as store:
        return {v.model: v.label for v in store.verdicts(history["runs"][-1], evidence_id)}


# ----- 1. the summary, and which runs ----------------------------------------------------------

def test_a_report_opens_with_one_summary_row_per_item_in_every_format(history, tmp_path):
    document = _json(history, tmp_path)
    rows = document["summary"]
    assert [r["evidence_id"] for r in rows] == history["ids"]
    first = rows[0]
    assert first["run_id"] == history["runs"][-1]
    assert {v["model"]: v["label"] for v in first["verdicts"]} | {"ensemble": first["ensemble"]["label"]} == \
        _latest_verdicts(history, history["ids"][0])
    assert first["bookmarks"] == {"ok": 1, "check": 0, "warning": 1, "other": 0, "total": 2}
    assert rows[1]["bookmarks"]["check"] == 1 and rows[2]["bookmarks"]["total"] == 0
    assert first["settings"]["face_mode"] == "only" and first["settings"]["overlays"] is True
    assert "faces only" in first["settings_text"] and "threshold 0.5 ± 0.1" in first["settings_text"]

    html = Path(export_report(history["case"], tmp_path / "r.html", "html").path).read_text("utf-8")
    summary = html.index('<h2 id="summary">Summary</h2>')
    assert summary < html.index('<section class="evidence"')  # before any item's section
    table = html[summary:html.index('<h2 id="evidence">')]
    assert all(f'href="#evidence-{i}"' in table for i in history["ids"])
    assert "2 (1 warning, 1 ok)" in table and '<span class="label-inconclusive">inconclusive</span>' in table

    marked = [r for r in _csv(history, tmp_path) if r["row_kind"] == "summary"]
    assert [int(r["evidence_id"]) for r in marked] == history["ids"]
    assert marked[0]["ensemble_verdict"] == first["ensemble"]["label"] and marked[0]["run_id"] == str(first["run_id"])
    assert (marked[0]["bookmarks_warning"], marked[0]["bookmarks_ok"], marked[0]["bookmarks_total"]) == ("1", "1", "2")
    assert "faces only" in marked[0]["settings"] and "timm=inconclusive" in marked[0]["verdicts"]


def test_the_pdf_summary_is_on_the_first_page(history, tmp_path):
    path = export_report(history["case"], tmp_path / "r.pdf", "pdf").path
    first_page = _pdf_text(path, 1, 1)
    assert "Summary" in first_page and "interview.mp4" in first_page and "street.jpg" in first_page
    assert "Runs shown: settings and history" in first_page and "cancelled" not in first_page  # run 1 is not shown
    assert "2(1warning,1ok)" in re.sub(r"\s+", "", first_page)


def test_runs_are_the_latest_by_default_or_all_or_those_chosen(history, tmp_path):
    one, two = history["runs"]
    shown = lambda document: {e["id"]: [r["run_id"] for r in e["runs"]] for e in document["evidence"]}  # noqa: E731
    latest = _json(history, tmp_path, "latest.json")
    assert set(map(tuple, shown(latest).values())) == {(two,)} and latest["report"]["selection"]["runs"] == "latest"
    assert {f["run_id"] for f in latest["frames"]} == {two} and [r["id"] for r in latest["runs"]] == [two]
    every = _json(history, tmp_path, "all.json", runs="all")
    assert set(map(tuple, shown(every).values())) == {(one, two)}
    chosen = _json(history, tmp_path, "one.json", runs=[one])
    assert set(map(tuple, shown(chosen).values())) == {(one,)} and chosen["report"]["selection"]["runs"] == [one]
    assert chosen["summary"][0]["run_id"] == one and {f["run_id"] for f in chosen["frames"]} == {one}
    with pytest.raises(ReportError, match="no run 9 in this case"):
        export_report(history["case"], tmp_path / "nine.json", "json", runs=[9])
    assert not (tmp_path / "nine.json").exists()

    for args in (["--runs", f"{one},{two}"], ["--runs", str(one), "--runs", str(two)], ["--runs", "all"]):
        out = tmp_path / "cli.json"
        result = run_main("report", history["case"], "--format", "json", "-o", str(out), "--overwrite", *args,
                          home=history["home"])
        assert result.returncode == 0, result.stderr
        assert set(map(tuple, shown(json.loads(out.read_text("utf-8"))).values())) == {(one, two)}, args
    for bad, message in ((["--runs", "9"], "no run 9 in this case"), (["--runs", "latest,2"], "not a mixture"),
                         (["--runs", "newest"], "'newest'")):
        result = run_main("report", history["case"], "--format", "json", "-o", str(tmp_path / "bad.json"), *bad,
                          home=history["home"])
        assert result.returncode == 2 and result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
        assert not (tmp_path / "bad.json").exists()


# ----- 2. settings and history -----------------------------------------------------------------

def test_each_run_states_its_settings_and_its_history(history, tmp_path):
    document = _json(history, tmp_path, runs="all")
    first, second = document["evidence"][0]["runs"]
    assert [step["event"] for step in first["history"]] == ["started", "cancelled", "resumed", "finished"]
    assert [step["action"] for step in first["history"]] == ["run started", "run finished", "run resumed", "run finished"]
    assert "cancelled" in first["history_text"] and "resumed" in first["history_text"]
    assert [step["event"] for step in second["history"]] == ["started", "finished"]
    assert first["settings"] | {"detector": None} == {"frames_per_clip": 4, "face_mode": "auto", "overlays": False,
                                                     "detector": None, "rule": "topk_mean", "rule_params": {"k": 3},
                                                     "threshold": 0.5, "margin": 0.1}
    assert "haar" in first["settings"]["detector"].lower()
    assert second["settings"]["face_mode"] == "only" and second["settings"]["frames_per_clip"] == 5
    # Faces only has no whole-frame track, and the method says so.
    method = next(r["method"] for r in document["runs"] if r["id"] == second["run_id"])
    assert not any("whole-frame track" in line for line in method)
    assert any("each face track is scored" in line for line in method)

    html = Path(export_report(history["case"], tmp_path / "r.html", "html", runs="all").path).read_text("utf-8")
    section = html[html.index('id="evidence-1"'):html.index('id="evidence-2"')]
    assert section.count("<b>Settings:</b>") == 2 and section.count("<b>History:</b>") == 2
    assert "cancelled" in section and "resumed" in section and "faces only" in section


def test_the_pdf_run_sections_state_settings_and_history(history, tmp_path):
    text = _pdf_text(export_report(history["case"], tmp_path / "r.pdf", "pdf", runs="all").path)
    squeezed = re.sub(r"\s+", " ", text)
    assert "Settings: up to 4 frames per clip" in squeezed and "Settings: up to 5 frames per clip" in squeezed
    assert "History: started" in squeezed and "cancelled" in squeezed and "resumed" in squeezed


def test_the_method_text_of_each_face_mode_names_only_the_tracks_it_has():
    verdict = {"rule": "topk_mean", "params": {"k": 3}, "threshold": 0.5, "margin": 0.1}
    per_model = {mode: run_method({"face_mode": mode, "verdict": verdict})[2] for mode in ("auto", "only", "off")}
    assert "each face track, and the whole-frame track" in per_model["auto"]
    assert "whole-frame" not in per_model["only"] and "each face track is scored" in per_model["only"]
    assert "face track" not in per_model["off"] and "the whole-frame track is scored" in per_model["off"]


def _entry(seq: int, action: str, details) -> AuditEntry:
    return AuditEntry(seq, f"2026-01-02T10:0{seq}:00.123456+01:00", "ann", action, details, "0" * 64, "1" * 64)


def test_a_runs_history_reads_each_step_from_the_audit_log():
    from engine.report.runinfo import history_text, run_history

    entries = [_entry(1, "run started", {"run_id": 4, "evidence_count": 15}),
               _entry(2, "run interrupted", {"run_id": 4, "found_at_open": True}),
               _entry(3, "run started", {"run_id": 5}),  # another run
               _entry(4, "run resumed", {"run_id": 4, "previous_status": "interrupted", "pending_items": 7}),
               _entry(5, "run finished", {"run_id": 4, "status": "completed", "items_done": 30, "items_total": 30,
                                          "items_failed": 0}),
               _entry(6, "run finished", ["not", "an", "object"]), _entry(7, "run finished", {"run_id": True})]
    steps = run_history(entries, 4)
    assert [s["event"] for s in steps] == ["started", "interrupted", "resumed", "finished"]
    text = history_text(steps)
    assert text.startswith("started 2026-01-02T10:01:00+01:00 (15 item(s)); interrupted 2026-01-02T10:02:00+01:00")
    assert "resumed 2026-01-02T10:04:00+01:00 (was interrupted, 7 item-model pair(s) still to do)" in text
    assert text.endswith("finished 2026-01-02T10:05:00+01:00 (30 of 30 item-model pairs done)")
    assert history_text(run_history(entries, 99)) == "—"


# ----- 3. overlays -------------------------------------------------------------------------------

def test_every_models_overlay_is_drawn_large_with_its_method_and_a_colour_scale(history, tmp_path):
    document = _json(history, tmp_path)
    with CaseStore.open(history["case"], readonly=True) as store:
        stored = store.overlays(history["runs"][-1])
    checked = 0
    for entry in document["evidence"]:
        for frame in entry["runs"][0]["top_frames"]:
            expected = {o.model for o in stored if o.evidence_id == entry["id"] and o.frame_index == frame["frame_index"]
                        and o.meta.get("box") == frame["box"]}
            assert {o["model"] for o in frame["overlays"]} == expected
            checked += len(expected) > 1
            for overlay in frame["overlays"]:
                assert overlay["image"] in document["images"] and overlay["method_name"] in ("attention rollout", "occlusion")
    assert checked >= 2  # regions with several models' overlays, each drawn
    methods = {o["method_name"] for e in document["evidence"] for f in e["runs"][0]["top_frames"] for o in f["overlays"]}
    assert methods == {"attention rollout", "occlusion"}
    assert document["overlay_scale"]["image"] in document["images"]

    pictures = Images()  # the same document again, for the pictures themselves
    with CaseStore.open(history["case"], readonly=True) as store:
        build_document(store, verify_case(store, record=False), images=pictures)
    images = pictures.data
    face = next(f for e in document["evidence"] for f in e["runs"][0]["top_frames"] if f["images"]["crop"])
    crop = PILImage.open(io.BytesIO(images[face["images"]["crop"]][1]))
    drawn = PILImage.open(io.BytesIO(images[face["overlays"][0]["image"]][1]))
    assert drawn.width > crop.width and drawn.width >= 300  # larger than the crop it explains

    html = Path(export_report(history["case"], tmp_path / "r.html", "html").path).read_text("utf-8")
    assert html.count("<b>timm</b>: attention rollout") >= 2 and "<b>det:int8</b>: occlusion" in html
    assert 'alt="colour scale from 0 to 1"' in html and "Overlays: 0 (least) → 1 (most)" in html


def test_the_pdf_draws_each_models_overlay_and_the_colour_scale(history, tmp_path):
    path = export_report(history["case"], tmp_path / "r.pdf", "pdf").path
    text = re.sub(r"\s+", " ", _pdf_text(path))
    assert "timm: attention rollout" in text and "det:int8: occlusion" in text and "quality: attention rollout" in text
    assert "Overlays: 0 (least) -> 1 (most)" in text
    assert any((image["width"], image["height"]) == (512, 20) for image in pdf_images(path))  # the colour scale


# ----- 4. quantization --------------------------------------------------------------------------

def test_int8_agreement_and_the_forced_flag_appear_in_html_and_csv(history, tmp_path):
    variant = history["variant"]
    document = _json(history, tmp_path)
    (facts,) = document["evidence"][0]["runs"][0]["variants"]
    assert facts["model"] == variant and facts["forced"] is True and "top-1 agreement" in facts["text"]
    model = next(m for m in document["models"] if m["name"] == variant)
    assert model["quantization_forced"] is True and model["quantization_text"] == facts["text"]

    html = Path(export_report(history["case"], tmp_path / "r.html", "html").path).read_text("utf-8")
    section = html[html.index('id="evidence-1"'):html.index('id="evidence-2"')]
    assert f"<b>{variant}:</b> QINT8 variant" in section and "top-1 agreement" in section
    assert '; <span class="bad">FORCED</span>: kept although below the required agreement' in section
    assert "<th>Quantization</th>" in html

    rows = _csv(history, tmp_path)
    variant_rows = [r for r in rows if r["row_kind"] == "result" and r["model"] == variant]
    assert variant_rows and all(r["quantization_forced"] == "yes" and "top-1 agreement" in r["quantization"]
                                for r in variant_rows)
    assert all(r["quantization"] == "" for r in rows if r["row_kind"] == "result" and r["model"] != variant)
    (run,) = [r for r in rows if r["row_kind"] == "run"]
    assert run["quantization_forced"] == "yes" and variant in run["quantization"] and "cancelled" not in run["history"]


def test_int8_agreement_and_the_forced_flag_appear_in_the_pdf(history, tmp_path):
    text = re.sub(r"\s+", " ", _pdf_text(export_report(history["case"], tmp_path / "r.pdf", "pdf").path))
    assert f"{history['variant']}: QINT8 variant" in text and "top-1 agreement" in text
    assert "FORCED: kept although below the required agreement" in text and "Quantization" in text


def test_each_model_says_which_runtime_ran_it(history, tmp_path):
    html = Path(export_report(history["case"], tmp_path / "r.html", "html").path).read_text("utf-8")
    ran_on = re.findall(r"<tr><th>Ran on</th><td>([^;<]*)", html)
    assert ran_on and all(re.fullmatch(r"cpu \(onnxruntime \d+\.\d+[^)]*\)", text) for text in ran_on)
    text = re.sub(r"\s+", " ", _pdf_text(export_report(history["case"], tmp_path / "r.pdf", "pdf").path))
    assert "Ran on cpu (onnxruntime " in text


# ----- 5. CSV labels ----------------------------------------------------------------------------

def test_the_csv_gives_the_label_a_sigmoid_model_favours_and_the_decision(history, tmp_path):
    rows = [r for r in _csv(history, tmp_path) if r["row_kind"] == "result"]
    assert all(len(r) == len(CSV_COLUMNS) for r in rows)
    sigmoid = [r for r in rows if r["model"] == "timm"]  # one label, "fake"
    assert "not fake" in {r["top_label"] for r in sigmoid}
    for row in sigmoid:
        p = float(row["p_manipulated"])
        assert row["top_label"] == ("fake" if p >= 0.5 else "not fake")
        assert float(row["top_score"]) == pytest.approx(p if p >= 0.5 else 1 - p, abs=2e-6)
    for row in rows:
        if row["p_manipulated"]:
            expected = verdict_label(float(row["p_manipulated"]), float(row["threshold"]), float(row["margin"]))
            assert row["decision"] == str(expected)
        else:
            assert row["decision"] == "" and row["model"] == "quality"  # judges something else
    assert {r["decision"] for r in rows if r["decision"]} >= {"inconclusive"}


# ----- 6. layout --------------------------------------------------------------------------------

def test_no_pdf_heading_is_left_alone_at_the_foot_of_a_page(history, tmp_path, monkeypatch):
    from reportlab.platypus import Paragraph, Spacer
    from reportlab.platypus.flowables import HRFlowable
    from reportlab.platypus.frames import Frame

    drawn: list = []
    original = Frame.add

    def record(self, flowable, canv, trySplit=0):
        placed = original(self, flowable, canv, trySplit)
        if placed:
            drawn.append((canv.getPageNumber(), flowable))
        return placed

    monkeypatch.setattr(Frame, "add", record)
    export_report(history["case"], tmp_path / "r.pdf", "pdf")
    content = [(page, f) for page, f in drawn if not isinstance(f, (Spacer, HRFlowable))]
    headings = [(page, f.getPlainText()) for (page, f), (after, _) in zip(content, content[1:])
                if isinstance(f, Paragraph) and f.style.name in ("h2", "h3") and after != page]
    assert headings == []
    assert max(page for page, _ in drawn) >= 4
    titles = [f.getPlainText() for _, f in content if isinstance(f, Paragraph) and f.style.name in ("h2", "h3")]
    assert "Summary" in titles and titles.index("Summary") < titles.index("Evidence")


def test_the_html_has_contents_linking_each_item_and_a_wide_layout_printed_on_a4(history, tmp_path):
    html = Path(export_report(history["case"], tmp_path / "r.html", "html").path).read_text("utf-8")
    contents = html[html.index('<nav class="contents"'):html.index("</nav>")]
    for evidence_id in history["ids"]:
        assert f'href="#evidence-{evidence_id}"' in contents and f'id="evidence-{evidence_id}"' in html
    for section in ("summary", "models", "method", "audit"):
        assert f'href="#{section}"' in contents and f'id="{section}"' in html
    style = html[html.index("<style>"):html.index("</style>")]
    assert "max-width: 1200px" in style and "size: A4" in style
    printed = style[style.index("@media print"):]
    assert re.search(r"h1, h2, h3, h4 \{ break-after: avoid", printed) and ".keep { break-inside: avoid" in printed


# ----- 7. progress ------------------------------------------------------------------------------

def test_an_export_reports_each_stage_through_progress(history, tmp_path):
    for fmt in ("pdf", "csv"):
        seen: list[tuple[int, int, str]] = []
        export_report(history["case"], tmp_path / f"p.{fmt}", fmt, progress=lambda d, t, m: seen.append((d, t, m)))
        stages = list(dict.fromkeys(m.split(":")[0] for _, _, m in seen))
        assert stages[:4] == ["verifying", "collecting", "rendering", "writing"], stages
        assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)  # never backwards
        assert len({t for _, t, _ in seen}) == 1 and seen[-1][0] == seen[-1][1]
        assert sum(m.startswith("collecting: ") for _, _, m in seen) == len(history["ids"])
        if fmt == "pdf":  # the PDF says each item as it is laid out
            assert sum(m.startswith("rendering: item ") for _, _, m in seen) == len(history["ids"])


def test_the_report_command_draws_a_bar_through_the_stages(history, tmp_path, monkeypatch):
    from engine.cli import main

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    monkeypatch.setenv("DFW_HOME", history["home"])
    assert main(["report", history["case"], "--format", "pdf", "-o", str(tmp_path / "bar.pdf")]) == 0
    drawn = terminal.getvalue()
    for stage in ("verifying", "collecting", "rendering", "writing"):
        assert f"{stage}:" in drawn, drawn[-400:]


# ----- 8. writing -------------------------------------------------------------------------------

def _exports(case: str) -> list[str]:
    with CaseStore.open(case, readonly=True) as store:
        return [e.action for e in store.audit_entries() if e.action.startswith("report ")]


def _nothing_left(folder: Path) -> None:
    assert sorted(p.name for p in folder.iterdir()) == [], sorted(p.name for p in folder.iterdir())


def test_a_renderer_failing_midway_leaves_nothing(history, tmp_path, monkeypatch):
    from engine.report import pdf

    original, calls = pdf._evidence, []

    def second_item_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return original(*args, **kwargs)

    monkeypatch.setattr(pdf, "_evidence", second_item_fails)
    folder = tmp_path / "out"
    folder.mkdir()
    before = _exports(history["case"])
    with pytest.raises(ReportError, match="cannot make the pdf report: RuntimeError: disk on fire") as caught:
        export_report(history["case"], folder / "r.pdf", "pdf")
    assert "\n" not in str(caught.value)
    _nothing_left(folder)
    assert _exports(history["case"]) == before


def test_an_audit_log_that_cannot_be_written_leaves_no_report(history, tmp_path, monkeypatch):
    from engine.case.store import CaseStore as Store

    original = Store.log

    def refuse(self, action, details=None, actor=None):
        if action == "report exported":
            raise OSError(28, "No space left on device")
        return original(self, action, details, actor)

    monkeypatch.setattr(Store, "log", refuse)
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(ReportError, match="No space left on device"):
        export_report(history["case"], folder / "r.html", "html")
    _nothing_left(folder)  # neither the report nor its sidecar nor a temporary file


def _report_into(history, out: Path) -> None:
    result = run_main("report", history["case"], "--format", "pdf", "-o", str(out), home=history["home"])
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: cannot write report") and "Traceback" not in result.stderr
    assert not out.exists() and not Path(str(out) + ".sha256").exists()


def test_a_read_only_folder_gives_one_line_and_no_report(history, tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    os.chmod(folder, 0o555)
    immutable = False
    try:
        if os.access(folder, os.W_OK):  # root writes anywhere: make the folder immutable instead
            immutable = bool(shutil.which("chattr")) and subprocess.run(
                ["chattr", "+i", str(folder)], capture_output=True).returncode == 0
        if not os.access(folder, os.W_OK) or immutable:
            _report_into(history, folder / "r.pdf")
            assert list(folder.iterdir()) == []
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
        os.chmod(folder, 0o755)
    # Where no folder can be made unwritable (root on a file system without chattr), and always:
    # a "folder" that is a regular file, which no program can write into, gives the same one line.
    blocker = tmp_path / "not a folder"
    blocker.write_text("a file\n")
    _report_into(history, blocker / "r.pdf")
    assert blocker.read_text() == "a file\n"


def test_an_existing_report_is_replaced_only_when_asked(history, tmp_path):
    out = tmp_path / "r.json"
    out.write_text("an older report\n")
    result = run_main("report", history["case"], "--format", "json", "-o", str(out), home=history["home"])
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "already exists" in result.stderr
    assert "--overwrite" in result.stderr and out.read_text() == "an older report\n"
    assert not Path(str(out) + ".sha256").exists()
    with pytest.raises(ReportError, match="already exists"):
        export_report(history["case"], out, "json")
    replaced = export_report(history["case"], out, "json", overwrite=True)
    assert json.loads(out.read_text("utf-8"))["summary"] and Path(replaced.sidecar).read_text().startswith(replaced.sha256)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "r.json.sha256"]
