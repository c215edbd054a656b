"""Reading the reports' PDFs back with pypdf, in place of poppler's command-line tools.

`pdf_text` stands for `pdftotext -raw` (the text in drawing order, so a table cell's lines stay
together) and `pdf_images` for `pdfimages -list` (each image drawn on each page), so the tests
run on a machine without poppler-utils.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ContentStream, DictionaryObject


def pdf_text(path: str | Path, first: int | None = None, last: int | None = None) -> str:
    """The text of pages `first`..`last` (1-based, both included; all pages by default) in the
    order it is drawn, one page after another, each ending with a line break."""
    pages = PdfReader(str(path)).pages
    start = (first or 1) - 1
    stop = last if last else len(pages)
    # "plain" extraction follows the content stream, as -raw does ("layout" would reorder by position).
    return "".join(pages[i].extract_text(extraction_mode="plain") + "\n" for i in range(start, stop))


def _size(settings: Any) -> tuple[int, int]:
    width = settings.get("/Width", settings.get("/W"))
    height = settings.get("/Height", settings.get("/H"))
    return int(width), int(height)


def _drawn(content: ContentStream, resources: Any, page: int, found: list[dict], depth: int = 0) -> None:
    """Every image drawn by `content`: image XObjects named by `Do`, those drawn by the form
    XObjects it draws (with their own resources), and inline images (BI … ID … EI)."""
    xobjects = resources.get("/XObject") if resources is not None else None
    xobjects = xobjects.get_object() if xobjects is not None else DictionaryObject()
    for operands, operator in content.operations:
        if operator == b"INLINE IMAGE":
            width, height = _size(operands["settings"])
            found.append({"page": page, "name": None, "inline": True, "width": width, "height": height})
        elif operator == b"Do" and operands:
            name = operands[0]
            if name not in xobjects:
                continue
            xobject = xobjects[name].get_object()
            subtype = xobject.get("/Subtype")
            if subtype == "/Image":
                width, height = _size(xobject)
                found.append({"page": page, "name": str(name), "inline": False, "width": width, "height": height})
            elif subtype == "/Form" and depth < 16:
                inner = xobject.get("/Resources")
                inner = inner.get_object() if inner is not None else resources
                _drawn(ContentStream(xobject, xobject.indirect_reference.pdf if xobject.indirect_reference else None),
                       inner, page, found, depth + 1)


def pdf_images(path: str | Path) -> list[dict]:
    """Each image drawn on each page, in drawing order, as `pdfimages -list` lists them:
    {"page": 1-based page number, "name": its XObject name (None when inline), "inline": bool,
    "width": pixels, "height": pixels}. An image drawn on several pages is listed for each."""
    reader = PdfReader(str(path))
    found: list[dict] = []
    for number, page in enumerate(reader.pages, start=1):
        content = page.get_contents()
        if content is not None:
            resources = page.get("/Resources")
            _drawn(content, resources.get_object() if resources is not None else None, number, found)
    return found
