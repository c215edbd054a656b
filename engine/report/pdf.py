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
    CondPageBreak, Flowable, HRFlowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle,
)

from engine.report.bookmarks import bookmark_rows, status_text, timestamp_text
from engine.report.html import count_text, score_text
from engine.report.pdfbase import (
    GREY, LABEL_COLOURS, MARGIN, PDF_TITLE_LIMIT, STATUS_COLOURS, WIDTH, _cover, _hash, _image, _lines, _short,
    _Styles, _t, _table,
)
from engine.report.overlays import method_name
from engine.report.pdfforensics import findings_block, kept_maps_block
from engine.report.pdfsections import audit_section, banner_section, method_section, models_section
from engine.report.pdfsummary import summary_section
from engine.report.summary import anchor
from engine.report.textsafe import bound, cut
from engine.report.topframes import Images
from engine.util.progress import Progress
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

    story += summary_section(doc, s)
    story.append(Paragraph("Evidence", s.h2))
    rows: list[list[Any]] = [["ID", "Name", "Type", "Size (bytes)", "SHA-256 (recorded)", "Re-verified now"]]
    for e in doc["evidence"]:
        status = (Paragraph("<font color='#075F07'><b>matches</b></font>", s.cell) if e["verification"] == "ok" else
                  Paragraph(f"<font color='#B00000'><b>{_short(str(e['verification']).upper())}</b></font>", s.cell))
        rows.append([_cover(e["id"]), _cover(e["name"]), _cover(f"{e['type'] or '?'} ({e['format'] or '?'})"),
                     _cover(count_text(e["size"])), Paragraph(_hash(e["sha256_recorded"]), s.mono), status])
    story.append(_table(rows, [0.05, 0.27, 0.13, 0.12, 0.29, 0.14], s))
    story += _bookmarks(doc, s)
    scale = (doc.get("overlay_scale") or {}).get("image")
    for index, e in enumerate(doc["evidence"]):
        story += _evidence(e, images, s, index, scale, (doc.get("method") or {}).get("provenance") or "")
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
        note = _t(v.get("note") or "")
        note = Paragraph(f"<font color='#8A5A00'>{note}</font>" if v.get("caution") else note, s.cell)
        name = Paragraph(f"<b>{_t(v['model'])}</b>" if v["model"] == ENSEMBLE else _t(v["model"]), s.cell)
        rows.append([name, Paragraph(f"<font color='#{colour}'><b>{_t(v['label'])}</b></font>", s.cell),
                     score_text(v["score"]), rule + (f" ({params})" if params else ""),
                     f"{v['threshold']} ± {v['margin']}", note])
    return rows


def _run_head(run: Mapping[str, Any], s: _Styles) -> list:
    """The run's heading, its settings and history, its model variants, and its verdicts: one block."""
    out: list = [Paragraph(f"Run {_short(run['run_id'])} ({_short(run['run_status'])})", s.h3),
                 Paragraph(f"<b>Settings:</b> {_t(run.get('settings_text'))}", s.cell),
                 Paragraph(f"<b>History:</b> {_t(run.get('history_text'))}", s.cell)]
    for v in run.get("variants") or []:
        out.append(Paragraph(f"<b>{_t(v.get('model'))}:</b> {forced_markup(v.get('text'))}", s.cell))
    if run.get("unfinished"):
        out.append(Paragraph(f"<font color='#8A5A00'><b>Unfinished:</b> {_t(run['unfinished'])}</font>", s.cell))
    out.append(Spacer(1, 3))
    if run["verdicts"]:
        out.append(_table(_verdict_rows(run, s), [0.2, 0.15, 0.08, 0.25, 0.12, 0.2], s))
    return out


def forced_markup(text: Any) -> str:
    """Quantization facts as Paragraph text, the word FORCED in red (the text is escaped first)."""
    return _t(text).replace("FORCED", "<font color='#B00000'><b>FORCED</b></font>")


def _run_block(run: Mapping[str, Any], images: Images, s: _Styles, scale: str | None) -> list:
    out: list = [KeepTogether(_run_head(run, s))]
    if run.get("outcome"):
        o = run["outcome"]
        text = (f"Decoded {o.get('frames')} frame(s); {o.get('faces')} face detection(s) in {o.get('tracks')} track(s)"
                + (f" ({o['detector']})" if o.get("detector") else "") + "." + "".join(f" {n}." for n in o.get("notes") or []))
        out.append(Paragraph(_t(text), s.muted))
    # Models that were not applicable are in the verdict table with their reason: not said twice.
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
        heading = Paragraph(f"Most suspicious regions (ranked by {_t(run['top_frames'][0]['ranked_by'], PDF_TITLE_LIMIT)})", s.h3)
        overlays = [o for f in run["top_frames"] for o in f.get("overlays") or []]
        legend = _overlay_legend(overlays, images, s, scale) if overlays else []
        blocks = [flowable for f in run["top_frames"] for flowable in _frame_block(f, images, s)]
        out.append(KeepTogether([heading, *legend, blocks[0]]))  # never the heading alone at the foot of a page
        out += blocks[1:]
    if run.get("top_frames_note"):
        out.append(Paragraph(_t(run["top_frames_note"]), s.muted))
    return out


def _evidence(e: Mapping[str, Any], images: Images, s: _Styles, index: int = 0, scale: str | None = None,
              method_note: str = "") -> list:
    heading = Paragraph(f"<a name='{anchor(e['id'])}'/>Evidence {_short(e['id'])}: {_t(e['name'], PDF_TITLE_LIMIT)}", s.h2)
    heading._report_item = (index, anchor(e["id"]), f"{e['id']}: {cut(str(e['name']), 80)}")  # for _ReportDoc
    # A new page only when little of this one is left: an item per page left most pages half
    # empty (a 15-item case ran to 49 pages); the summary's links and the outline find each one.
    out: list = [CondPageBreak(ITEM_ROOM), HRFlowable(width="100%", thickness=1.2, color=colors.HexColor("#333333"),
                                                       spaceBefore=4, spaceAfter=0), heading]
    out.append(_table([
        ["Path when added", e["path"]], ["Added", f"{cut(str(e['added_at']), 64)} by {cut(str(e['added_by']), 300)}"],
        ["Media", e.get("description") or e.get("type")],
        ["SHA-256 recorded", Paragraph(_t(e["sha256_recorded"]), s.mono)],
        ["SHA-256 now", Paragraph(_t(e.get("sha256_now") or "—"), s.mono)],
    ], [0.2, 0.8], s, header=False, label_col=True))
    if e["changed_since_import"] or e.get("row_altered"):
        out.append(Paragraph(f"This evidence is not as it was added ({_short(e['verification'])}): "
                             f"{_t(e['verification_message'])}", s.alert))
    out += findings_block(e, method_note, s)
    out += kept_maps_block(e, images, s)
    if not e["runs"]:
        out.append(Paragraph("Not analysed.", s.muted))
    for run in e["runs"]:
        out += _run_block(run, images, s, scale)
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


ITEM_ROOM = 110 * mm  # an item starts on this page when at least this much of it is free
CELL_HEIGHT = 58 * mm


def grid_columns(cells: int) -> int:
    """Pictures per row: three (each 58 mm wide), or four when that saves a row of one or two
    (a whole frame and three models' overlays fill one row of four)."""
    return 3 if cells <= 3 or cells % 3 == 0 or cells == 5 else 4


def _picture_cell(images: Images, digest: str | None, caption: str, s: _Styles, width: float) -> Table | None:
    """A picture over its caption; a caption alone (saying why) when there is no picture."""
    picture = _image(images, digest, width - 2, CELL_HEIGHT)
    if picture is None and not caption:
        return None
    cell = Table([[p] for p in (picture, Paragraph(caption, s.small)) if p is not None], colWidths=[width],
                 hAlign="LEFT")
    cell.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                              ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    return cell


def _region_rows(f: Mapping[str, Any], images: Images, s: _Styles) -> list[Table]:
    """The frame (its box in red), the crop, then each model's overlay, each over its caption,
    in rows of one table each, so a page may end between two rows."""
    pictures = f.get("images") or {}
    cells: list[tuple[str | None, str]] = [
        (pictures.get("frame"), "frame" + (", the region boxed in red" if pictures.get("crop") else ""))]
    if pictures.get("crop"):
        cells.append((pictures["crop"], "face crop"))
    for o in f.get("overlays") or []:
        caption = f"<b>{_t(o.get('model'))}</b>: {_t(o.get('method_name') or method_name(o.get('method')))}"
        if not o.get("image"):
            caption += f" <font color='#B00000'>(not shown: {_t(o.get('error') or 'no picture')})</font>"
        cells.append((o.get("image"), caption))
    columns = grid_columns(len(cells))
    width = WIDTH / columns - 4
    drawn = [c for c in (_picture_cell(images, digest, caption, s, width) for digest, caption in cells) if c is not None]
    out = []
    for start in range(0, len(drawn), columns):
        row: list[Any] = drawn[start:start + columns]
        grid = Table([row + [""] * (columns - len(row))], colWidths=[WIDTH / columns - 2] * columns, hAlign="LEFT")
        grid.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                  ("RIGHTPADDING", (0, 0), (-1, -1), 4)]))
        out.append(grid)
    return out


def _overlay_legend(overlays: list[Mapping[str, Any]], images: Images, s: _Styles, scale: str | None) -> list[Any]:
    """The colour scale and what each method shown means, once above a run's regions."""
    meanings = dict.fromkeys(f"{o.get('method_name')}: {o['meaning']}" for o in overlays if o.get("meaning"))
    bar = _image(images, scale, 0.3 * WIDTH, 3 * mm) if scale else None
    text = Paragraph(_t("Overlays: 0 (least) → 1 (most), each map scaled to its own range. " + " ".join(
        f"{m}." for m in meanings) + " An overlay shows where a model looked, not proof of manipulation."), s.small)
    if bar is None:
        return [text]
    legend = Table([[bar, text]], colWidths=[bar.drawWidth + 6, WIDTH - bar.drawWidth - 6], hAlign="LEFT")
    legend.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return [legend]


def _frame_block(f: Mapping[str, Any], images: Images, s: _Styles) -> list[Flowable]:
    """One region: a rule, its title with the first row of pictures, the other rows. A page
    may end between rows of pictures, never between the title and its first row."""
    where = "whole frame" if f["track_id"] is None else f"face track {_short(f['track_id'])}"
    when = f" at {_short(timestamp_text(f['timestamp']))}" if f.get("timestamp") is not None else ""
    scores = "; ".join(f"{_t(m)} {_short(score_text(v))}" for m, v in (f.get("scores") or {}).items())
    title = Paragraph(f"<b>#{_short(f['rank'])}</b> frame {_short(f['frame_index'])}{when}, {where}, "
                      f"score {_short(score_text(f['score']))}" + (f" <font color='#555555'>({scores})</font>" if scores else ""),
                      s.cell)
    groups: list[list[Flowable]] = [[HRFlowable(width="100%", thickness=0.5, color=colors.HexColor("#AAAAAA"),
                                                spaceBefore=2, spaceAfter=3), title]]
    rows = _region_rows(f, images, s)
    if rows:
        groups[0].append(rows[0])
        groups += [[row] for row in rows[1:]]
    return [KeepTogether(group) for group in groups] + [Spacer(1, 6)]


class _ReportDoc(SimpleDocTemplate):
    """The page template that tells `progress` of each item laid out and puts each item in the
    PDF's outline (the reader's sidebar), from the mark its heading carries."""

    def __init__(self, *args: Any, progress: Progress | None = None, items: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._report_progress, self._report_items = progress, items

    def afterFlowable(self, flowable: Any) -> None:
        mark = getattr(flowable, "_report_item", None)
        if mark is None:
            return
        index, key, title = mark
        self.canv.bookmarkPage(key)
        self.canv.addOutlineEntry(_printable_title(title), key, level=0)
        if self._report_progress is not None:
            self._report_progress(index + 1, max(1, self._report_items), f"item {index + 1} of {self._report_items}")


def _printable_title(title: str) -> str:
    """An outline entry: the viewer shows it as plain text, so only line breaks need to go."""
    return " ".join(title.split())


def render_pdf(document: Mapping[str, Any], images: Images, progress: Progress | None = None) -> bytes:
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

    pdf = _ReportDoc(buffer, progress=progress, items=len(document["evidence"]), pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=MARGIN + 4 * mm, title=f"Case report: {cut(str(case['title']), PDF_TITLE_LIMIT)}",
                            author=cut(str(case.get("examiner") or ""), PDF_TITLE_LIMIT),
                            creator=f"{report['generator']['app']} {report['generator']['version']}",
                            subject=json.dumps({"case": cut(str(case.get("uid")), PDF_TITLE_LIMIT)}))
    pdf.build(_story(document, images, s), onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()
