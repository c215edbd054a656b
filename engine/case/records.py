"""Plain, frozen records handed out by CaseStore: what other code (pipeline, report, GUI) reads."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Callable

from engine.errors import CaseError
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


# Shapes of the JSON the program stores; a case edited from outside may hold anything, and a
# reader that indexes into it must meet a one-line CaseError, never a TypeError deep inside.
def _is_object(value: Any) -> bool:
    return isinstance(value, dict)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_box(value: Any) -> bool:
    return value is None or (isinstance(value, list) and len(value) == 4 and all(_is_number(v) for v in value))


def _is_probabilities(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and _is_number(v) for k, v in value.items())


def _is_model_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(m, dict) and isinstance(m.get("name"), str) for m in value)


SHAPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "object": (_is_object, "a JSON object"),
    "box": (_is_box, "a box of four numbers"),
    "probabilities": (_is_probabilities, "an object of label → number"),
    "models": (_is_model_list, "a list of model records, each with a name"),
}


def stored_json(table: str, row_id: Any, column: str, text: Any, shape: str, default: Any = None) -> Any:
    """The JSON value stored in one field, checked against the shape the program writes;
    NULL gives `default`. Raises CaseError naming the row and field otherwise."""
    if text is None:
        return default
    test, described = SHAPES[shape]
    try:
        value = json.loads(text) if isinstance(text, (str, bytes)) else ValueError
    except ValueError:
        value = ValueError
    if value is ValueError:
        raise CaseError(f"case file is damaged: {table} row {row_id}, field {column}: not JSON")
    if not test(value):
        found = type(value).__name__.replace("dict", "object").replace("NoneType", "null")
        raise CaseError(f"case file is damaged: {table} row {row_id}, field {column}: expected {described}, "
                        f"found {'a ' + found if value is not None else 'null'}")
    return value


def stored_number(table: str, row_id: Any, column: str, value: Any) -> Any:
    """A numeric field as stored (None allowed); CaseError naming row and field when it is not a number."""
    if value is None or _is_number(value) or (isinstance(value, float) and math.isnan(value)):
        return value
    raise CaseError(f"case file is damaged: {table} row {row_id}, field {column}: expected a number, "
                    f"found {str(value)[:40]!r}")


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
            metadata=stored_json("evidence", row["id"], "metadata", row["metadata"], "object", {}),
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
            models=stored_json("runs", row["id"], "models", row["models"], "models", []),
            settings=stored_json("runs", row["id"], "settings", row["settings"], "object", {}),
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
            score=stored_number("verdicts", row.get("id"), "score", row["score"]),
            rule=row["rule"],
            rule_params=stored_json("verdicts", row.get("id"), "rule_params", row["rule_params"], "object", {}),
            threshold=stored_number("verdicts", row.get("id"), "threshold", row["threshold"]),
            label=row["label"],
            details=stored_json("verdicts", row.get("id"), "details", row["details"], "object", {}),
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
        row_id = row["id"]
        return cls(row_id, row["run_id"], row["evidence_id"], row["model"],
                   stored_number("results", row_id, "frame_index", row["frame_index"]),
                   stored_number("results", row_id, "timestamp", row["timestamp"]),
                   stored_number("results", row_id, "track_id", row["track_id"]),
                   stored_json("results", row_id, "box", row["box"], "box"),
                   stored_json("results", row_id, "probabilities", row["probabilities"], "probabilities", {}),
                   stored_number("results", row_id, "p_manipulated", row["p_manipulated"]))

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
                   row["sha256"], row["size"], stored_json("overlays", row["id"], "meta", row["meta"], "object", {}),
                   row["created_at"])

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
