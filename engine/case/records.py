"""Plain, frozen records handed out by CaseStore: what other code (pipeline, report, GUI) reads."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

RUN_STATUSES = ("running", "completed", "cancelled", "failed", "interrupted")
ITEM_STATUSES = ("pending", "done", "failed")
ANNOTATION_KINDS = ("note", "tag", "bookmark")
ENSEMBLE = "ensemble"


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
class Annotation:
    id: int
    evidence_id: int
    frame_index: int | None
    kind: str  # note, tag, bookmark
    text: str
    author: str
    created_at: str


@dataclass(frozen=True)
class EvidenceOverview:
    """One line of `case show`: the item, its latest analysis status and latest verdicts."""

    evidence: Evidence
    status: str  # not analysed, pending, analysed, failed
    run_id: int | None
    verdicts: tuple[Verdict, ...]
