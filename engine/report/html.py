"""The HTML report: one self-contained, printable file from a Jinja2 template with autoescaping on.

Every value from the case (evidence names, notes, model labels) is escaped by the template
engine, so a file named like markup is shown as text, and Unicode direction controls in it are
written as visible marks (‹U+202E›) so they cannot reorder what the reader sees; images are
embedded as data: URIs and the stylesheet is included inline, so the file can be mailed or
archived alone. A failed verification opens the page with a banner listing the problems.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Mapping

import jinja2
from markupsafe import Markup, escape

from engine.paths import resources_dir
from engine.report.bookmarks import bookmark_rows, status_text, timestamp_text
from engine.report.rows import unreadable_lines
from engine.report.textsafe import bound, number_text
from engine.report.topframes import Images
from engine.vocab import BookmarkStatus

TEMPLATE = "report.html.j2"
DETAIL_CHARS = 400


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resources_dir() / "report")),
        autoescape=True,  # every template here is HTML
        trim_blocks=True, lstrip_blocks=True,
    )


def score_text(value: Any) -> str:
    return number_text(value, ".3f")


def count_text(value: Any) -> str:
    """A size or count with thousands separators; a stored word is shown as it is."""
    return number_text(value, ",", none="?")



def details_text(details: Mapping[str, Any]) -> str:
    text = json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 1] + "…"


def status_mark(status: str | None) -> Markup:
    """A bookmark status as a coloured mark; a word this program never writes gets no colour."""
    known = f" mark-{status}" if status in set(BookmarkStatus) else ""
    return Markup('<span class="mark{}">{}</span>').format(known, escape(status_text(status)))


def render_html(document: Mapping[str, Any], images: Images) -> bytes:
    document = bound(document, visible=True)

    def uri(digest: str) -> str:
        mime, data = images.data[digest]
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"

    template = _environment().get_template(TEMPLATE)
    return template.render(doc=document, uri=uri, score=score_text, details=details_text, count=count_text,
                           bookmarks=bookmark_rows(document), mark=status_mark, seconds=timestamp_text,
                           unreadable=unreadable_lines(document)).encode("utf-8")
