"""Notes, tags and bookmarks for CaseStore, on an evidence item or one of its frames; each
addition, change and removal is audited with its author, so the log keeps what a change
replaced and what a removal took away.

A bookmark marks one frame (0 for a still image) and carries the examiner's triage,
a `BookmarkStatus` (ok, check, warning), with a comment; notes and tags have no status.
"""

from __future__ import annotations

from typing import Any

from engine.case.records import ANNOTATION_KINDS, Annotation
from engine.case.timeutil import now_iso
from engine.errors import CaseError
from engine.vocab import AnnotationKind, BookmarkStatus
from engine.case.plumbing import StorePlumbing

_SHOWN_CHARS = 40  # of a refused value, in an error message


def bookmark_status(value: object) -> BookmarkStatus:
    """The status named by `value`, or a CaseError naming the choices."""
    try:
        return BookmarkStatus(str(value))
    except ValueError:
        choices = ", ".join(BookmarkStatus)
        raise CaseError(f"unknown bookmark status {str(value)[:_SHOWN_CHARS]!r}; choose one of {choices}") from None


def frame_problem(frame_index: object, media_kind: str | None) -> str | None:
    """Why `frame_index` cannot be a frame of an item of `media_kind`, or None when it can."""
    if isinstance(frame_index, bool) or not isinstance(frame_index, int):
        return f"a frame index is a whole number, not {str(frame_index)[:_SHOWN_CHARS]!r}"
    if frame_index < 0:
        return f"frame index {frame_index} is negative; frames count from 0"
    if frame_index != 0 and media_kind != "video":
        # Only a video has frames after the first; anything else is one picture (or none).
        return (f"frame {frame_index} does not exist: only a video has frames after 0, and this item is "
                f"{media_kind or 'not media'}")
    return None


class AnnotationsMixin(StorePlumbing):
    def _add_annotation(self, kind: str, evidence_id: int, text: str, frame_index: int | None, author: str | None,
                        status: BookmarkStatus | None = None) -> int:
        if kind not in ANNOTATION_KINDS:
            raise CaseError(f"unknown annotation kind {kind!r}")
        who = author or self.actor
        with self.transaction():
            found = self._query("SELECT media_kind FROM evidence WHERE id = ?", [evidence_id])
            if not found:
                raise CaseError(f"no evidence item {evidence_id} in this case")
            problem = None if frame_index is None else frame_problem(frame_index, found[0]["media_kind"])
            if problem:
                raise CaseError(f"cannot add the {kind} to evidence item {evidence_id}: {problem}")
            cursor = self.db.execute(
                "INSERT INTO annotations (evidence_id, frame_index, kind, text, author, created_at, status) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [evidence_id, frame_index, kind, text, who, now_iso(), status],
            )
            annotation_id = cursor.lastrowid
            assert annotation_id is not None
            details: dict[str, Any] = {"annotation_id": annotation_id, "evidence_id": evidence_id,
                                       "frame_index": frame_index, "text": text}
            if status is not None:
                details["status"] = str(status)
            self._audit(f"{kind} added", details, who)
        return annotation_id

    def add_note(self, evidence_id: int, text: str, frame_index: int | None = None, author: str | None = None) -> int:
        if not text.strip():
            raise CaseError("a note needs some text")
        return self._add_annotation(AnnotationKind.NOTE, evidence_id, text, frame_index, author)

    def add_tag(self, evidence_id: int, tag: str, frame_index: int | None = None, author: str | None = None) -> int:
        if not tag.strip():
            raise CaseError("a tag needs a name")
        return self._add_annotation(AnnotationKind.TAG, evidence_id, tag.strip(), frame_index, author)

    def add_bookmark(self, evidence_id: int, frame_index: int, text: str = "",
                     status: BookmarkStatus | str = BookmarkStatus.OK, author: str | None = None) -> int:
        if frame_index is None:
            raise CaseError("a bookmark marks a frame: give its index (0 for a still image)")
        return self._add_annotation(AnnotationKind.BOOKMARK, evidence_id, text, frame_index, author,
                                    bookmark_status(status))

    def update_bookmark(self, annotation_id: int, *, status: BookmarkStatus | str | None = None,
                        text: str | None = None, actor: str | None = None) -> Annotation:
        """Change a bookmark's status and/or comment; the audit entry keeps both the old and
        the new values. Returns the bookmark as it now is (unchanged values write nothing)."""
        if status is None and text is None:
            raise CaseError("nothing to change: give a bookmark status, a comment, or both")
        wanted: dict[str, str] = {}
        if status is not None:
            wanted["status"] = str(bookmark_status(status))
        if text is not None:
            wanted["text"] = text
        with self.transaction():
            current = self.get_annotation(annotation_id)
            if current.kind != AnnotationKind.BOOKMARK:
                raise CaseError(f"annotation {annotation_id} is a {current.kind}, not a bookmark; only bookmarks "
                                "have a status")
            before = {"status": current.status, "text": current.text}
            changed = {column: value for column, value in wanted.items() if before[column] != value}
            if not changed:
                return current
            assignments = ", ".join(f"{column} = ?" for column in changed)  # column names from this code only
            self.db.execute(f"UPDATE annotations SET {assignments} WHERE id = ?", [*changed.values(), annotation_id])
            self._audit("bookmark changed", {
                "annotation_id": annotation_id, "evidence_id": current.evidence_id,
                "frame_index": current.frame_index, "before": {column: before[column] for column in changed},
                "after": changed}, actor)
            return self.get_annotation(annotation_id)

    def get_annotation(self, annotation_id: int) -> Annotation:
        rows = self._query("SELECT * FROM annotations WHERE id = ?", [annotation_id])
        if not rows:
            raise CaseError(f"no note, tag or bookmark {annotation_id} in this case")
        return Annotation.from_row(rows[0])

    def annotations(self, evidence_id: int | None = None, kind: str | None = None) -> list[Annotation]:
        rows = self._filtered("SELECT * FROM annotations", "evidence_id, frame_index, id",
                              evidence_id=evidence_id, kind=kind)
        return [Annotation.from_row(r) for r in rows]

    def remove_annotation(self, annotation_id: int, actor: str | None = None) -> None:
        with self.transaction():
            removed = self.get_annotation(annotation_id)
            self.db.execute("DELETE FROM annotations WHERE id = ?", [annotation_id])
            details: dict[str, Any] = {"annotation_id": annotation_id, "evidence_id": removed.evidence_id,
                                       "frame_index": removed.frame_index, "text": removed.text,
                                       "author": removed.author}
            if removed.status is not None:
                details["status"] = removed.status
            self._audit(f"{removed.kind} removed", details, actor)
