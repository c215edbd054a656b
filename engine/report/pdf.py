"""The PDF report, laid out by reportlab's platypus: the same content as the HTML, paginated.

Text is set in Bitstream Vera (the TrueType family that ships inside reportlab), embedded in the
file, so accented names print correctly on any machine; the built-in PDF fonts cover Latin-1
only and are not embedded. Every value from the case is XML-escaped before it reaches a
Paragraph, whose mini-markup would otherwise interpret it. Each page carries the case number,
the report time and the page number in its footer.
"""

from __future__ import annotations

import io
import json
import os
from typing import Any, Mapping, Sequence
from xml.sax.saxutils import escape

from PIL import Image as PILImage
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    CondPageBreak, Image, KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle,
)

from engine.report.bookmarks import bookmark_rows, status_text, timestamp_text
from engine.report.chart import font_path
from engine.report.html import details_text, score_text
from engine.report.topframes import Images
from engine.vocab import ENSEMBLE, AnnotationKind, BookmarkStatus, VerdictLabel

MARGIN = 15 * mm
WIDTH = A4[0] - 2 * MARGIN
RED, AMBER, GREEN, GREY = colors.HexColor("#B00000"), colors.HexColor("#8A5A00"), colors.HexColor("#075F07"), colors.HexColor("#555555")
LABEL_COLOURS = {VerdictLabel.LIKELY_MANIPULATED: RED, VerdictLabel.INCONCLUSIVE: AMBER,
                 VerdictLabel.NO_INDICATION: GREEN, VerdictLabel.NOT_APPLICABLE: GREY}
STATUS_COLOURS: dict[str, colors.Color] = {BookmarkStatus.OK: GREEN, BookmarkStatus.CHECK: AMBER,
                                           BookmarkStatus.WARNING: RED}


def _fonts() -> tuple[str, str]:
    regular = font_path(False)
    if regular is None:
        return "Helvetica", "Helvetica-Bold"
    if "Vera" not in pdfmetrics.getRegisteredFontNames():
        folder = os.path.dirname(regular)
        pdfmetrics.registerFont(TTFont("Vera", regular))
        pdfmetrics.registerFont(TTFont("Vera-Bold", os.path.join(folder, "VeraBd.ttf")))
        pdfmetrics.registerFont(TTFont("Vera-Italic", os.path.join(folder, "VeraIt.ttf")))
        pdfmetrics.registerFont(TTFont("Vera-BoldItalic", os.path.join(folder, "VeraBI.ttf")))
        pdfmetrics.registerFontFamily("Vera", normal="Vera", bold="Vera-Bold", italic="Vera-Italic",
                                      boldItalic="Vera-BoldItalic")
    return "Vera", "Vera-Bold"


class _Styles:
    def __init__(self) -> None:
        font, bold = _fonts()
        self.font, self.bold = font, bold
        self.body = ParagraphStyle("body", fontName=font, fontSize=9, leading=11.5, alignment=TA_LEFT)
        self.small = ParagraphStyle("small", parent=self.body, fontSize=7.5, leading=9.5)
        self.cell = ParagraphStyle("cell", parent=self.body, fontSize=8, leading=10, wordWrap="CJK")
        self.head = ParagraphStyle("head", parent=self.cell, fontName=bold)
        self.mono = ParagraphStyle("mono", parent=self.cell, fontName="Courier", fontSize=7, leading=8.5)
        self.muted = ParagraphStyle("muted", parent=self.body, textColor=GREY, fontSize=8, leading=10)
        self.h1 = ParagraphStyle("h1", parent=self.body, fontName=bold, fontSize=17, leading=21, spaceAfter=6)
        # Headings stay with what follows them: no heading alone at the foot of a page.
        self.h2 = ParagraphStyle("h2", parent=self.body, fontName=bold, fontSize=13, leading=16, spaceBefore=10,
                                 spaceAfter=5, keepWithNext=1)
        self.h3 = ParagraphStyle("h3", parent=self.body, fontName=bold, fontSize=10.5, leading=13, spaceBefore=8,
                                 spaceAfter=3, keepWithNext=1)
        self.alert = ParagraphStyle("alert", parent=self.body, fontName=bold, textColor=RED, borderColor=RED, borderWidth=1.5,
                                    borderPadding=5, backColor=colors.HexColor("#FFF0F0"), spaceBefore=8, spaceAfter=10)
        self.fixture = ParagraphStyle("fixture", parent=self.alert, textColor=colors.HexColor("#663300"),
                                      borderColor=colors.HexColor("#B36B00"), backColor=colors.HexColor("#FFF7E0"))


# Characters the report's own text uses that Bitstream Vera has no glyph for.
_FALLBACKS = {"→": "->", "←": "<-", "⇒": "=>", "≤": "<=", "≥": ">=", "≈": "~", "−": "-", "Δ": "delta ",
              "✓": "ok", "✗": "x", "·": ".", "′": "'", "″": '"', "⁻": "-", "¹": "1"}
_charmap: set[int] | None = None


def _printable(text: str) -> str:
    """Replace characters the embedded font cannot draw (they would print as empty boxes)."""
    global _charmap
    if _charmap is None:
        font = pdfmetrics.getFont(_fonts()[0])
        face = getattr(font, "face", None)
        _charmap = set(getattr(face, "charToGlyph", {}) or range(256))
    return "".join(ch if ord(ch) in _charmap or ch in "\n\t" else _FALLBACKS.get(ch, "?") for ch in text)


def _t(value: Any) -> str:
    return escape(_printable("" if value is None else str(value)))


def _lines(value: Any) -> str:
    """Text whose line breaks the reader should see (a note, a comment): a Paragraph would join them."""
    return _t(value).replace("\n", "<br/>")


def _hash(value: Any) -> str:
    text = _t(value)
    return text[:32] + "<br/>" + text[32:] if len(text) == 64 else text


def _table(rows: Sequence[Sequence[Any]], widths: Sequence[float], s: _Styles, header: bool = True,
           label_col: bool = False) -> Table:
    def cell(value: Any, is_head: bool) -> Any:
        if isinstance(value, (Paragraph, Image, Table)):
            return value
        return Paragraph(_t(value), s.head if is_head else s.cell)

    data = [[cell(v, header and r == 0 or (label_col and c == 0)) for c, v in enumerate(row)] for r, row in enumerate(rows)]
    table = Table(data, colWidths=[w * WIDTH for w in widths], repeatRows=1 if header else 0)
    style = [("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")), ("VALIGN", (0, 0), (-1, -1), "TOP"),
             ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3)]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")))
    if label_col:
        style.append(("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#EEEEEE")))
    table.setStyle(TableStyle(style))
    return table


def _image(images: Images, digest: str | None, max_w: float, max_h: float) -> Image | None:
    if not digest or digest not in images.data:
        return None
    data = images.data[digest][1]
    with PILImage.open(io.BytesIO(data)) as probe:
        w, h = probe.size
    scale = min(max_w / w, max_h / h)
    return Image(io.BytesIO(data), width=w * scale, height=h * scale)


COVER_TEXT_LIMIT = 300


def _cover(value: Any) -> str:
    """A cover-table value; a table row cannot break across pages, so very long text is cut."""
    text = "" if value is None else str(value)
    if not text:
        return "—"
    if len(text) <= COVER_TEXT_LIMIT:
        return text
    return f"{text[:COVER_TEXT_LIMIT]}… (cut at {COVER_TEXT_LIMIT} of {len(text)} characters; the JSON report has it whole)"


def _story(doc: Mapping[str, Any], images: Images, s: _Styles) -> list:
    case, report = doc["case"], doc["report"]
    story: list = [Paragraph(f"Case report: {_t(case['title'])}", s.h1)]
    story.append(_table([
        ["Case number", _cover(case.get("number")), "Examiner", _cover(case["examiner"])],
        ["Organisation", _cover(case.get("organisation")), "Case created", case["created_at"]],
        ["Report made", report["created_at"], "Time zone", report["time_zone"]],
        ["Program", f"{report['generator']['app']} {report['generator']['version']}", "Case made with",
         f"version {case['app_version']} (schema {case['schema_version']})"],
        ["Case ID", Paragraph(_t(case["uid"]), s.mono), "", ""],
    ], [0.16, 0.34, 0.16, 0.34], s, header=False, label_col=True))
    story[-1].setStyle(TableStyle([("SPAN", (1, -1), (3, -1))]))  # the ID takes the whole row
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
        story.append(Paragraph("AUDIT LOG DAMAGED: " + _t("; ".join(doc["audit"]["problems"])), s.alert))
    fixtures = [m["name"] for m in doc["models"] if m.get("is_test_fixture")]
    if fixtures:
        story.append(Paragraph(
            f"TEST FIXTURE MODELS IN THIS REPORT: {_t(', '.join(fixtures))}. These are random-weight models made for the "
            "program's own tests; their scores mean nothing about real or manipulated media.", s.fixture))

    story.append(Paragraph("Evidence", s.h2))
    rows: list[list[Any]] = [["ID", "Name", "Type", "Size (bytes)", "SHA-256 (recorded)", "Re-verified now"]]
    for e in doc["evidence"]:
        status = (Paragraph("<font color='#075F07'><b>matches</b></font>", s.cell) if e["verification"] == "ok" else
                  Paragraph(f"<font color='#B00000'><b>{_t(e['verification'].upper())}</b></font>", s.cell))
        rows.append([e["id"], e["name"], f"{e['type'] or '?'} ({e['format'] or '?'})", f"{e['size']:,}",
                     Paragraph(_hash(e["sha256_recorded"]), s.mono), status])
    story.append(_table(rows, [0.05, 0.27, 0.13, 0.12, 0.29, 0.14], s))
    story += _bookmarks(doc, s)
    for e in doc["evidence"]:
        story += _evidence(e, images, s)
    story += _models(doc, s)
    story += _method(doc, s)
    story += _audit(doc, s)
    return story


def _evidence(e: Mapping[str, Any], images: Images, s: _Styles) -> list:
    out: list = [PageBreak(), Paragraph(f"Evidence {e['id']}: {_t(e['name'])}", s.h2)]
    out.append(_table([
        ["Path when added", e["path"]], ["Added", f"{e['added_at']} by {e['added_by']}"],
        ["Media", e.get("description") or e.get("type")],
        ["SHA-256 recorded", Paragraph(_t(e["sha256_recorded"]), s.mono)],
        ["SHA-256 now", Paragraph(_t(e.get("sha256_now") or "—"), s.mono)],
    ], [0.2, 0.8], s, header=False, label_col=True))
    if e["changed_since_import"]:
        out.append(Paragraph(f"This evidence changed since import ({_t(e['verification'])}): {_t(e['verification_message'])}", s.alert))
    if not e["runs"]:
        out.append(Paragraph("Not analysed.", s.muted))
    for run in e["runs"]:
        out.append(Paragraph(f"Run {run['run_id']} ({_t(run['run_status'])})", s.h3))
        if run["verdicts"]:
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
            out.append(_table(rows, [0.2, 0.15, 0.08, 0.25, 0.12, 0.2], s))
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
            out.append(Paragraph(f"Most suspicious regions (ranked by {_t(run['top_frames'][0]['ranked_by'])})", s.h3))
            for f in run["top_frames"]:
                out.append(_frame_block(f, images, s))
        if run.get("top_frames_note"):
            out.append(Paragraph(_t(run["top_frames_note"]), s.muted))
    ann = e["annotations"]
    rows = [["Kind", "Frame", "Time in clip", "Status", "Text", "Author", "Added"]]
    for kind in AnnotationKind:
        rows += [[kind, "—" if a["frame_index"] is None else a["frame_index"], timestamp_text(a.get("timestamp")),
                  _status(a.get("status"), s), Paragraph(_lines(a["text"]), s.cell), a["author"], a["created_at"]]
                 for a in ann[kind]]
    if len(rows) > 1:
        out.append(Paragraph("Notes, tags and bookmarks", s.h3))
        out.append(_table(rows, [0.11, 0.07, 0.08, 0.09, 0.32, 0.12, 0.21], s))
    return out


def _status(status: str | None, s: _Styles) -> Paragraph:
    """A bookmark status in its colour; a word this program never writes is printed uncoloured."""
    colour = STATUS_COLOURS.get(status) if status is not None else None
    text = _t(status_text(status))
    return Paragraph(f"<font color='#{colour.hexval()[2:]}'><b>{text}</b></font>" if colour else text, s.cell)


def _bookmarks(doc: Mapping[str, Any], s: _Styles) -> list:
    """Every bookmark of the report in one table, before the items' own pages."""
    out: list = [Paragraph("Bookmarks", s.h2)]
    marks = bookmark_rows(doc)
    if not marks:
        return out + [Paragraph("No bookmarks on the evidence in this report.", s.muted)]
    rows: list[list[Any]] = [["Evidence", "Frame", "Time in clip", "Status", "Comment", "By", "Added"]]
    rows += [[f"{b['evidence_id']}: {b['evidence_name']}", b["frame_index"], timestamp_text(b["timestamp"]),
              _status(b["status"], s), Paragraph(_lines(b["text"] or "—"), s.cell), b["author"], b["created_at"]]
             for b in marks]
    out.append(_table(rows, [0.18, 0.07, 0.08, 0.09, 0.29, 0.1, 0.19], s))
    return out


def _frame_block(f: Mapping[str, Any], images: Images, s: _Styles) -> Any:
    where = "whole frame" if f["track_id"] is None else f"face track {f['track_id']}"
    when = f" at {f['timestamp']:.2f} s" if f.get("timestamp") is not None else ""
    title = Paragraph(f"<b>#{f['rank']}</b> frame {f['frame_index']}{when}, {where}, score {score_text(f['score'])}", s.cell)
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
        text = f"Overlay: {o.get('method')} for {o.get('model')}" + (f" (cannot be drawn: {o['error']})" if o.get("error") else "")
        cells.append(Paragraph(_t(text + ". " + (o.get("caveat") or "Shows where the model looked, not proof of manipulation.")), s.small))
    box = Table([[c] for c in cells], colWidths=[WIDTH])
    box.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.5, colors.HexColor("#AAAAAA")), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return KeepTogether([box, Spacer(1, 4)])


def _models(doc: Mapping[str, Any], s: _Styles) -> list:
    out: list = [PageBreak(), Paragraph("Models", s.h2)]
    if not doc["models"]:
        out.append(Paragraph("No model ran on the selected evidence.", s.muted))
    for m in doc["models"]:
        block: list = [Paragraph(_t(m.get("name")), s.h3)]
        card = m.get("card") or {}
        if card.get("fixture_warning"):
            block.append(Paragraph(_t(card["fixture_warning"]), s.fixture))
        meaning = m.get("meaning") or {}
        judges = _t(m.get("judges")) + (f": {_t(meaning.get('explanation'))} ({_t(meaning.get('source'))})" if meaning.get("explanation") else "")
        ran = _t(m.get("provider")) + (f" <font color='#B00000'>({_t(m['fallback_reason'])})</font>" if m.get("fallback_reason") else "")
        block.append(_table([
            ["Architecture", f"{m.get('architecture')} ({m.get('layout')}, {m.get('variant')})"],
            ["Labels", ", ".join(m.get("labels") or [])],
            ["Judges", Paragraph(judges, s.cell)],
            [f"SHA-256 ({m.get('onnx_file')})", Paragraph(_t(m.get("sha256")), s.mono)],
            ["Source, revision", f"{m.get('source') or 'unknown'}" + (f" @ {m['revision']}" if m.get("revision") else "")],
            ["Ran on", Paragraph(ran + f"; runs {_t(', '.join(map(str, m.get('runs') or [])))}", s.cell)],
            ["Preprocessing", m.get("preprocess")],
            ["Published metrics", "; ".join(card.get("metrics") or []) or card.get("note")],
            ["Known limitations", " ".join(card.get("limitations") or []) or "none recorded by this program"],
        ], [0.22, 0.78], s, header=False, label_col=True))
        out.append(KeepTogether(block))
    return out


def _method(doc: Mapping[str, Any], s: _Styles) -> list:
    out: list = [Paragraph("Method and limitations", s.h2)]
    for run in doc["runs"]:
        out.append(Paragraph(_t(f"Run {run['id']}: {run['status']}, {run['started_at']} → {run['finished_at'] or 'not finished'}"), s.h3))
        out.append(Paragraph(_t(f"Started by {run['started_by']} with version {run['app_version']}; provider {run['provider']}; "
                                f"items {run['items_done']} done, {run['items_failed']} failed of {run['items_total']}."), s.muted))
        out += [Paragraph("• " + _t(line), s.body) for line in run["method"]]
    out.append(Paragraph("Reading these results", s.h3))
    out += [Paragraph("• " + _t(line), s.body) for line in doc["method"]["general"]]
    return out


def _audit(doc: Mapping[str, Any], s: _Styles) -> list:
    audit = doc["audit"]
    state = "<font color='#075F07'><b>intact</b></font>" if audit["chain_ok"] else (
        "<font color='#B00000'><b>BROKEN</b></font>: " + _t("; ".join(audit["problems"])))
    out: list = [PageBreak(), Paragraph("Audit", s.h2),
                 Paragraph(f"Hash chain: {state}. {audit['rows']} entries; SQLite integrity: "
                           f"{_t(', '.join(doc['verification']['integrity']))}. Last entry hash:", s.body),
                 Paragraph(_t(audit["head"]), s.mono),
                 Paragraph("The export of this report is logged after this file is written, with the report's SHA-256 "
                           "(also in the .sha256 file beside it).", s.muted), Spacer(1, 4)]
    rows: list[list[Any]] = [["#", "Time", "Actor", "Action", "Details"]]
    rows += [[a["seq"], a["time"], a["actor"], a["action"], Paragraph(_t(details_text(a["details"])), s.small)] for a in audit["entries"]]
    out.append(_table(rows, [0.05, 0.2, 0.1, 0.15, 0.5], s))
    return out


def render_pdf(document: Mapping[str, Any], images: Images) -> bytes:
    s = _Styles()
    buffer = io.BytesIO()
    case, report = document["case"], document["report"]
    footer = f"Case {case.get('number') or case['title']} · report made {report['created_at']}"

    def decorate(canvas, pdf) -> None:
        canvas.saveState()
        canvas.setFont(s.font, 7.5)
        canvas.setFillColor(GREY)
        canvas.drawString(MARGIN, 9 * mm, footer[:120])
        canvas.drawRightString(A4[0] - MARGIN, 9 * mm, f"page {pdf.page}")
        canvas.restoreState()

    pdf = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=MARGIN + 4 * mm, title=f"Case report: {case['title']}",
                            author=case.get("examiner") or "", creator=f"{report['generator']['app']} {report['generator']['version']}",
                            subject=json.dumps({"case": case.get("uid")}))
    pdf.build(_story(document, images, s), onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()
