"""The engine's words, in one place: verdict labels, run and item statuses, region kinds,
failure stages, face modes, annotation kinds and overlay methods.

Each is a `StrEnum`, so a member is also the plain string the case file, the reports and
the JSON output have always held ("likely manipulated", "interrupted", ...): stored values
do not change, and code compares against a name instead of repeating a literal.
"""

from __future__ import annotations

from enum import StrEnum

ENSEMBLE = "ensemble"  # the verdict row that combines the authenticity models of a run


class VerdictLabel(StrEnum):
    LIKELY_MANIPULATED = "likely manipulated"
    INCONCLUSIVE = "inconclusive"
    NO_INDICATION = "no indication"
    NOT_APPLICABLE = "not applicable"  # no score: a model that judges something else, or nothing scored


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # found "running" with no live writer: the program died

    @property
    def resumable(self) -> bool:
        return self in (RunStatus.CANCELLED, RunStatus.FAILED, RunStatus.INTERRUPTED)

    @classmethod
    def read(cls, value: str | None) -> "RunStatus":
        """A stored status; one this program never writes (a case edited from outside) reads as
        failed, which `verify` reports, rather than stopping the case from opening."""
        try:
            return cls(str(value))
        except ValueError:
            return cls.FAILED


class ItemStatus(StrEnum):
    """One evidence item × one model within a run."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class EvidenceStatus(StrEnum):
    """An evidence item as the latest run that touched it left it."""

    NOT_ANALYSED = "not analysed"
    PENDING = "pending"
    INTERRUPTED = "interrupted"
    ANALYSED = "analysed"
    PARTLY_FAILED = "partly failed"
    FAILED = "failed"


class RegionKind(StrEnum):
    FRAME = "frame"  # the whole frame (or the whole image)
    FACE = "face"  # a face crop, with a track id


class FailureStage(StrEnum):
    DECODE = "decode"  # reading, hash check, decoding, face detection, preprocessing
    INFERENCE = "inference"


class FaceMode(StrEnum):
    """What a run analyses per frame."""

    AUTO = "auto"  # face crops where found, and the whole frame as well
    ONLY = "only"  # face crops only; frames without a face yield nothing to score
    OFF = "off"  # the whole frame only; no detection


class AnnotationKind(StrEnum):
    NOTE = "note"
    TAG = "tag"
    BOOKMARK = "bookmark"


class BookmarkStatus(StrEnum):
    """An examiner's triage of a bookmark, as Amped Authenticate's green / yellow / red."""

    OK = "ok"
    CHECK = "check"
    WARNING = "warning"


class OverlayMethod(StrEnum):
    ROLLOUT = "attention-rollout"
    OCCLUSION = "occlusion"


class Judges(StrEnum):
    """What a model's output is about."""

    AUTHENTICITY = "authenticity"  # feeds verdicts
    OTHER = "other"  # e.g. a deepfake-quality grader: scored and shown, never in a verdict
