"""The window's units of engine work: small frozen jobs run one at a time on the engine thread.

Each job is built on the GUI thread from plain values (never a widget), handed to the engine
thread, and run there with a `JobContext`: the workstation, the open case, and the callables
that report progress, events and changed evidence rows back as signals. A job's `run`
returns its result, which reaches the GUI thread's success callback (Anki's CollectionOp);
an EngineError reaches the failure callback as the exception itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Sequence

from engine.api import AddedItem, AnalysisJob, Case, CaseOverview, EvidenceVerdicts, RefusedItem, RunFinished, Workstation


class JobContext:
    """What a job may use while it runs on the engine thread."""

    def __init__(self, workstation: Workstation, get_case: Callable[[], Case | None],
                 set_case: Callable[[Case | None], None], progress: Callable[[int, int, str], None],
                 is_cancelled: Callable[[], bool], emit: Callable[[object], None],
                 evidence_changed: Callable[[Sequence[int]], None]) -> None:
        self.workstation = workstation
        self._get_case, self._set_case = get_case, set_case
        self.progress, self.is_cancelled, self.emit = progress, is_cancelled, emit
        self.evidence_changed = evidence_changed

    @property
    def case(self) -> Case:
        case = self._get_case()
        if case is None:
            from engine.errors import CaseError

            raise CaseError("no case is open")
        return case

    @property
    def has_case(self) -> bool:
        return self._get_case() is not None

    def replace_case(self, case: Case | None) -> None:
        self._set_case(case)


@dataclass(frozen=True)
class Job:
    """Base: a title for the jobs dock, the unit its progress counts in, and `run`."""

    @property
    def title(self) -> str:
        return type(self).__name__

    unit: ClassVar[str] = "items"  # what progress counts: items, bytes, frames, images
    changes_case: ClassVar[bool] = False  # the window reloads the case overview after it
    opens_case: ClassVar[bool] = False  # it opens or closes a case: the reader gets a new view
    reads_only: ClassVar[bool] = False  # runs on the reader beside the case, never behind a run

    def run(self, ctx: JobContext) -> Any:
        raise NotImplementedError


# -- cases ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OpenCase(Job):
    changes_case: ClassVar[bool] = True
    opens_case: ClassVar[bool] = True
    path: str

    @property
    def title(self) -> str:
        return f"Opening {os.path.basename(self.path)}"

    def run(self, ctx: JobContext) -> CaseOverview:
        case = ctx.workstation.open_case(self.path)
        ctx.replace_case(case)
        return case.overview()


@dataclass(frozen=True)
class CreateCase(Job):
    changes_case: ClassVar[bool] = True
    opens_case: ClassVar[bool] = True
    path: str
    title_text: str
    examiner: str
    number: str | None = None
    organisation: str | None = None

    @property
    def title(self) -> str:
        return f"Creating {os.path.basename(self.path)}"

    def run(self, ctx: JobContext) -> CaseOverview:
        case = ctx.workstation.create_case(self.path, title=self.title_text, examiner=self.examiner,
                                           number=self.number or None, organisation=self.organisation or None)
        ctx.replace_case(case)
        return case.overview()


@dataclass(frozen=True)
class RepairCase(Job):
    """Write a clean copy of a case that holds foreign objects, then open the copy."""

    changes_case: ClassVar[bool] = True
    opens_case: ClassVar[bool] = True
    source: str
    out: str

    @property
    def title(self) -> str:
        return f"Writing a clean copy of {os.path.basename(self.source)}"

    def run(self, ctx: JobContext) -> CaseOverview:
        ctx.workstation.repair_case(self.source, self.out)
        case = ctx.workstation.open_case(self.out)
        ctx.replace_case(case)
        return case.overview()


@dataclass(frozen=True)
class CloseCase(Job):
    changes_case: ClassVar[bool] = True
    opens_case: ClassVar[bool] = True
    @property
    def title(self) -> str:
        return "Closing the case"

    def run(self, ctx: JobContext) -> None:
        ctx.replace_case(None)


@dataclass(frozen=True)
class Refresh(Job):
    @property
    def title(self) -> str:
        return "Reading the case"

    def run(self, ctx: JobContext) -> CaseOverview:
        return ctx.case.overview()


@dataclass(frozen=True)
class Details(Job):
    reads_only: ClassVar[bool] = True
    evidence_id: int

    @property
    def title(self) -> str:
        return f"Reading item {self.evidence_id}"

    def run(self, ctx: JobContext) -> Any:
        return ctx.case.evidence_details(self.evidence_id)


# -- long work on the case --------------------------------------------------------------------------
@dataclass(frozen=True)
class AddEvidence(Job):
    paths: tuple[str, ...]
    unit: ClassVar[str] = "bytes"
    changes_case: ClassVar[bool] = True

    @property
    def title(self) -> str:
        first = os.path.basename(self.paths[0].rstrip(os.sep)) if self.paths else ""
        return f"Adding {first}" + (f" and {len(self.paths) - 1} more" if len(self.paths) > 1 else "")

    def run(self, ctx: JobContext) -> Any:
        def heard(item: AddedItem | RefusedItem) -> None:
            ctx.emit(item)
            if isinstance(item, AddedItem) and not item.duplicate:
                ctx.evidence_changed([item.evidence.id])

        return ctx.case.add_evidence(self.paths, ctx.progress, ctx.is_cancelled, heard)


@dataclass(frozen=True)
class Analyze(Job):
    job: AnalysisJob
    unit: ClassVar[str] = "frames"
    changes_case: ClassVar[bool] = True

    @property
    def title(self) -> str:
        if self.job.resume:
            return "Resuming the last run"
        count = len(self.job.evidence_ids)
        return f"Analysing {count} item{'s' if count != 1 else ''}" if count else "Analysing every item"

    def run(self, ctx: JobContext) -> RunFinished | None:
        finished = None
        for event in ctx.case.analyze(self.job, ctx.progress, ctx.is_cancelled):
            ctx.emit(event)
            if isinstance(event, EvidenceVerdicts):
                ctx.evidence_changed([event.evidence_id])
            elif isinstance(event, RunFinished):
                finished = event
        return finished


@dataclass(frozen=True)
class Verify(Job):
    changes_case: ClassVar[bool] = True  # the verification is logged

    @property
    def title(self) -> str:
        return "Verifying the case"

    def run(self, ctx: JobContext) -> Any:
        return ctx.case.verify(ctx.progress)


@dataclass(frozen=True)
class ExportReport(Job):
    out: str
    fmt: str
    evidence_ids: tuple[int, ...] = ()
    bookmarked_only: bool = False
    runs: str | tuple[int, ...] = "latest"
    changes_case: ClassVar[bool] = True
    unit: ClassVar[str] = "steps"  # the engine's stages on one scale (verifying … writing)

    @property
    def title(self) -> str:
        return f"Exporting {os.path.basename(self.out)}"

    def run(self, ctx: JobContext) -> Any:
        # The export dialog has asked before an existing file is replaced, so the engine may replace it.
        return ctx.case.export_report(self.out, self.fmt, evidence_ids=self.evidence_ids,
                                      bookmarked_only=self.bookmarked_only, progress=ctx.progress,
                                      runs=self.runs, overwrite=True)


@dataclass(frozen=True)
class Annotate(Job):
    kind: str  # note | tag | bookmark
    evidence_id: int
    text: str
    frame_index: int | None = None
    status: str | None = None  # a bookmark's: ok | check | warning
    changes_case: ClassVar[bool] = False

    @property
    def title(self) -> str:
        return f"Adding a {self.kind} to item {self.evidence_id}"

    def run(self, ctx: JobContext) -> int:
        case = ctx.case
        if self.kind == "note":
            made = case.add_note(self.evidence_id, self.text, self.frame_index)
        elif self.kind == "tag":
            made = case.add_tag(self.evidence_id, self.text, self.frame_index)
        else:
            made = case.add_bookmark(self.evidence_id, self.frame_index or 0, self.text, self.status or "ok")
        ctx.evidence_changed([self.evidence_id])
        return made


# -- annotations and track decisions -------------------------------------------------------
@dataclass(frozen=True)
class ExcludeTrack(Job):
    """Mark a face track "not a face" (or count it again) and judge the item again."""

    run_id: int
    evidence_id: int
    track_id: int
    exclude: bool = True
    changes_case: ClassVar[bool] = False  # the item's row is refreshed on its own

    @property
    def title(self) -> str:
        what = "Excluding" if self.exclude else "Counting again"
        return f"{what} face track {self.track_id} of item {self.evidence_id}"

    def run(self, ctx: JobContext) -> Any:
        case = ctx.case
        verdicts = (case.exclude_track if self.exclude else case.include_track)(self.run_id, self.evidence_id,
                                                                                self.track_id)
        ctx.evidence_changed([self.evidence_id])
        return verdicts


@dataclass(frozen=True)
class LogAction(Job):
    """Record in the audit log something the window did outside the case (a view saved as PNG)."""

    action: str
    details: tuple[tuple[str, Any], ...]

    @property
    def title(self) -> str:
        return f"Logging: {self.action}"

    def run(self, ctx: JobContext) -> None:
        ctx.case.log(self.action, dict(self.details))


@dataclass(frozen=True)
class UpdateBookmark(Job):
    annotation_id: int
    status: str | None = None
    text: str | None = None

    @property
    def title(self) -> str:
        return f"Changing bookmark {self.annotation_id}"

    def run(self, ctx: JobContext) -> Any:
        updated = ctx.case.update_bookmark(self.annotation_id, status=self.status, text=self.text)
        ctx.evidence_changed([updated.evidence_id])
        return updated


@dataclass(frozen=True)
class LoadBookmarks(Job):
    reads_only: ClassVar[bool] = True

    @property
    def title(self) -> str:
        return "Reading the bookmarks"

    def run(self, ctx: JobContext) -> Any:
        from engine.api import AnnotationKind

        return tuple(ctx.case.annotations(kind=AnnotationKind.BOOKMARK)) if ctx.has_case else ()
