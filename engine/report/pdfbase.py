"""What every part of the PDF report shares: fonts, styles, colours and the one way case text
reaches ReportLab.

ReportLab's Paragraph reads a mini-markup (<img src=…/>, <font>, <a href>), so a stored value
that reached it raw could embed a file from the examiner's disk or forge the report's look.
Every value from the case goes through `_t` (or `_short`, `_lines`, `_hash`, which use it):
cut to a bounded length first, since ReportLab wraps text in Python and a 20 MiB title would
take minutes to lay out, then reduced to characters the embedded font can draw, then
XML-escaped. Table rows may split across pages, so a tall cell cannot stop the layout.
"""

from __future__ import annotations

import io
import os
from typing import Any, Sequence
from xml.sax.saxutils import escape

from PIL import Image as PILImage
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, Paragraph, Table, TableStyle

from engine.report.chart import font_path
from engine.report.textsafe import cut
from engine.report.topframes import Images
from engine.vocab import BookmarkStatus, VerdictLabel

# Per value laid out in the PDF (a note, a path, a problem): several pages of text at most.
# The JSON and HTML keep up to DOCUMENT_TEXT_LIMIT (textsafe.py); layout time grows with length.
PDF_TEXT_LIMIT = 3_000
# Titles and headings, and cover-table values: a heading is kept with what follows it and a
# cover value sits in a table on the first page, so each must stay a few lines long.
PDF_TITLE_LIMIT = 300
# Values that are a number, a word or a time when the program wrote them (ids, frame
# indices, statuses): they sit in narrow columns, where a long edited value would fill pages.
PDF_SHORT_LIMIT = 64

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
        # The banner's frame and background come from the box it sits in (pdfsections.py).
        self.banner = ParagraphStyle("banner", parent=self.alert, fontSize=11, leading=14, borderWidth=0,
                                     borderPadding=0, backColor=None, spaceBefore=2, spaceAfter=2)
        self.problem = ParagraphStyle("problem", parent=self.cell, textColor=RED, leftIndent=8)
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


def _t(value: Any, limit: int = PDF_TEXT_LIMIT) -> str:
    """A case value as Paragraph text: cut to `limit` characters, drawable, XML-escaped."""
    return escape(_printable(cut("" if value is None else str(value), limit)))


def _short(value: Any) -> str:
    """A value that should be a number or a word (an id, a frame index, a status)."""
    return _t(value, PDF_SHORT_LIMIT)


def _lines(value: Any) -> str:
    """Text whose line breaks the reader should see (a note, a comment): a Paragraph would join them."""
    return _t(value).replace("\n", "<br/>")


def _hash(value: Any) -> str:
    """A SHA-256 on two lines; split before escaping, so an edited value cannot split an entity."""
    text = "" if value is None else str(value)
    return _t(text[:32]) + "<br/>" + _t(text[32:]) if len(text) == 64 else _t(text)


def _table(rows: Sequence[Sequence[Any]], widths: Sequence[float], s: _Styles, header: bool = True,
           label_col: bool = False) -> Table:
    def cell(value: Any, is_head: bool) -> Any:
        if isinstance(value, (Paragraph, Image, Table)):
            return value
        return Paragraph(_t(value), s.head if is_head else s.cell)

    data = [[cell(v, header and r == 0 or (label_col and c == 0)) for c, v in enumerate(row)] for r, row in enumerate(rows)]
    # splitInRow: a row taller than a page (a long note in a narrow column) splits instead of
    # stopping the whole export with a LayoutError.
    table = Table(data, colWidths=[w * WIDTH for w in widths], repeatRows=1 if header else 0, splitInRow=1)
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


COVER_TEXT_LIMIT = PDF_TITLE_LIMIT


def _cover(value: Any) -> str:
    """A cover-table value, cut short: the cover is one page (the JSON report has more of it)."""
    text = "" if value is None else str(value)
    return cut(text, COVER_TEXT_LIMIT) if text else "—"
