"""The PDF report's provenance findings and kept forensic maps of one evidence item
(forensics.py gathers them). Every case value goes through pdfbase's `_t`."""

from __future__ import annotations

from typing import Any, Mapping

from reportlab.platypus import KeepTogether, Paragraph, Spacer

from engine.forensics.maps import TITLES
from engine.report.pdfbase import WIDTH, _image, _Styles, _t, _table
from engine.report.topframes import Images

SEVERITY_COLOURS = {"strong indication": "#B00000", "noteworthy": "#8A5A00"}
MAP_HEIGHT = 260  # points: a kept map and its caption fit on a page with room to spare


def findings_block(e: Mapping[str, Any], method_note: str, s: _Styles) -> list:
    pv = e.get("provenance") or {}
    out: list = [Paragraph("Provenance findings", s.h3)]
    if pv.get("state") != "read":
        return out + [Paragraph(_t(pv.get("note") or "not read"), s.muted)]
    when = f"Read {_t(pv.get('inspected_at'))}"
    if pv.get("note"):
        when += f"; <font color='#B00000'><b>{_t(pv['note'])}</b></font>"
    out.append(Paragraph(f"{when}. {_t(method_note)}", s.muted))
    rows: list[list[Any]] = [["Severity", "Finding", "Source", "Read by"]]
    for f in pv.get("findings") or []:
        colour = SEVERITY_COLOURS.get(str(f.get("severity")))
        severity = _t(f.get("severity"))
        text = _t(f.get("explanation"))
        if f.get("value"):
            text += f"<br/><font color='#555555' size='7'>{_t(f['value'])}</font>"
        rows.append([Paragraph(f"<font color='{colour}'><b>{severity}</b></font>" if colour else severity, s.cell),
                     Paragraph(text, s.cell), f.get("source"), f.get("tool")])
    out.append(_table(rows, [0.14, 0.52, 0.17, 0.17], s) if len(rows) > 1 else Paragraph("No findings.", s.cell))
    impossible = pv.get("not_possible") or []
    if impossible:
        listed = "; ".join(_t(c.get("check")) + (f" ({_t(c.get('note'))})" if c.get("note") else "") for c in impossible)
        out.append(Paragraph(f"Not possible: {listed}", s.muted))
    return out


def kept_maps_block(e: Mapping[str, Any], images: Images, s: _Styles) -> list:
    maps = e.get("kept_maps") or []
    if not maps:
        return []
    out: list = []
    for index, m in enumerate(maps):
        params = _t(m.get("params_text") or "")
        frame = f", frame {_t(m['frame_index'])}" if m.get("frame_index") else ""
        size = m.get("size") or ["?", "?"]
        lines = [f"<b>Map {_t(m.get('id'))}: {_t(TITLES.get(str(m.get('kind')), m.get('kind')))}</b>{frame} · "
                 f"{params} · {_t(size[0])}×{_t(size[1])}",
                 f"kept by {_t(m.get('author'))}, {_t(m.get('created_at'))}"
                 + (f": <i>{_t(m['note'])}</i>" if m.get("note") else "")]
        if m.get("problem"):
            lines.append(f"<font color='#B00000'><b>{_t(m['problem'])}</b></font>")
        lines += [f"<font color='#555555'>{_t(m.get('legend'))}</font>", _t(m.get("statement")),
                  f"<font color='#555555'>PNG SHA-256 {_t(m.get('sha256'))}; made by {_t(m.get('tool_version'))}; "
                  f"made again with {_t(m.get('remake'))}</font>"]
        picture = _image(images, m.get("image"), WIDTH, MAP_HEIGHT)
        block: list = [Paragraph("Kept forensic maps", s.h3)] if index == 0 else []  # the heading goes with the map
        block += [picture] if picture is not None else []
        block += [Spacer(1, 2), *[Paragraph(line, s.small) for line in lines], Spacer(1, 6)]
        out.append(KeepTogether(block))
    return out
