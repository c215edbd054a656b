"""The PDF report's opening: the one-row-per-item summary and the table of the runs it shows.

A reader of a 15-item case wants the findings first: each item with the verdict of its
latest run per model and for the ensemble, and the examiner's bookmarks, on the first pages,
each item's name a link to its own pages (and an entry in the PDF's outline). The settings
are the runs' own, so they are listed once per run below the summary and each row names its
run. Every case value goes through pdfbase's `_t`; the markup here is the program's own.
"""

from __future__ import annotations

from typing import Any, Mapping

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph

from engine.report.html import score_text
from engine.report.pdfbase import LABEL_COLOURS, PDF_TITLE_LIMIT, _short, _Styles, _t, _table
from engine.report.summary import anchor, bookmarks_text, model_columns, verdict_of


def verdict_markup(label: Any, score: Any) -> str:
    """A verdict label in its colour, with its score when there is one."""
    found = next((c for known, c in LABEL_COLOURS.items() if known == label), colors.black)
    colour = found.hexval()[2:]
    shown = f"<font color='#{colour}'><b>{_t(label, PDF_TITLE_LIMIT)}</b></font>"
    return shown + (f" {_short(score_text(score))}" if score is not None else "")


MAX_MODEL_COLUMNS = 4  # more models than this get one cell of lines instead of a column each


def _verdict_lines(row: Mapping[str, Any]) -> str:
    if row["run_id"] is None:
        return "not analysed in the runs shown"
    lines = [f"{_t(v['model'], PDF_TITLE_LIMIT)}: {verdict_markup(v['label'], v['score'])}" for v in row["verdicts"]]
    return "<br/>".join(lines) or "—"


def _model_cell(row: Mapping[str, Any], model: str) -> str:
    if row["run_id"] is None:
        return "<font color='#555555'>not analysed</font>" if model else "—"
    found = verdict_of(row, model)
    return verdict_markup(found["label"], found["score"]) if found else "<font color='#555555'>not in this run</font>"


def _item_cell(row: Mapping[str, Any]) -> str:
    # The link target is made again from the id, not read from the document: only [a-z0-9-] reach the markup.
    name = f"<a href='#{anchor(row['evidence_id'])}' color='#0645AD'>{_t(row['name'], PDF_TITLE_LIMIT)}</a>"
    if row.get("verification") != "ok":
        name += f"<br/><font color='#B00000'><b>{_short(str(row.get('verification')).upper())}</b></font>"
    if row["errors"]:
        name += f"<br/><font color='#B00000'>{_short(row['errors'])} error(s)</font>"
    return name


def _ensemble_cell(row: Mapping[str, Any]) -> str:
    ensemble = row.get("ensemble")
    if not ensemble:
        return "—"
    reason = ensemble.get("reason") if ensemble.get("score") is None else None
    caution = " <font color='#8A5A00'>(rests on weak face tracks)</font>" if ensemble.get("caution") else ""
    return verdict_markup(ensemble["label"], ensemble["score"]) + (f" <font color='#555555'>({_t(reason)})</font>"
                                                                   if reason else "") + caution


def _provenance_cell(row: Mapping[str, Any]) -> str:
    text = _t(row.get("findings_text")) if row.get("findings_text") else "<font color='#555555'>none</font>"
    maps = row.get("kept_maps")
    return text + (f"<br/>{_short(maps)} kept map(s)" if maps else "")


def _summary_table(doc: Mapping[str, Any], s: _Styles) -> list:
    """The table, with a column per model that judged any item (or one cell of lines for many),
    and a line naming the models that judged none."""
    words = ParagraphStyle("summary-cell", parent=s.cell, wordWrap=None)  # "not applicable" breaks at its space
    columns, left_out = model_columns(doc["summary"])
    per_model = len(columns) <= MAX_MODEL_COLUMNS
    heads = [Paragraph(_t(m, PDF_TITLE_LIMIT), s.head) for m in columns] if per_model else ["Verdict per model (score)"]
    rows: list[list[Any]] = [["ID", "Item", "Run", *heads, "Ensemble", "Bookmarks", "Provenance"]]
    for row in doc["summary"]:
        verdicts = ([Paragraph(_model_cell(row, m), words) for m in columns] if per_model
                    else [Paragraph(_verdict_lines(row), words)])
        rows.append([Paragraph(_short(row["evidence_id"]), s.cell), Paragraph(_item_cell(row), s.cell),
                     Paragraph(_short(row["run_id"] if row["run_id"] is not None else "—"), s.cell), *verdicts,
                     Paragraph(_ensemble_cell(row), words), Paragraph(_t(bookmarks_text(row["bookmarks"])), words),
                     Paragraph(_provenance_cell(row), words)])
    if len(rows) == 1:
        rows.append(["", "No evidence selected.", "", *[""] * len(heads), "", "", ""])
    if heads:
        share = 0.33 / len(heads)
        widths = [0.05, 0.17, 0.05, *[share] * len(heads), 0.16, 0.12, 0.12]
    else:  # no model column: the room goes to the item, the ensemble and provenance
        widths = [0.05, 0.32, 0.05, 0.24, 0.12, 0.22]
    out: list = [_table(rows, widths, s)]
    if left_out:
        out.append(Paragraph(_t(f"Not in the table: {', '.join(left_out)}, which judged none of these items (a model "
                                "that grades something other than authenticity); each item's section shows it."), s.muted))
    return out


def summary_section(doc: Mapping[str, Any], s: _Styles) -> list:
    """The summary table, then the runs it draws on with their settings and history."""
    out: list = [Paragraph("Summary", s.h2),
                 Paragraph(_t(f"One row per item: the verdicts of {doc['report']['selection']['runs_text']} shown in "
                              "this report, per model and for the ensemble, with their scores, the examiner's "
                              "bookmarks, and the provenance findings that stand beside the verdicts (never part of "
                              "them). Each name links to the item's pages."), s.muted)]
    out += _summary_table(doc, s)
    if doc["runs"]:
        out.append(Paragraph("Runs shown: settings and history", s.h3))
        runs = [["Run", "Status", "Models", "Settings", "History"]]
        runs += [[Paragraph(_short(r["id"]), s.cell), Paragraph(_short(r["status"]), s.cell),
                  Paragraph(_t(", ".join(map(str, r["models"]))), s.cell),
                  Paragraph(_t(r["settings_text"]), s.cell), Paragraph(_t(r["history_text"]), s.small)]
                 for r in doc["runs"]]
        out.append(_table(runs, [0.05, 0.1, 0.17, 0.33, 0.35], s))
    return out
