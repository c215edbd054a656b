"""The JSON and CSV forms of a report: the whole document as JSON, the frame-level table as CSV.

The CSV is one table so a spreadsheet opens it whole; `row_kind` says what each row is, and a
filter on it gives each table back unchanged. The first row after the header ("report") gives
the case's audit head in `message`; when verification failed, "verification" rows follow it,
one per problem. Then a "summary" row per item (the verdicts of its latest run shown, that
run's settings, its bookmarks by status), a "run" row per run shown (settings, history, and
the agreement figures of a quantized variant), a "result" row per stored result (region ×
model), a "bookmark" row per bookmark, then a "finding" row per provenance finding (its
explanation in `message`) and a "forensic_map" row per kept map (the examiner's comment in
`message`). A result row's `top_label` is the label the model
favours (for a single-logit model, "not <label>" below 0.5) with its probability in
`top_score`, and `decision` is the label the run's threshold and margin give its
p(manipulated), in the verdicts' words.

The JSON keeps every stored string exactly (up to the document's length limit) but writes
Unicode direction controls as \\u escapes, so a text editor shows them instead of obeying them.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Iterable, Mapping

from engine.report.bookmarks import bookmark_rows
from engine.report.rows import unreadable_lines
from engine.report.textsafe import BIDI_CONTROLS, bound, is_number

# New columns go at the end, so a script reading the older columns by position still reads them.
CSV_COLUMNS = ("evidence_id", "evidence_name", "evidence_sha256", "run_id", "model", "frame_index", "timestamp",
               "track_id", "box_x", "box_y", "box_w", "box_h", "p_manipulated", "top_label", "top_score",
               "row_kind", "bookmark_id", "bookmark_status", "bookmark_comment", "bookmark_author",
               "bookmark_created_at", "message", "decision", "threshold", "margin", "run_status", "settings",
               "history", "verdicts", "ensemble_verdict", "ensemble_score", "bookmarks_ok", "bookmarks_check",
               "bookmarks_warning", "bookmarks_total", "quantization", "quantization_forced", "finding_severity",
               "finding_source", "finding_tool", "map_id", "map_kind", "map_params", "map_sha256", "author",
               "created_at")
RESULT_ROW, BOOKMARK_ROW, REPORT_ROW, VERIFICATION_ROW, UNREADABLE_ROW, SUMMARY_ROW, RUN_ROW = (
    "result", "bookmark", "report", "verification", "unreadable", "summary", "run")
FINDING_ROW, MAP_ROW = "finding", "forensic_map"
# Outside JSON strings json.dumps writes ASCII only, so these replacements touch string contents alone.
_JSON_ESCAPES = {code: f"\\u{code:04x}" for code in BIDI_CONTROLS}


def render_json(document: Mapping[str, Any]) -> bytes:
    text = json.dumps(bound(document), indent=2, ensure_ascii=False, default=str)
    return (text.translate(_JSON_ESCAPES) + "\n").encode("utf-8")


def _safe(value: Any) -> Any:
    # A cell starting with = + - @ is run as a formula by spreadsheet programs; names come from evidence files.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _seconds(value: float | None) -> str | None:
    return None if value is None else f"{value:.3f}"


def _six(value: Any) -> str | None:
    if value is None:
        return None
    return f"{value:.6f}" if is_number(value) else str(value)


def _variants(document: Mapping[str, Any]) -> dict[tuple[Any, Any], Mapping[str, Any]]:
    """Quantization facts by (run, model), for the rows of a variant's results."""
    return {(run["id"], v.get("model")): v for run in document["runs"] for v in run.get("variants") or []}


def _result_rows(document: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    names = {e["id"]: (e["name"], e["sha256_recorded"]) for e in document["evidence"]}
    variants = _variants(document)
    for row in document["frames"]:
        name, sha = names.get(row["evidence_id"], ("", ""))
        box = list(row["box"]) if row.get("box") else [None] * 4
        variant = variants.get((row["run_id"], row["model"]))
        yield {"evidence_id": row["evidence_id"], "evidence_name": name, "evidence_sha256": sha,
               "run_id": row["run_id"], "model": row["model"], "frame_index": row["frame_index"],
               "timestamp": _seconds(row["timestamp"]), "track_id": row["track_id"],
               **dict(zip(("box_x", "box_y", "box_w", "box_h"), box)), "p_manipulated": _six(row["p_manipulated"]),
               "top_label": row["top_label"], "top_score": _six(row["top_score"]), "row_kind": RESULT_ROW,
               "decision": row.get("decision"), "threshold": row.get("threshold"), "margin": row.get("margin"),
               "quantization": variant["text"] if variant else None,
               "quantization_forced": _yes_no(variant["forced"]) if variant else None}


def _yes_no(value: Any) -> str:
    return "yes" if value is True else "no"


def _verdict_cell(verdict: Mapping[str, Any]) -> str:
    score = verdict.get("score")
    return f"{verdict.get('model')}={verdict.get('label')}" + (f" {_six(score)}" if is_number(score) else "")


def _summary_rows(document: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    """One row per item: the verdicts of its latest run shown, that run's settings, its bookmarks."""
    hashes = {e["id"]: e["sha256_recorded"] for e in document["evidence"]}
    for row in document["summary"]:
        ensemble = row.get("ensemble") or {}
        marks = row["bookmarks"]
        yield {"row_kind": SUMMARY_ROW, "evidence_id": row["evidence_id"], "evidence_name": row["name"],
               "evidence_sha256": hashes.get(row["evidence_id"]), "run_id": row["run_id"],
               "run_status": row["run_status"], "settings": row["settings_text"],
               "verdicts": "; ".join(_verdict_cell(v) for v in row["verdicts"]) or None,
               "ensemble_verdict": ensemble.get("label"), "ensemble_score": _six(ensemble.get("score")),
               "bookmarks_ok": marks.get("ok"), "bookmarks_check": marks.get("check"),
               "bookmarks_warning": marks.get("warning"), "bookmarks_total": marks.get("total"),
               "message": "; ".join(m for m in (
                   None if row["verification"] == "ok" else f"evidence {row['verification']}",
                   f"caution: {ensemble['caution']}" if ensemble.get("caution") else None) if m) or None}


def _run_rows(document: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    """One row per run shown: its settings, its history, and any quantized variant's figures."""
    for run in document["runs"]:
        variants = run.get("variants") or []
        yield {"row_kind": RUN_ROW, "run_id": run["id"], "run_status": run["status"],
               "model": ", ".join(map(str, run["models"])), "settings": run["settings_text"],
               "history": run["history_text"],
               "quantization": "; ".join(f"{v.get('model')}: {v.get('text')}" for v in variants) or None,
               "quantization_forced": _yes_no(any(v.get("forced") for v in variants)) if variants else None}


def _bookmark_rows(document: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    for mark in bookmark_rows(document):
        yield {"evidence_id": mark["evidence_id"], "evidence_name": mark["evidence_name"],
               "evidence_sha256": mark["evidence_sha256"], "frame_index": mark["frame_index"],
               "timestamp": _seconds(mark["timestamp"]), "row_kind": BOOKMARK_ROW, "bookmark_id": mark["id"],
               "bookmark_status": mark["status"], "bookmark_comment": mark["text"], "bookmark_author": mark["author"],
               "bookmark_created_at": mark["created_at"]}


def _forensic_rows(document: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    """A "finding" row per provenance finding and a "forensic_map" row per kept map, by item."""
    for e in document["evidence"]:
        item = {"evidence_id": e["id"], "evidence_name": e["name"], "evidence_sha256": e["sha256_recorded"]}
        for f in (e.get("provenance") or {}).get("findings") or []:
            yield {**item, "row_kind": FINDING_ROW, "finding_severity": f["severity"], "message": f["explanation"],
                   "finding_source": f["source"], "finding_tool": f["tool"]}
        for m in e.get("kept_maps") or []:
            yield {**item, "row_kind": MAP_ROW, "frame_index": m["frame_index"], "map_id": m["id"],
                   "map_kind": m["kind"], "map_params": m["params_text"], "map_sha256": m["sha256"],
                   "message": m["note"] or None, "author": m["author"], "created_at": m["created_at"]}


def _report_rows(document: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    """What the CSV says before any result: the audit head, and a failed verification's problems."""
    audit = document["audit"]
    yield {"row_kind": REPORT_ROW, "message": f"case {document['case']['uid']}: audit head {audit['head'] or 'none'} "
           f"({audit['rows']} entries); verification {'ok' if document['verification']['ok'] else 'FAILED'}"}
    banner = document.get("banner")
    if banner:
        yield {"row_kind": VERIFICATION_ROW, "message": f"{banner['title']}: {banner['text']}"}
        for line in banner["problems"]:
            yield {"row_kind": VERIFICATION_ROW, "message": line}
    for line in unreadable_lines(document):
        yield {"row_kind": UNREADABLE_ROW, "message": line}


def render_csv(document: Mapping[str, Any]) -> bytes:
    """The report rows, the summary and run rows, then one row per stored result row (region ×
    model), then one per bookmark; UTF-8 with a BOM so spreadsheets read accents."""
    document = bound(document, visible=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for cells in (*_report_rows(document), *_summary_rows(document), *_run_rows(document), *_result_rows(document),
                  *_bookmark_rows(document), *_forensic_rows(document)):
        writer.writerow([_safe(cells[c]) if cells.get(c) is not None else "" for c in CSV_COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
