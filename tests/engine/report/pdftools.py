"""Reading the reports' PDFs back in tests with pypdf, so no test needs poppler's tools."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pypdf import PdfReader


def pdf_text(path: str | Path, first: int | None = None, last: int | None = None) -> str:
    """The text of pages `first`..`last` (1-based, inclusive; default all), page after page."""
    reader = PdfReader(str(path))
    pages = reader.pages[(first or 1) - 1:last or len(reader.pages)]
    return "\n".join(page.extract_text() or "" for page in pages)


def pdf_images(path: str | Path) -> list[dict[str, Any]]:
    """Every image drawn on every page: {"page" (1-based), "width", "height"} in pixels."""
    found = []
    for number, page in enumerate(PdfReader(str(path)).pages, start=1):
        for image in page.images:
            width, height = image.image.size if image.image is not None else (0, 0)
            found.append({"page": number, "width": width, "height": height})
    return found
