"""Report export against a case file edited by an attacker with sqlite3.

A case is an SQLite file, so any stored value can be anything: markup that ReportLab would
obey, 20 MiB of text, an overlay that declares a 16000×16000 grid, JSON of the wrong shape,
an evidence row swapped to another file together with its hash. Each test builds a real case
with the fixture models, edits it as an attacker would, exports, and checks what the report
shows and what it must not do.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from engine.case import CaseStore
from engine.errors import EngineError, ModelError
from engine.explain.overlay import MAX_GRID_SIDE, Overlay
from engine.models.preprocess import PreprocessRecipe
from tests.engine.conftest import ROOT, run_main
from tests.engine.report.pdftools import pdf_images, pdf_text
from tests.engine.report.conftest import VIT, build_case, export_report

BIG = 20 * 2**20  # a 20 MiB field
SPY = (37, 23)  # the size of the picture the attacker's markup points at: no such image may be embedded


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dict:
    return build_case(tmp_path_factory.mktemp("hostile base"), models=(VIT,))


@pytest.fixture
def case(base, tmp_path) -> Path:
    """A fresh copy of the analysed case (its evidence stays where the base case has it)."""
    target = tmp_path / "case.dfwcase"
    shutil.copy(base["case"], target)
    return target


def _edit(case: Path, *statements: tuple[str, list]) -> None:
    db = sqlite3.connect(case)
    try:
        for sql, args in statements:
            db.execute(sql, args)
        db.commit()
    finally:
        db.close()


def _pdf_text(path: Path) -> str:
    """The PDF's text, without white space (table cells wrap anywhere)."""
    return re.sub(r"\s+", "", pdf_text(path))


def _pdf_image_sizes(path: Path) -> set[tuple[int, int]]:
    return {(image["width"], image["height"]) for image in pdf_images(path)}


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


# ----- markup -----------------------------------------------------------------------------------

def test_markup_in_stored_text_is_printed_in_the_pdf_not_obeyed(case, tmp_path):
    spy = tmp_path / "spy.png"
    PILImage.new("RGB", SPY, (255, 0, 0)).save(spy)

    def markup(where: str) -> str:
        return f'<img src="{spy}" width="50" height="50"/><font size="40">{where}</font>'

    _edit(case,
          ("UPDATE meta SET value = ? WHERE key = 'title'", [markup("title")]),
          ("UPDATE meta SET value = ? WHERE key = 'examiner'", [markup("examiner")]),
          ("UPDATE annotations SET text = ? WHERE kind = 'note'", [markup("note")]),
          ("UPDATE annotations SET text = ? WHERE kind = 'bookmark'", [markup("bookmark")]),
          ("UPDATE runs SET models = json_set(models, '$[0].labels[0]', ?, '$[0].source', ?)",
           [markup("label"), markup("source")]),
          ("UPDATE verdicts SET model = ? WHERE model != 'ensemble'", [markup("model")]),
          ("INSERT INTO item_errors (run_id, evidence_id, model, stage, message, created_at) "
           "VALUES (1, 2, ?, 'decode', ?, '2026-01-01T00:00:00+00:00')", [markup("errmodel"), markup("message")]),
          # Direction controls, and markup long enough to overflow a narrow column's page.
          ("UPDATE meta SET value = ? WHERE key = 'organisation'", ["Lab \u202egpj.exe"]),
          ("UPDATE annotations SET author = ? WHERE kind = 'bookmark'", [markup("author") * 8]))
    out = tmp_path / "markup.pdf"
    export_report(str(case), out, "pdf")
    text = _pdf_text(out)
    for where in ("title", "examiner", "note", "bookmark", "label", "source", "model", "errmodel", "message"):
        assert _squeeze(markup(where)) in text, where  # the markup is there, as text
    assert _squeeze(markup("author"))[:200] in text and "Lab‹U+202E›gpj.exe" in text
    assert SPY not in _pdf_image_sizes(out)  # and the picture it names was not embedded


def test_markup_in_a_number_column_is_refused_or_printed(case, tmp_path):
    spy = tmp_path / "spy.png"
    PILImage.new("RGB", SPY).save(spy)
    value = f'<img src="{spy}" width="50" height="50"/>'
    _edit(case, ("UPDATE results SET track_id = ?", [value]))
    out = tmp_path / "track.pdf"
    try:
        export_report(str(case), out, "pdf")
    except EngineError as exc:  # the case layer refuses the row: one line naming row and field
        message = str(exc)
        assert "\n" not in message and "results row" in message and "track_id" in message
        assert not out.exists()
        return
    assert SPY not in _pdf_image_sizes(out)
    assert _squeeze(value) in _pdf_text(out)


def test_html_json_and_csv_escape_markup_and_show_direction_controls(case, tmp_path):
    title = "<script>alert(1)</script> photo\u202egpj.exe \u2066x\u2069"
    _edit(case, ("UPDATE meta SET value = ? WHERE key = 'title'", [title]),
          ("UPDATE annotations SET text = ? WHERE kind IN ('note', 'bookmark')", ["note \u202d<b>over</b>"]))
    html = Path(export_report(str(case), tmp_path / "r.html", "html").path).read_text("utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; photo‹U+202E›gpj.exe ‹U+2066›x‹U+2069›" in html
    assert "note ‹U+202D›&lt;b&gt;over&lt;/b&gt;" in html
    assert not any(ch in html for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert "<script>alert" not in html
    raw = Path(export_report(str(case), tmp_path / "r.json", "json").path).read_text("utf-8")
    assert "\\u202e" in raw and "\u202e" not in raw  # escaped in the file, exact in the data
    assert json.loads(raw)["case"]["title"] == title
    data = Path(export_report(str(case), tmp_path / "r.csv", "csv").path).read_text("utf-8-sig")
    assert "‹U+202D›" in data and "\u202d" not in data


# ----- size bombs -------------------------------------------------------------------------------

def test_twenty_mebibyte_fields_are_cut_with_a_note(case, tmp_path):
    _edit(case, ("UPDATE meta SET value = ? WHERE key = 'title'", ["T" * BIG]),
          ("UPDATE annotations SET text = ? WHERE kind = 'note'", ["N" * BIG]),
          ("UPDATE evidence SET path_given = ? WHERE id = 2", ["/p" * (BIG // 2)]))
    pdf = tmp_path / "big.pdf"
    export_report(str(case), pdf, "pdf")  # no timing assert: it finishes, and says what it cut
    text = _pdf_text(pdf)
    assert "T" * 200 + "…(cut:20,971,220morecharacters)" in text  # the title, short on the page
    assert "…(cut:20,968,520morecharacters)" in text  # the note: a few thousand characters shown
    assert "T" * 400 not in text and "N" * 4000 not in text
    document = json.loads(Path(export_report(str(case), tmp_path / "big.json", "json").path).read_text("utf-8"))
    assert document["case"]["title"] == "T" * 100_000 + "… (cut: 20,871,520 more characters)"
    note = document["evidence"][0]["annotations"]["note"][0]["text"]
    assert note.endswith("… (cut: 20,871,520 more characters)") and len(note) < 100_100
    html = Path(export_report(str(case), tmp_path / "big.html", "html").path)
    assert html.stat().st_size < 2 * 2**20 and "(cut: 20,871,520 more characters)" in html.read_text("utf-8")


def _npz(grid_header: tuple[tuple[int, ...], str], grid_data: bytes, meta: dict) -> bytes:
    """An overlay payload as the program stores it, except that the grid's header may declare
    any shape (its data is then whatever `grid_data` is)."""
    shape, descr = grid_header
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": descr, "fortran_order": False, "shape": shape})
    meta_npy = io.BytesIO()
    np.save(meta_npy, np.array(json.dumps(meta)), allow_pickle=False)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("grid.npy", header.getvalue() + grid_data)
        archive.writestr("meta.npy", meta_npy.getvalue())
    return buffer.getvalue()


def _png_header(width: int, height: int) -> bytes:
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + len(ihdr).to_bytes(4, "big") + chunk + zlib.crc32(chunk).to_bytes(4, "big")


def _bomb(case: Path, kind: str) -> None:
    with CaseStore.open(str(case), readonly=True) as store:
        record = store.overlays(1)[0]
        meta = dict(record.meta)
    grid = np.zeros((14, 14), np.float32)
    if kind == "grid in payload":  # 16000×16000 float64 (2 GiB) declared in a few hundred bytes
        payload = _npz(((16000, 16000), "<f8"), b"\0" * 4096, meta)
    elif kind == "box in payload":
        payload = _npz(((14, 14), "<f4"), grid.tobytes(), {**meta, "box": [0, 0, 200000, 200000]})
    elif kind == "png payload":
        payload = _png_header(200000, 200000)
    else:  # the description the case keeps beside the payload declares the bomb
        payload = None
        meta = {**meta, "grid_shape": [16000, 16000]}
    if payload is None:
        _edit(case, ("UPDATE overlays SET meta = ? WHERE id = ?", [json.dumps(meta), record.id]))
    else:
        _edit(case, ("UPDATE overlays SET data = ?, sha256 = ?, size = ? WHERE id = ?",
                     [zlib.compress(payload), hashlib.sha256(payload).hexdigest(), len(payload), record.id]))


def _limited_report(case: Path, out: Path, home: Path, limit: int = 2 * 2**30) -> subprocess.CompletedProcess:
    """`main.py report` in a process whose address space is capped at `limit` bytes."""
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    env = {**os.environ, "DFW_HOME": str(home), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MALLOC_ARENA_MAX": "2"}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "report", str(case), "--format", "json", "-o",
                           str(out)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
                          preexec_fn=cap)


@pytest.mark.parametrize("kind", ["grid in payload", "box in payload", "png payload", "grid in meta"])
def test_overlay_bombs_are_refused_and_noted_within_bounded_memory(case, tmp_path, kind):
    _bomb(case, kind)
    out = tmp_path / "bomb.json"
    result = _limited_report(case, out, tmp_path / "home")
    assert "unexpected" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1) and out.exists(), result.stderr
    document = json.loads(out.read_text("utf-8"))
    shown = document["evidence"][0]["runs"][0]
    note = shown["top_frames_note"] or ""
    assert "overlay 1 not shown: " in note, note
    reason = note.split("overlay 1 not shown: ", 1)[1]
    assert {"grid in payload": "16,000×16,000", "box in payload": "200000", "png payload": "PNG",
            "grid in meta": "at most 1,024"}[kind] in reason
    drawn = [f for f in shown["top_frames"] if f["overlay"]]
    assert drawn and all(f["images"]["overlay"] is None and f["overlay"]["error"] for f in drawn)
    assert all(f["images"]["frame"] for f in shown["top_frames"])  # the frames themselves are still shown


def test_overlay_decoding_checks_sizes_before_decoding():
    meta = Overlay("occlusion", "m", "ab" * 32, np.zeros((14, 14), np.float32), (0, 0, 64, 36),
                   PreprocessRecipe("hf", (224, 224))).meta()
    side = MAX_GRID_SIDE + 1
    bad = {
        "grid side": _npz(((side, 2), "<f4"), b"\0" * (side * 8), meta),
        "object grid": _npz(((2, 2), "|O"), b"", meta),
        "short grid": _npz(((14, 14), "<f4"), b"\0" * 10, meta),
        "nan box": _npz(((14, 14), "<f4"), b"\0" * 784, {**meta, "box": [0, 0, float("nan"), 1]}),
        "box outside frame": _npz(((14, 14), "<f4"), b"\0" * 784, {**meta, "frame_size": [32, 32]}),
        "meta list": _npz(((14, 14), "<f4"), b"\0" * 784, [1]),  # type: ignore[arg-type]
        "bare npy": np.lib.format.magic(1, 0) + b"{'descr': '<f8', 'fortran_order': False, 'shape': (99999, 99999)}",
    }
    for payload in bad.values():
        with pytest.raises(ModelError, match="not a stored overlay"):
            Overlay.from_npz_bytes(payload)
    assert Overlay.from_npz_bytes(_npz(((14, 14), "<f4"), b"\0" * 784, meta)).grid.shape == (14, 14)


# ----- JSON of the wrong shape ------------------------------------------------------------------

WRONG_SHAPES = {
    "runs.models is an object": ("UPDATE runs SET models = '{\"name\": \"vit_optimum\"}'", "runs"),
    "results.probabilities is a list": ("UPDATE results SET probabilities = '[0.5, 0.5]' WHERE id = 1", "results"),
    "results.box has two numbers": ("UPDATE results SET box = '[1, 2]' WHERE id = 1", "results"),
    "verdicts.details is a string": ("UPDATE verdicts SET details = '\"text\"'", "verdicts"),
    "a model's meaning is a string": ("UPDATE runs SET models = json_set(models, '$[0].meaning', 'x')", "runs"),
    "verdict weights are a list": ("UPDATE runs SET settings = json_set(settings, '$.verdict.weights', json('[1]'))",
                                   "runs"),
    "a verdict's outcome is a string": ("UPDATE verdicts SET details = json_set(details, '$.outcome', 'x')",
                                        "verdicts"),
    # Not used in any computation: shown as stored, where the method section names the face mode.
    "the face mode is a list": ("UPDATE runs SET settings = json_set(settings, '$.face_mode', json('[1]'))",
                                "Regions scored: [1]."),
    "overlay meta is a list": ("UPDATE overlays SET meta = '[1]'", "overlays"),
}


@pytest.mark.parametrize("name", list(WRONG_SHAPES))
def test_json_of_the_wrong_shape_gives_no_traceback(case, tmp_path, name):
    sql, table = WRONG_SHAPES[name]
    _edit(case, (sql, []))
    out = tmp_path / "shape.json"
    result = run_main("report", str(case), "--format", "json", "-o", str(out), home=tmp_path / "home")
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr, result.stderr
    if result.returncode == 2:  # refused by the case layer (reading or verifying the case): one clean line
        assert not out.exists() and result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
        return
    assert out.exists(), result.stderr
    document = json.loads(out.read_text("utf-8"))
    listed = [r for r in document["unreadable"] if r["table"] == table]
    notes = " ".join(s["top_frames_note"] or "" for e in document["evidence"] for s in e["runs"])
    assert listed or "overlay 1 not shown" in notes or table in out.read_text("utf-8"), (document["unreadable"], notes)
    assert result.returncode == (1 if listed or not document["verification"]["ok"] else 0), result.stderr
    for fmt in ("pdf", "html", "csv"):  # and every other format lays the same case out
        again = run_main("report", str(case), "--format", fmt, "-o", str(tmp_path / f"shape.{fmt}"),
                         home=tmp_path / "home")
        assert again.returncode == result.returncode and "Traceback" not in again.stderr, again.stderr


# ----- verification that failed -----------------------------------------------------------------

def _swap_evidence(case: Path, folder: Path) -> int:
    """Point evidence row 2 at another file, with that file's size and hash: the file re-hashes
    to the row's value, but the row is not what the audit log recorded when it was added."""
    other = folder / "other.png"
    PILImage.new("RGB", (16, 16), (0, 99, 0)).save(other)
    data = other.read_bytes()
    _edit(case, ("UPDATE evidence SET path_given = ?, path_resolved = ?, size = ?, sha256 = ? WHERE id = 2",
                 [str(other), str(other), len(data), hashlib.sha256(data).hexdigest()]))
    return 2


def _reported_head(case: Path) -> str:
    """The audit head the last report saw: the entry before its own "report exported"."""
    with CaseStore.open(str(case), readonly=True) as store:
        entries = store.audit_entries()
    assert entries[-1].action == "report exported"
    return entries[-2].row_hash


def test_a_clean_case_has_no_banner_and_exits_0(case, tmp_path):
    out = tmp_path / "clean.json"
    result = run_main("report", str(case), "--format", "json", "-o", str(out), home=tmp_path / "home")
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text("utf-8"))
    assert document["banner"] is None and document["unreadable"] == [] and document["verification"]["ok"]
    assert document["audit"]["head"] == _reported_head(case)


def test_swapped_evidence_row_fails_verification_in_every_format(case, tmp_path):
    swapped = _swap_evidence(case, tmp_path)
    texts: dict[str, str] = {}
    for fmt in ("html", "pdf", "json", "csv"):
        out = tmp_path / f"swapped.{fmt}"
        result = run_main("report", str(case), "--format", fmt, "-o", str(out), home=tmp_path / "home")
        assert result.returncode == 1, result.stderr  # written, but not a clean report
        assert out.exists() and Path(str(out) + ".sha256").exists()
        warning = [line for line in result.stderr.splitlines() if "verification FAILED" in line]
        assert len(warning) == 1 and re.search(r"\(\d+ problems?", warning[0]), result.stderr
        assert "report was written" in warning[0]
        head = _reported_head(case)
        if fmt == "pdf":
            texts[fmt] = _pdf_text(out)
        else:
            texts[fmt] = out.read_text("utf-8-sig")
        assert head in texts[fmt], fmt  # what another examiner compares

    html = texts["html"]
    assert html.index("VERIFICATION FAILED") < html.index("<header>")
    row = next(r for r in re.findall(r"<tr><td>(\d+)</td>(.*?)</tr>", html, re.S) if r[0] == str(swapped))[1]
    assert "ROW ALTERED" in row and "matches" not in row and 'class="bad"' in row
    section = html.split(f"<h2>Evidence {swapped}: ", 1)[1].split("</section>", 1)[0]
    assert "matches" not in section and "differs from what the audit log recorded" in section

    document = json.loads(texts["json"])
    assert next(iter(document)) == "banner" and document["banner"]["title"] == "VERIFICATION FAILED"
    assert document["banner"]["problems"] == document["verification"]["problems"][:50]
    entry = next(e for e in document["evidence"] if e["id"] == swapped)
    assert entry["verification"] == "row altered" and entry["row_altered"] is True
    assert "matches" not in json.dumps(entry) and document["verification"]["row_altered"] == [swapped]
    assert all(s["top_frames"] == [] for s in entry["runs"])  # its frames are not re-read

    rows = list(csv.DictReader(io.StringIO(texts["csv"])))
    assert rows[0]["row_kind"] == "report" and "verification FAILED" in rows[0]["message"]
    assert rows[1]["row_kind"] == "verification" and rows[1]["message"].startswith("VERIFICATION FAILED")
    assert len([r for r in rows if r["row_kind"] == "verification"]) == 1 + len(document["banner"]["problems"])

    pdf = texts["pdf"]
    assert pdf.index("VERIFICATIONFAILED") < pdf.index("Casereport:")
    assert "ROWALTERED" in pdf and pdf.count("matches") == len(document["evidence"]) - 1


def test_the_banner_lists_fifty_problems_then_how_many_more(case, tmp_path):
    statements = [("INSERT INTO evidence (path_given, path_resolved, size, sha256, added_by, added_at) "
                   "VALUES (?, ?, 1, ?, 'x', '2026-01-01T00:00:00+00:00')",
                   [f"/nowhere/{i}", f"/nowhere/{i}", f"{i:064x}"]) for i in range(60)]
    _edit(case, *statements)
    document = json.loads(Path(export_report(str(case), tmp_path / "many.json", "json").path).read_text("utf-8"))
    problems = document["verification"]["problems"]
    assert len(problems) > 50 and document["banner"]["count"] == len(problems)
    assert document["banner"]["problems"][:50] == problems[:50]
    assert document["banner"]["problems"][50] == f"and {len(problems) - 50:,} more"
