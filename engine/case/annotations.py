"""Notes, tags and bookmarks for CaseStore, on an evidence item or one of its frames; each
addition and removal is audited with its author, so the log keeps what a removal took away."""

from __future__ import annotations

from engine.case.records import ANNOTATION_KINDS, Annotation
from engine.case.timeutil import now_iso
from engine.errors import CaseError
from engine.vocab import AnnotationKind
from engine.case.plumbing import StorePlumbing


class AnnotationsMixin(StorePlumbing):
    def _add_annotation(self, kind: str, evidence_id: int, text: str, frame_index: int | None, author: str | None) -> int:
        if kind not in ANNOTATION_KINDS:
            raise CaseError(f"unknown annotation kind {kind!r}")
        who = author or self.actor
        with self.transaction():
            if not self._query("SELECT 1 FROM evidence WHERE id = ?", [evidence_id]):
                raise CaseError(f"no evidence item {evidence_id} in this case")
            cursor = self.db.execute(
                "INSERT INTO annotations (evidence_id, frame_index, kind, text, author, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                [evidence_id, frame_index, kind, text, who, now_iso()],
            )
            annotation_id = cursor.lastrowid
            assert annotation_id is not None
            self._audit(f"{kind} added", {"annotation_id": annotation_id, "evidence_id": evidence_id,
                                          "frame_index": frame_index, "text": text}, who)
        return annotation_id

    def add_note(self, evidence_id: int, text: str, frame_index: int | None = None, author: str | None = None) -> int:
        if not text.strip():
            raise CaseError("a note needs some text")
        return self._add_annotation(AnnotationKind.NOTE, evidence_id, text, frame_index, author)

    def add_tag(self, evidence_id: int, tag: str, frame_index: int | None = None, author: str | None = None) -> int:
        if not tag.strip():
            raise CaseError("a tag needs a name")
        return self._add_annotation(AnnotationKind.TAG, evidence_id, tag.strip(), frame_index, author)

    def add_bookmark(self, evidence_id: int, frame_index: int, label: str = "", author: str | None = None) -> int:
        return self._add_annotation(AnnotationKind.BOOKMARK, evidence_id, label, frame_index, author)

    def annotations(self, evidence_id: int | None = None, kind: str | None = None) -> list[Annotation]:
        rows = self._filtered("SELECT * FROM annotations", "evidence_id, frame_index, id",
                              evidence_id=evidence_id, kind=kind)
        return [Annotation(r["id"], r["evidence_id"], r["frame_index"], r["kind"], r["text"] or "", r["author"], r["created_at"]) for r in rows]

    def remove_annotation(self, annotation_id: int, actor: str | None = None) -> None:
        with self.transaction():
            rows = self._query("SELECT * FROM annotations WHERE id = ?", [annotation_id])
            if not rows:
                raise CaseError(f"no note, tag or bookmark {annotation_id} in this case")
            row = rows[0]
            self.db.execute("DELETE FROM annotations WHERE id = ?", [annotation_id])
            self._audit(f"{row['kind']} removed", {"annotation_id": annotation_id, "evidence_id": row["evidence_id"],
                                                   "frame_index": row["frame_index"], "text": row["text"],
                                                   "author": row["author"]}, actor)
