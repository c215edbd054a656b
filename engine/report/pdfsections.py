"""The PDF report's framing sections: the VERIFICATION FAILED banner and the unreadable-row
alert at the top, and the models, method and audit sections at the end.

Every case value goes through pdfbase's `_t` (cut, drawable, XML-escaped); the markup in the
f-strings here is the program's own.
"""

from __future__ import annotations

from typing import Any, Mapping

from reportlab.lib import colors
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, Spacer, Table, TableStyle

from engine.report.html import details_text
from engine.report.pdfbase import PDF_TITLE_LIMIT, RED, WIDTH, _short, _Styles, _t, _table
from engine.report.rows import unreadable_lines
from engine.report.runinfo import moment_text

# The audit table lists every entry; a line or two of each entry's details keeps a long case's
# log to a few pages (an "item stored" entry's hashes fill five lines).
AUDIT_DETAIL_CHARS = 160


def _when(time: Any) -> str:
    """An audit time on two lines, date over time of day, cut to the second."""
    text = moment_text(time)
    date, sep, rest = text.partition("T")
    return f"{_short(date)}<br/>{_short(rest)}" if sep and len(date) == 10 else _t(text, PDF_TITLE_LIMIT)


def _boxed(paragraphs: list[Paragraph], background: str) -> Table:
    """Paragraphs in one red-framed box that may run over a page break."""
    box = Table([[p] for p in paragraphs], colWidths=[WIDTH], splitInRow=1)
    box.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 2.5, RED), ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor(background)),
                             ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]))
    return box


def banner_section(doc: Mapping[str, Any], s: _Styles) -> list:
    """The first thing on the first page when verification failed, with the problems listed."""
    banner = doc.get("banner")
    out: list = []
    if banner:
        head = Paragraph(f"<font size='15'>{_t(banner['title'], PDF_TITLE_LIMIT)}</font><br/>{_t(banner['text'])}",
                         s.banner)
        out += [_boxed([head] + [Paragraph("• " + _t(line), s.problem) for line in banner["problems"]], "#FFF0F0"),
                Spacer(1, 8)]
    lines = unreadable_lines(doc)
    if lines:
        head = Paragraph(f"UNREADABLE ROWS: {len(doc['unreadable'])} stored row(s) or value(s) of this case are not of "
                         "the shape this program writes; they are left out of this report.", s.banner)
        out += [_boxed([head] + [Paragraph("• " + _t(line), s.problem) for line in lines], "#FFF7E0"), Spacer(1, 8)]
    return out


def models_section(doc: Mapping[str, Any], s: _Styles) -> list:
    out: list = [PageBreak(), Paragraph("Models", s.h2)]
    if not doc["models"]:
        out.append(Paragraph("No model ran on the selected evidence.", s.muted))
    for m in doc["models"]:
        block: list = [Paragraph(_t(m.get("name"), PDF_TITLE_LIMIT), s.h3)]
        card = m.get("card") or {}
        if card.get("fixture_warning"):
            block.append(Paragraph(_t(card["fixture_warning"]), s.fixture))
        meaning = m.get("meaning") or {}
        judges = _t(m.get("judges")) + (f": {_t(meaning.get('explanation'))} ({_t(meaning.get('source'))})"
                                        if meaning.get("explanation") else "")
        runtime = (f" ({_t(m.get('runtime'))}" + (f", {_t(m.get('precision'))}" if m.get("precision") else "") + ")"
                   if m.get("runtime") else "")
        ran = _t(m.get("provider")) + runtime + (f" <font color='#B00000'>({_t(m['fallback_reason'])})</font>"
                                       if m.get("fallback_reason") else "")
        block.append(_table([
            ["Architecture", f"{m.get('architecture')} ({m.get('layout')}, {m.get('variant')})"],
            ["Labels", ", ".join(m.get("labels") or [])],
            ["Judges", Paragraph(judges, s.cell)],
            [f"SHA-256 ({m.get('onnx_file')})", Paragraph(_t(m.get("sha256")), s.mono)],
            ["Source, revision", f"{m.get('source') or 'unknown'}" + (f" @ {m['revision']}" if m.get("revision") else "")],
            *([["Quantization", Paragraph(_t(m["quantization_text"]).replace(
                "FORCED", "<font color='#B00000'><b>FORCED</b></font>"), s.cell)]] if m.get("quantization_text") else []),
            ["Ran on", Paragraph(ran + f"; runs {_t(', '.join(map(str, m.get('runs') or [])))}", s.cell)],
            *([["Scoring graph", Paragraph(f"{_t(m.get('graph'))}, made at import from the file above; SHA-256 "
                                           f"{_t(m['graph_sha256'])}", s.cell)]] if m.get("graph_sha256") else []),
            ["Preprocessing", m.get("preprocess")],
            ["Published metrics", "; ".join(card.get("metrics") or []) or card.get("note")],
            ["Known limitations", " ".join(card.get("limitations") or []) or "none recorded by this program"],
        ], [0.22, 0.78], s, header=False, label_col=True))
        out.append(KeepTogether(block))
    return out


def method_section(doc: Mapping[str, Any], s: _Styles) -> list:
    out: list = [Paragraph("Method and limitations", s.h2)]
    for run in doc["runs"]:
        out.append(Paragraph(_t(f"Run {run['id']}: {run['status']}, {run['started_at']} → "
                                f"{run['finished_at'] or 'not finished'}", PDF_TITLE_LIMIT), s.h3))
        out.append(Paragraph(_t(f"Started by {run['started_by']} with version {run['app_version']}; provider {run['provider']}; "
                                f"items {run['items_done']} done, {run['items_failed']} failed of {run['items_total']}."), s.muted))
        out += [Paragraph("• " + _t(line), s.body) for line in run["method"]]
    out.append(Paragraph("Reading these results", s.h3))
    out += [Paragraph("• " + _t(line), s.body) for line in doc["method"]["general"]]
    return out


def audit_section(doc: Mapping[str, Any], s: _Styles) -> list:
    audit = doc["audit"]
    state = "<font color='#075F07'><b>intact</b></font>" if audit["chain_ok"] else (
        "<font color='#B00000'><b>BROKEN</b></font>: " + _t("; ".join(map(str, audit["problems"]))))
    out: list = [PageBreak(), Paragraph("Audit", s.h2),
                 Paragraph(f"Hash chain: {state}. {_short(audit['rows'])} entries; SQLite integrity: "
                           f"{_t(', '.join(map(str, doc['verification']['integrity'])))}. Last entry hash (the audit "
                           "head another examiner compares):", s.body),
                 Paragraph(_t(audit["head"]), s.mono),
                 Paragraph("The export of this report is logged after this file is written, with the report's SHA-256 "
                           "(also in the .sha256 file beside it).", s.muted), Spacer(1, 4)]
    out.append(Paragraph(f"Every entry, times to the second and details cut to {AUDIT_DETAIL_CHARS} characters "
                         "(the JSON report has them whole).", s.muted))
    rows: list[list[Any]] = [["#", "Time", "Actor", "Action", "Details"]]
    rows += [[Paragraph(_short(a["seq"]), s.small), Paragraph(_when(a["time"]), s.small),
              Paragraph(_short(a["actor"]), s.small), Paragraph(_t(a["action"], PDF_TITLE_LIMIT), s.small),
              Paragraph(_t(details_text(a["details"], AUDIT_DETAIL_CHARS)), s.small)] for a in audit["entries"]]
    table = _table(rows, [0.05, 0.13, 0.08, 0.15, 0.59], s)
    table.setStyle(TableStyle([("TOPPADDING", (0, 1), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 1), (-1, -1), 2)]))
    out.append(table)
    return out
