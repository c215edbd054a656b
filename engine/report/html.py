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

from engine.forensics.maps import TITLES as MAP_TITLES
from engine.paths import resources_dir
from engine.report.bookmarks import bookmark_rows, status_text, timestamp_text
from engine.report.rows import unreadable_lines
from engine.report.summary import anchor, bookmarks_text, model_columns, verdict_of
from engine.report.textsafe import bound, number_text
from engine.report.topframes import Images
from engine.vocab import BookmarkStatus, VerdictLabel

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



def details_text(details: Mapping[str, Any], limit: int = DETAIL_CHARS) -> str:
    text = json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def status_mark(status: str | None) -> Markup:
    """A bookmark status as a coloured mark; a word this program never writes gets no colour."""
    known = f" mark-{status}" if status in set(BookmarkStatus) else ""
    return Markup('<span class="mark{}">{}</span>').format(known, escape(status_text(status)))


def verdict_mark(verdict: Mapping[str, Any]) -> Markup:
    """A verdict label in its colour (the stylesheet's label-… classes), with its score."""
    label = verdict.get("label")
    known = f"label-{label.replace(' ', '-')}" if isinstance(label, str) and label in set(VerdictLabel) else ""
    score = verdict.get("score")
    return Markup('<span class="{}">{}</span>{}').format(
        known, escape(str(label)), Markup(" ") + escape(score_text(score)) if score is not None else "")


def forced_mark(text: Any) -> Markup:
    """Quantization facts, escaped, with the word FORCED in red."""
    return Markup(str(escape(str(text))).replace("FORCED", '<span class="bad">FORCED</span>'))


def run_overlays(run: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every overlay shown in a run section, for the one legend above its regions."""
    return [o for f in run.get("top_frames") or [] for o in f.get("overlays") or []]


def overlay_meanings(overlays: Any) -> list[str]:
    """What each overlay method shown on a region measures, once per method."""
    lines = [f"{o.get('method_name')}: {o['meaning']}" for o in overlays or [] if isinstance(o, Mapping) and o.get("meaning")]
    return list(dict.fromkeys(lines))


def map_title(kind: str) -> str:
    return MAP_TITLES.get(kind, kind)


def render_html(document: Mapping[str, Any], images: Images) -> bytes:
    document = bound(document, visible=True)

    def uri(digest: str) -> str:
        mime, data = images.data[digest]
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"

    template = _environment().get_template(TEMPLATE)
    return template.render(doc=document, uri=uri, score=score_text, details=details_text, count=count_text,
                           bookmarks=bookmark_rows(document), mark=status_mark, seconds=timestamp_text,
                           unreadable=unreadable_lines(document), anchor=anchor, verdict=verdict_mark,
                           bookmarks_text=bookmarks_text, meanings=overlay_meanings, columns=model_columns,
                           verdict_of=verdict_of, forced=forced_mark, overlays_of=run_overlays,
                           map_name=map_title).encode("utf-8")
