"""The PDF report, laid out by reportlab's platypus: the same content as the HTML, paginated.

Text is set in Bitstream Vera (the TrueType family that ships inside reportlab), embedded in the
file, so accented names print correctly on any machine; the built-in PDF fonts cover Latin-1
only and are not embedded. Every value from the case is cut and XML-escaped (pdfbase.py)
before it reaches a Paragraph, whose mini-markup would otherwise interpret it; the markup in
the f-strings here is the program's own. A failed verification opens the first page with a
banner listing the problems. Each page carries the case number, the report time and the page
number in its footer.
"""

from __future__ import annotations

import io
import json
from typing import Any, Mapping

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak, KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle,
)

from engine.report.bookmarks import bookmark_rows, status_text, timestamp_text
from engine.report.html import count_text, score_text
from engine.report.pdfbase import (
    GREY, LABEL_COLOURS, MARGIN, PDF_TITLE_LIMIT, STATUS_COLOURS, WIDTH, _cover, _hash, _image, _lines, _short,
    _Styles, _t, _table,
)
from engine.report.pdfsections import audit_section, banner_section, method_section, models_section
from engine.report.textsafe import bound, cut
from engine.report.topframes import Images
from engine.vocab import ENSEMBLE, AnnotationKind


def _story(doc: Mapping[str, Any], images: Images, s: _Styles) -> list:
    case, report = doc["case"], doc["report"]
    story: list = banner_section(doc, s)
    story.append(Paragraph(f"Case report: {_t(case['title'], PDF_TITLE_LIMIT)}", s.h1))
    story.append(_table([
        ["Case number", _cover(case.get("number")), "Examiner", _cover(case["examiner"])],
        ["Organisation", _cover(case.get("organisation")), "Case created", _cover(case["created_at"])],
        ["Report made", report["created_at"], "Time zone", report["time_zone"]],
        ["Program", f"{report['generator']['app']} {report['generator']['version']}", "Case made with",
         _cover(f"version {case['app_version']} (schema {case['schema_version']})")],
        ["Case ID", Paragraph(_t(case["uid"], PDF_TITLE_LIMIT), s.mono), "", ""],
        ["Audit head", Paragraph(_t(doc["audit"]["head"] or "—", PDF_TITLE_LIMIT), s.mono), "", ""],
    ], [0.16, 0.34, 0.16, 0.34], s, header=False, label_col=True))
    story[-1].setStyle(TableStyle([("SPAN", (1, -2), (3, -2)), ("SPAN", (1, -1), (3, -1))]))  # IDs take the row
    sel = report["selection"]
    scope = "All times are ISO 8601 with their offset from UTC."
    if sel.get("evidence_ids"):
        scope += f" This report covers evidence {', '.join(map(str, sel['evidence_ids']))} only."
    if sel.get("bookmarked_only"):
        scope += " Only evidence with at least one bookmark is included."
    story.append(Paragraph(_t(scope), s.muted))
    changed = doc["verification"]["evidence_changed"]
    if changed:
        story.append(Paragraph(
            f"EVIDENCE CHANGED SINCE IMPORT: {len(changed)} item(s) no longer match the SHA-256 recorded when they were "
            f"added to the case (evidence {_t(', '.join(map(str, changed)))}). Results were computed on the file as it was "
            "then; the file now on disk is not that file.", s.alert))
    if not doc["audit"]["chain_ok"]:
        story.append(Paragraph("AUDIT LOG DAMAGED: " + _t("; ".join(map(str, doc["audit"]["problems"]))), s.alert))
    fixtures = [str(m["name"]) for m in doc["models"] if m.get("is_test_fixture")]
    if fixtures:
        story.append(Paragraph(
            f"TEST FIXTURE MODELS IN THIS REPORT: {_t(', '.join(fixtures))}. These are random-weight models made for the "
            "program's own tests; their scores mean nothing about real or manipulated media.", s.fixture))

    story.append(Paragraph("Evidence", s.h2))
    rows: list[list[Any]] = [["ID", "Name", "Type", "Size (bytes)", "SHA-256 (recorded)", "Re-verified now"]]
    for e in doc["evidence"]:
        status = (Paragraph("<font color='#075F07'><b>matches</b></font>", s.cell) if e["verification"] == "ok" else
                  Paragraph(f"<font color='#B00000'><b>{_short(str(e['verification']).upper())}</b></font>", s.cell))
        rows.append([_cover(e["id"]), _cover(e["name"]), _cover(f"{e['type'] or '?'} ({e['format'] or '?'})"),
                     _cover(count_text(e["size"])), Paragraph(_hash(e["sha256_recorded"]), s.mono), status])
    story.append(_table(rows, [0.05, 0.27, 0.13, 0.12, 0.29, 0.14], s))
    story += _bookmarks(doc, s)
    for e in doc["evidence"]:
        story += _evidence(e, images, s)
    story += models_section(doc, s)
    story += method_section(doc, s)
    story += audit_section(doc, s)
    return story


def _verdict_rows(run: Mapping[str, Any], s: _Styles) -> list[list[Any]]:
    rows: list[list[Any]] = [["Model", "Verdict", "Score", "Rule (parameters)", "Threshold ± margin", "Notes"]]
    for v in run["verdicts"]:
        colour = LABEL_COLOURS.get(v["label"], colors.black).hexval()[2:]
        params = ", ".join(f"{k} = {p}" for k, p in sorted((v["rule_params"] or {}).items()))
        rule = f"{v['rule']}: {v['rule_description']}" if v.get("rule_description") else (v["rule"] or "")
        note = v.get("reason") or (f"most suspicious: {v['worst_track']}" if v.get("worst_track") else "")
        name = Paragraph(f"<b>{_t(v['model'])}</b>" if v["model"] == ENSEMBLE else _t(v["model"]), s.cell)
        rows.append([name, Paragraph(f"<font color='#{colour}'><b>{_t(v['label'])}</b></font>", s.cell),
                     score_text(v["score"]), rule + (f" ({params})" if params else ""),
                     f"{v['threshold']} ± {v['margin']}", note])
    return rows


def _run_block(run: Mapping[str, Any], images: Images, s: _Styles) -> list:
    out: list = [Paragraph(f"Run {_short(run['run_id'])} ({_short(run['run_status'])})", s.h3)]
    if run["verdicts"]:
        out.append(_table(_verdict_rows(run, s), [0.2, 0.15, 0.08, 0.25, 0.12, 0.2], s))
    if run.get("outcome"):
        o = run["outcome"]
        text = (f"Decoded {o.get('frames')} frame(s); {o.get('faces')} face detection(s) in {o.get('tracks')} track(s)"
                + (f" ({o['detector']})" if o.get("detector") else "") + "." + "".join(f" {n}." for n in o.get("notes") or []))
        out.append(Paragraph(_t(text), s.muted))
    if run["not_applicable"]:
        out.append(Paragraph("Not applicable: " + _t("; ".join(f"{n['model']}: {n['reason']}" for n in run["not_applicable"])), s.body))
    if run["errors"]:
        rows = [["Stage", "Model", "Message", "Time"]] + [[x["stage"], x["model"] or "all", x["message"], x["created_at"]]
                                                           for x in run["errors"]]
        out.append(Paragraph("Errors", s.h3))
        out.append(_table(rows, [0.12, 0.16, 0.47, 0.25], s))
    if run.get("chart"):
        chart = _image(images, run["chart"]["image"], WIDTH, 70 * mm)
        if chart is not None:
            out.append(KeepTogether([Paragraph("Per-frame scores (highest region per frame)", s.h3), chart]))
    if run["top_frames"]:
        out.append(CondPageBreak(60 * mm))
        out.append(Paragraph(f"Most suspicious regions (ranked by {_t(run['top_frames'][0]['ranked_by'], PDF_TITLE_LIMIT)})", s.h3))
        for f in run["top_frames"]:
            out.append(_frame_block(f, images, s))
    if run.get("top_frames_note"):
        out.append(Paragraph(_t(run["top_frames_note"]), s.muted))
    return out


def _evidence(e: Mapping[str, Any], images: Images, s: _Styles) -> list:
    out: list = [PageBreak(), Paragraph(f"Evidence {_short(e['id'])}: {_t(e['name'], PDF_TITLE_LIMIT)}", s.h2)]
    out.append(_table([
        ["Path when added", e["path"]], ["Added", f"{cut(str(e['added_at']), 64)} by {cut(str(e['added_by']), 300)}"],
        ["Media", e.get("description") or e.get("type")],
        ["SHA-256 recorded", Paragraph(_t(e["sha256_recorded"]), s.mono)],
        ["SHA-256 now", Paragraph(_t(e.get("sha256_now") or "—"), s.mono)],
    ], [0.2, 0.8], s, header=False, label_col=True))
    if e["changed_since_import"] or e.get("row_altered"):
        out.append(Paragraph(f"This evidence is not as it was added ({_short(e['verification'])}): "
                             f"{_t(e['verification_message'])}", s.alert))
    if not e["runs"]:
        out.append(Paragraph("Not analysed.", s.muted))
    for run in e["runs"]:
        out += _run_block(run, images, s)
    ann = e["annotations"]
    rows = [["Kind", "Frame", "Time in clip", "Status", "Text", "Author", "Added"]]
    for kind in AnnotationKind:
        rows += [[kind, _cover("—" if a["frame_index"] is None else a["frame_index"]),
                  _cover(timestamp_text(a.get("timestamp"))), _status(a.get("status"), s),
                  Paragraph(_lines(a["text"]), s.cell), _cover(a["author"]), _cover(a["created_at"])]
                 for a in ann.get(kind, [])]
    if len(rows) > 1:
        out.append(Paragraph("Notes, tags and bookmarks", s.h3))
        out.append(_table(rows, [0.11, 0.07, 0.08, 0.09, 0.32, 0.12, 0.21], s))
    return out


def _status(status: str | None, s: _Styles) -> Paragraph:
    """A bookmark status in its colour; a word this program never writes is printed uncoloured."""
    colour = STATUS_COLOURS.get(status) if status is not None else None
    text = _short(status_text(status))
    return Paragraph(f"<font color='#{colour.hexval()[2:]}'><b>{text}</b></font>" if colour else text, s.cell)


def _bookmarks(doc: Mapping[str, Any], s: _Styles) -> list:
    """Every bookmark of the report in one table, before the items' own pages."""
    out: list = [Paragraph("Bookmarks", s.h2)]
    marks = bookmark_rows(doc)
    if not marks:
        return out + [Paragraph("No bookmarks on the evidence in this report.", s.muted)]
    rows: list[list[Any]] = [["Evidence", "Frame", "Time in clip", "Status", "Comment", "By", "Added"]]
    rows += [[_cover(f"{b['evidence_id']}: {b['evidence_name']}"), _cover(b["frame_index"]),
              _cover(timestamp_text(b["timestamp"])), _status(b["status"], s),
              Paragraph(_lines(b["text"] or "—"), s.cell), _cover(b["author"]), _cover(b["created_at"])]
             for b in marks]
    out.append(_table(rows, [0.18, 0.07, 0.08, 0.09, 0.29, 0.1, 0.19], s))
    return out


def _frame_block(f: Mapping[str, Any], images: Images, s: _Styles) -> Any:
    where = "whole frame" if f["track_id"] is None else f"face track {_short(f['track_id'])}"
    when = f" at {_short(timestamp_text(f['timestamp']))}" if f.get("timestamp") is not None else ""
    title = Paragraph(f"<b>#{_short(f['rank'])}</b> frame {_short(f['frame_index'])}{when}, {where}, "
                      f"score {_short(score_text(f['score']))}", s.cell)
    pics = [p for p in (_image(images, f["images"]["frame"], 0.5 * WIDTH, 60 * mm),
                        _image(images, f["images"]["crop"], 0.22 * WIDTH, 40 * mm),
                        _image(images, f["images"]["overlay"], 0.22 * WIDTH, 40 * mm)) if p is not None]
    cells: list[Any] = [title]
    if pics:
        # Explicit widths that include the padding: a very thin picture (a 20×1000 strip)
        # would otherwise get a column narrower than its own padding, which ReportLab refuses.
        row = Table([pics], colWidths=[p.drawWidth + 8 for p in pics], hAlign="LEFT")
        row.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
        cells.append(row)
    if f.get("overlay"):
        o = f["overlay"]
        text = f"Overlay: {o.get('method')} for {o.get('model')}" + (f" (not shown: {o['error']})" if o.get("error") else "")
        cells.append(Paragraph(_t(text + ". " + (o.get("caveat") or "Shows where the model looked, not proof of manipulation.")), s.small))
    box = Table([[c] for c in cells], colWidths=[WIDTH], splitInRow=1)
    box.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.5, colors.HexColor("#AAAAAA")), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return KeepTogether([box, Spacer(1, 4)])


def render_pdf(document: Mapping[str, Any], images: Images) -> bytes:
    document = bound(document, visible=True)
    s = _Styles()
    buffer = io.BytesIO()
    case, report = document["case"], document["report"]
    footer = f"Case {cut(str(case.get('number') or case['title']), 80)} · report made {report['created_at']}"

    def decorate(canvas, pdf) -> None:
        canvas.saveState()
        canvas.setFont(s.font, 7.5)
        canvas.setFillColor(GREY)
        canvas.drawString(MARGIN, 9 * mm, footer[:120])
        canvas.drawRightString(A4[0] - MARGIN, 9 * mm, f"page {pdf.page}")
        canvas.restoreState()

    pdf = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=MARGIN + 4 * mm, title=f"Case report: {cut(str(case['title']), PDF_TITLE_LIMIT)}",
                            author=cut(str(case.get("examiner") or ""), PDF_TITLE_LIMIT),
                            creator=f"{report['generator']['app']} {report['generator']['version']}",
                            subject=json.dumps({"case": cut(str(case.get("uid")), PDF_TITLE_LIMIT)}))
    pdf.build(_story(document, images, s), onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()
