"""JPEG facts for the provenance report: tables, quality, structure problems, recompression.

Built on the marker walk (jpeg_markers) and the libjpeg tables (jpeg_tables); the double
compression hint decodes the luminance once, after the frame size has been checked against
the pixel limit, so a header declaring 100,000 × 100,000 pixels is named, not decoded.
"""

from __future__ import annotations

from engine.forensics.double_jpeg import double_compression_hint
from engine.forensics.jpeg_markers import JpegLayout
from engine.forensics.jpeg_tables import describe_table
from engine.forensics.records import (
    CheckRecord,
    CheckState,
    DoubleCompression,
    Found,
    JpegFacts,
    QuantTable,
    Severity,
)
from engine.forensics.tools import finding

SOURCE_DQT = "JPEG DQT segments"


def _subsampling(layout: JpegLayout) -> str | None:
    frame = layout.frame
    if frame is None or not frame.components:
        return None
    if len(frame.components) == 1:
        return "grey"
    h0, v0 = frame.components[0][1], frame.components[0][2]
    h1, v1 = frame.components[1][1], frame.components[1][2]
    if min(h1, v1) <= 0:
        return None
    names = {(1, 1): "4:4:4", (2, 1): "4:2:2", (2, 2): "4:2:0", (4, 1): "4:1:1", (1, 2): "4:4:0"}
    ratio = (h0 // h1 if h1 else 0, v0 // v1 if v1 else 0)
    return names.get(ratio, f"{h0}x{v0}/{h1}x{v1}")


def _tables(layout: JpegLayout) -> tuple[QuantTable, ...]:
    frame = layout.frame
    luminance_id = frame.components[0][3] if frame and frame.components else 0
    return tuple(describe_table(tid, values, tid == luminance_id, layout.table_precision.get(tid, 8))
                 for tid, values in sorted(layout.tables.items()))


def jpeg_facts(data: bytes, layout: JpegLayout, max_pixels: int, recompression: bool = True) -> tuple[JpegFacts, Found]:
    found = Found()
    frame = layout.frame
    tables = _tables(layout)
    luminance_id = frame.components[0][3] if frame and frame.components else 0
    luminance = next((t for t in tables if t.table_id == luminance_id), None)
    qualities = {t.standard_quality for t in tables}
    standard = bool(tables) and None not in qualities and len(qualities) == 1
    double = _double(data, layout, luminance, max_pixels, found) if recompression else _skipped(found)
    facts = JpegFacts(
        width=frame.width if frame else None, height=frame.height if frame else None,
        process=frame.process if frame else None, components=len(frame.components) if frame else None,
        subsampling=_subsampling(layout), segments=tuple(layout.names), tables=tables,
        quality_estimate=luminance.nearest_quality if luminance else None, standard_tables=standard,
        double_compression=double, problems=tuple(layout.problems))
    _table_findings(facts, luminance, found)
    _structure_findings(layout, found)
    return facts, found


def _double(data: bytes, layout: JpegLayout, luminance: QuantTable | None, max_pixels: int,
            found: Found) -> DoubleCompression:
    frame = layout.frame
    if frame is None or luminance is None:
        result = DoubleCompression("not possible", "no frame header or no quantisation table")
    elif frame.width * frame.height > max_pixels or frame.width == 0 or frame.height == 0:
        result = DoubleCompression("not possible", f"the header declares {frame.width}×{frame.height} pixels, "
                                   f"beyond the {max_pixels:,}-pixel limit or impossible: not decoded")
    elif frame.process != "baseline" and frame.process != "progressive":
        result = DoubleCompression("not possible", f"{frame.process} JPEG is not judged")
    else:
        result = double_compression_hint(data, luminance.values)
    state = {"hint": CheckState.DONE, "no hint": CheckState.DONE}.get(result.state, CheckState.NOT_POSSIBLE)
    found.checks.append(CheckRecord("jpeg.double_compression", state, result.note))
    if result.state == "hint":
        found.findings.append(finding(
            "jpeg.double_compression", Severity.NOTEWORTHY,
            f"compressed at least twice: {result.note}", "JPEG luminance DCT coefficients",
            value=", ".join(f"mode {m}: step {q2} after {q1}" for m, q2, q1 in result.primary_steps)))
    return result


def _skipped(found: Found) -> DoubleCompression:
    note = "not judged here (it decodes the whole picture): the item's provenance on demand judges it"
    found.checks.append(CheckRecord("jpeg.double_compression", CheckState.SKIPPED, note))
    return DoubleCompression("skipped", note)


def _table_findings(facts: JpegFacts, luminance: QuantTable | None, found: Found) -> None:
    if luminance is None:
        found.checks.append(CheckRecord("jpeg.tables", CheckState.NOT_POSSIBLE, "no quantisation table in the file"))
        found.findings.append(finding("jpeg.tables", Severity.NOTEWORTHY,
                                      "the JPEG has no quantisation table: it cannot be decoded as written",
                                      SOURCE_DQT))
        return
    found.checks.append(CheckRecord("jpeg.tables", CheckState.DONE))
    listing = "; ".join(f"table {t.table_id}: " + " ".join(map(str, t.values[:8])) + " …" for t in facts.tables)
    if facts.standard_tables:
        found.findings.append(finding(
            "jpeg.tables", Severity.INFORMATIVE,
            f"libjpeg's standard tables at quality {luminance.standard_quality}: written by libjpeg-style software "
            "(editors, browsers, phone apps, re-encoding services); camera firmware usually writes its own tables",
            SOURCE_DQT, value=listing))
    else:
        found.findings.append(finding(
            "jpeg.tables", Severity.INFORMATIVE,
            f"custom tables, nearest libjpeg quality {luminance.nearest_quality} (mean step deviation "
            f"{luminance.mean_deviation}): typical of camera firmware and some editors (Photoshop)",
            SOURCE_DQT, value=listing))


def _structure_findings(layout: JpegLayout, found: Found) -> None:
    mpf = any(name.endswith("MPF") for name in layout.names)
    for problem in layout.problems:
        if "follow the end-of-image" in problem:
            # Multi-picture files keep their second pictures after the first end marker.
            severity = Severity.INFORMATIVE if mpf else Severity.NOTEWORTHY
            why = ("the MPF segment says further pictures follow" if mpf else
                   "appended data: a trailer some phone apps write, a second picture, or something hidden")
            found.findings.append(finding("jpeg.structure", severity, f"{problem}: {why}", "JPEG marker structure"))
        else:
            found.findings.append(finding("jpeg.structure", Severity.NOTEWORTHY,
                                          f"damaged or incomplete file: {problem}", "JPEG marker structure"))
    found.checks.append(CheckRecord("jpeg.structure", CheckState.DONE,
                                    "; ".join(layout.problems) if layout.problems else "markers well formed"))
