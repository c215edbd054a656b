"""The bookmarks of a report document as one list, for the summary every format shows, and
the words a reader sees for each status.

Bookmarks live in the document under each evidence item (`annotations.bookmark`); the HTML
and PDF summary tables and the CSV's bookmark rows are all made from `bookmark_rows`, so the
formats cannot disagree about which bookmarks a report holds.
"""

from __future__ import annotations

from typing import Any, Mapping

from engine.report.textsafe import number_text
from engine.vocab import AnnotationKind, BookmarkStatus

# As Amped Authenticate's analysts know them: ok / to be checked / warning.
STATUS_TEXT: dict[str, str] = {BookmarkStatus.OK: "ok", BookmarkStatus.CHECK: "to check",
                               BookmarkStatus.WARNING: "warning"}


def status_text(status: str | None) -> str:
    """A status for people; a word this program never writes is shown as it is stored."""
    if status is None:
        return "—"
    return STATUS_TEXT.get(status, str(status))


def timestamp_text(seconds: float | None) -> str:
    return "—" if seconds is None else f"{number_text(seconds, '.2f')} s"


def bookmark_rows(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every bookmark of the report, by evidence item (in report order), then frame, then id
    (the order the case lists them in); each with its item's name and recorded SHA-256."""
    return [{**mark, "evidence_name": evidence["name"], "evidence_sha256": evidence["sha256_recorded"]}
            for evidence in document["evidence"] for mark in evidence["annotations"].get(AnnotationKind.BOOKMARK, [])]
