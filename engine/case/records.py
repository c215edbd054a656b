"""Plain, frozen records handed out by CaseStore: what other code (pipeline, report, GUI) reads."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from engine.vocab import ENSEMBLE, AnnotationKind, RunStatus

RUN_STATUSES = tuple(RunStatus)
ANNOTATION_KINDS = tuple(AnnotationKind)
__all__ = ["ENSEMBLE", "RUN_STATUSES", "ANNOTATION_KINDS", "CaseInfo", "Evidence", "Run", "Verdict", "ItemError",
           "Annotation", "EvidenceOverview", "FrameResult", "OverlayRecord", "loads"]


def loads(text: str | None, default: Any = None) -> Any:
    if text is None:
        return default
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True)
class CaseInfo:
    uid: str
    title: str
    number: str | None
    examiner: str
    organisation: str | None
    created_at: str
    updated_at: str
    app_version: str
    schema_version: int
    audit_count: int
    audit_head: str | None


@dataclass(frozen=True)
class Evidence:
    id: int
    path_given: str
    path_resolved: str
    size: int
    mtime: str | None
    mtime_ns: int | None
    sha256: str
    media_kind: str | None
    media_format: str | None
    media_description: str | None
    metadata: dict = field(default_factory=dict)
    added_by: str = ""
    added_at: str = ""
    duplicate: bool = False  # set only by add_evidence: the file was already in the case

    @classmethod
    def from_row(cls, row: dict) -> "Evidence":
        return cls(
            id=row["id"],
            path_given=row["path_given"],
            path_resolved=row["path_resolved"],
            size=row["size"],
            mtime=row["mtime"],
            mtime_ns=row["mtime_ns"],
            sha256=row["sha256"],
            media_kind=row["media_kind"],
            media_format=row["media_format"],
            media_description=row["media_description"],
            metadata=loads(row["metadata"], {}) or {},
            added_by=row["added_by"],
            added_at=row["added_at"],
        )


@dataclass(frozen=True)
class Run:
    id: int
    models: list
    settings: dict
    provider: str | None
    app_version: str | None
    started_by: str | None
    started_at: str
    finished_at: str | None
    status: str
    items_total: int = 0
    items_done: int = 0
    items_failed: int = 0

    @classmethod
    def from_row(cls, row: dict) -> "Run":
        return cls(
            id=row["id"],
            models=loads(row["models"], []),
            settings=loads(row["settings"], {}),
            provider=row["provider"],
            app_version=row["app_version"],
            started_by=row["started_by"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            status=row["status"],
            items_total=row.get("items_total") or 0,
            items_done=row.get("items_done") or 0,
            items_failed=row.get("items_failed") or 0,
        )


@dataclass(frozen=True)
class Verdict:
    run_id: int
    evidence_id: int
    model: str  # a model name, or "ensemble"
    score: float | None
    rule: str | None
    rule_params: dict
    threshold: float | None
    label: str
    details: dict
    created_at: str

    @classmethod
    def from_row(cls, row: dict) -> "Verdict":
        return cls(
            run_id=row["run_id"],
            evidence_id=row["evidence_id"],
            model=row["model"],
            score=row["score"],
            rule=row["rule"],
            rule_params=loads(row["rule_params"], {}) or {},
            threshold=row["threshold"],
            label=row["label"],
            details=loads(row["details"], {}) or {},
            created_at=row["created_at"],
        )


@dataclass(frozen=True)
class ItemError:
    run_id: int
    evidence_id: int | None
    model: str | None
    stage: str
    message: str
    created_at: str


@dataclass(frozen=True)
class FrameResult:
    """One model's score of one region (a whole frame or a face crop) of one sampled frame."""

    id: int
    run_id: int
    evidence_id: int
    model: str
    frame_index: int | None
    timestamp: float | None  # seconds into the clip; None for a still image
    track_id: int | None  # face track; None for the whole frame
    box: list[float] | None  # x, y, w, h in frame pixels
    probabilities: dict[str, float]
    p_manipulated: float | None  # None for a model that does not judge authenticity

    @classmethod
    def from_row(cls, row: dict) -> "FrameResult":
        return cls(row["id"], row["run_id"], row["evidence_id"], row["model"], row["frame_index"], row["timestamp"],
                   row["track_id"], loads(row["box"]), loads(row["probabilities"], {}) or {}, row["p_manipulated"])

    @property
    def region(self) -> tuple[int | None, int | None]:
        """(frame index, track id): what the ensemble combines the models' scores over."""
        return (self.frame_index, self.track_id)


@dataclass(frozen=True)
class OverlayRecord:
    """A stored explanation overlay, without its payload (CaseStore.get_overlay reads that)."""

    id: int
    run_id: int
    evidence_id: int
    model: str
    frame_index: int | None
    method: str
    sha256: str
    size: int
    meta: dict
    created_at: str

    @classmethod
    def from_row(cls, row: dict) -> "OverlayRecord":
        return cls(row["id"], row["run_id"], row["evidence_id"], row["model"], row["frame_index"], row["method"],
                   row["sha256"], row["size"], loads(row["meta"], {}) or {}, row["created_at"])

    @property
    def box(self) -> list[float] | None:
        return self.meta.get("box")


@dataclass(frozen=True)
class Annotation:
    """A note, tag or bookmark on an evidence item, or on one of its frames."""

    id: int
    evidence_id: int
    frame_index: int | None
    kind: str  # note, tag, bookmark
    text: str  # the note, the tag's name, or the bookmark's comment
    author: str
    created_at: str
    status: str | None = None  # a bookmark's triage (ok, check, warning); None for notes and tags

    @classmethod
    def from_row(cls, row: dict) -> "Annotation":
        return cls(row["id"], row["evidence_id"], row["frame_index"], row["kind"], row["text"] or "", row["author"],
                   row["created_at"], row.get("status"))


@dataclass(frozen=True)
class EvidenceOverview:
    """One line of `case show`: the item, its latest analysis status and latest verdicts."""

    evidence: Evidence
    status: str  # not analysed, pending, analysed, failed
    run_id: int | None
    verdicts: tuple[Verdict, ...]
