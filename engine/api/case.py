"""`Case`: one open case file and everything done with it, on its own store.

A `Case` owns one open `CaseStore` (the writer connection and lock, or a read-only view)
and is used from one thread: in the window, the engine thread. Long operations (adding
evidence, analysing, verifying, exporting a report) run on that same store and leave it
open, so a window can keep a case open all day and still run, annotate and export in it.
Everything returned is a frozen record; nothing here knows about a window or a terminal.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

import numpy as np

from engine.analysis.ensemble import authenticity_models
from engine.analysis.events import RunEvent
from engine.analysis.job import AnalysisJob
from engine.analysis.pipeline import run_analysis
from engine.analysis.agreement import ModelAgreement, model_agreement
from engine.analysis.judgement import recompute_verdicts
from engine.analysis.timeline import FrameRegion, Timeline, build_timeline, frame_regions
from engine.analysis.verdicts import VerdictRecord
from engine.api.records import CaseOverview, EvidenceDetails, EvidenceSummary, RunOfItem, RunSummary, VerificationRecord
from engine.case.intake import AddedItem, AddReport, RefusedItem, add_paths
from engine.case.keptmaps import KeptMap
from engine.case.lock import writer_active
from engine.case.records import Annotation, CaseInfo, Evidence, FrameResult, ItemError, OverlayRecord, Run, Verdict
from engine.case.store import CaseStore
from engine.case.verify import VerifyReport, verify_case
from engine.errors import CaseError, CaseNotWritable
from engine.explain.overlay import Overlay
from engine.forensics.maps import ForensicMap
from engine.forensics.provenance import inspect_file
from engine.forensics.records import ProvenanceReport
from engine.forensics.service import map_of_evidence
from engine.forensics.tools import map_tool_version
from engine.media.reader import EvidenceReader
from engine.models.calibration import CalibrationSet, calibration_from_evidence
from engine.report.export import ReportResult, export_report
from engine.report.runsel import LATEST, RunChoice
from engine.util.progress import IsCancelled, Progress
from engine.vocab import AnnotationKind, BookmarkStatus, EvidenceStatus, RunStatus

if TYPE_CHECKING:
    from engine.api.workstation import Workstation


class Case:
    """An open case. Get one from `Workstation.create_case` or `Workstation.open_case`."""

    def __init__(self, store: CaseStore, workstation: "Workstation", *, readonly_reason: str | None = None,
                 holder: str | None = None, refusal: str | None = None) -> None:
        self._store = store
        self._workstation = workstation
        self._reader = EvidenceReader()
        self.readonly_reason = readonly_reason if store.readonly else None
        self.holder = holder
        self._refusal = refusal

    # -- the case itself -------------------------------------------------------------------
    @property
    def path(self) -> str:
        return self._store.path

    @property
    def readonly(self) -> bool:
        return self._store.readonly

    @property
    def closed(self) -> bool:
        return self._store.closed

    @property
    def interrupted_runs(self) -> tuple[int, ...]:
        """Runs found still "running" when the case was opened, now marked interrupted."""
        return tuple(self._store.interrupted_runs)

    def require_writable(self) -> None:
        """Raise CaseNotWritable (with who holds the case, when known) on a read-only case."""
        if self.readonly:
            reason = self.readonly_reason or "opened read-only"
            raise CaseNotWritable(self._refusal or f"case {self.path} is open read-only ({reason})", reason)

    def info(self) -> CaseInfo:
        return self._store.info()

    def reader(self) -> "Case":
        """A second, read-only view of this case for another thread (a window's viewer and
        details while a run writes): no lock, and no second integrity check, since this open
        already made one. It sees each write once it is committed."""
        store = CaseStore.open(self.path, readonly=True, actor=self._store.actor, check="none")
        return Case(store, self._workstation, readonly_reason="a reader beside the open case")

    def close(self) -> None:
        self._reader.close()
        self._store.close()

    def __enter__(self) -> "Case":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what the case holds -----------------------------------------------------------------
    def _run_status(self, run: Run, writer_dead: bool | None) -> RunStatus:
        status = RunStatus.read(run.status)
        # Read-only opening marks nothing; a run still "running" with no live writer was interrupted.
        if status == RunStatus.RUNNING and self.readonly and writer_dead:
            return RunStatus.INTERRUPTED
        return status

    def runs(self) -> tuple[RunSummary, ...]:
        writer_dead = (writer_active(self.path) is False) if self.readonly else None
        return tuple(RunSummary(run, self._run_status(run, writer_dead)) for run in self._store.list_runs())

    def run(self, run_id: int) -> Run:
        return self._store.get_run(run_id)

    def verdicts(self, run_id: int, evidence_id: int | None = None) -> tuple[Verdict, ...]:
        """The verdicts one run stored (per model and for the ensemble), of one item or all."""
        self._store.get_run(run_id)  # a clear error for a run the case does not have
        return tuple(self._store.verdicts(run_id, evidence_id))

    def evidence(self, evidence_id: int) -> Evidence:
        return self._store.get_evidence(evidence_id)

    def evidence_summaries(self, evidence_ids: Iterable[int] | None = None,
                           runs: Sequence[RunSummary] | None = None) -> tuple[EvidenceSummary, ...]:
        """Table rows: every item (or those given) with status, latest verdicts, tags, errors."""
        ids = None if evidence_ids is None else list(dict.fromkeys(evidence_ids))
        runs = self.runs() if runs is None else runs
        interrupted = {r.id for r in runs if r.status == RunStatus.INTERRUPTED}
        rows = self._store.evidence_overview(ids)
        wanted = {row.evidence.id for row in rows}
        tags: dict[int, list[str]] = {}
        for tag in self._store.annotations(kind=AnnotationKind.TAG):
            if tag.evidence_id in wanted:
                tags.setdefault(tag.evidence_id, []).append(tag.text)
        errors: dict[tuple[int, int | None], list[ItemError]] = {}
        for error in self._store.item_errors():
            if error.evidence_id in wanted:
                errors.setdefault((error.run_id, error.evidence_id), []).append(error)
        out = []
        for row in rows:
            status = EvidenceStatus(row.status)
            if status == EvidenceStatus.PENDING and row.run_id in interrupted:
                status = EvidenceStatus.INTERRUPTED
            out.append(EvidenceSummary(row.evidence, status, row.run_id, row.verdicts,
                                       tuple(dict.fromkeys(tags.get(row.evidence.id, ()))),
                                       tuple(errors.get((row.run_id, row.evidence.id), ())) if row.run_id else ()))
        return tuple(out)

    def last_verification(self) -> VerificationRecord | None:
        entry = self._store.last_audit_entry("verification done")
        if entry is None:
            return None
        details = entry.details

        def count(key: str) -> int:
            value = details.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else 0

        problems = details.get("evidence_problems")
        return VerificationRecord(entry.time, entry.actor, details.get("ok") is True,
                                  tuple(p for p in problems if isinstance(p, int)) if isinstance(problems, list) else (),
                                  count("audit_problems"), count("record_problems"))

    def overview(self) -> CaseOverview:
        runs = self.runs()
        return CaseOverview(self.path, self.info(), self.readonly, self.readonly_reason, self.holder,
                            self.evidence_summaries(runs=runs), runs, self.last_verification(),
                            tuple(self._store.foreign))

    def evidence_details(self, evidence_id: int) -> EvidenceDetails:
        """One item with every run that planned it (newest first), its verdicts and errors, and its notes."""
        runs = self.runs()
        found = self.evidence_summaries([evidence_id], runs)
        if not found:
            raise CaseError(f"no evidence item {evidence_id} in this case")
        planned = set(self._store.runs_of_evidence(evidence_id))
        verdicts = self._store.verdicts(evidence_id=evidence_id)
        errors = [e for e in self._store.item_errors() if e.evidence_id == evidence_id]
        of_item = tuple(RunOfItem(run, tuple(v for v in verdicts if v.run_id == run.id),
                                  tuple(e for e in errors if e.run_id == run.id))
                        for run in reversed(runs) if run.id in planned)
        return EvidenceDetails(found[0], of_item, tuple(self._store.annotations(evidence_id)))

    # -- long operations on the case's own store ---------------------------------------------
    def add_evidence(self, paths: Iterable[str | os.PathLike[str]], progress: Progress | None = None,
                     is_cancelled: IsCancelled | None = None,
                     on_item: Callable[[AddedItem | RefusedItem], None] | None = None) -> AddReport:
        """Hash and record files and folders (walked); evidence files are only ever read."""
        self.require_writable()
        return add_paths(self._store, paths, progress, is_cancelled, on_item)

    def analyze(self, job: AnalysisJob, progress: Progress | None = None,
                is_cancelled: IsCancelled | None = None) -> Iterator[RunEvent]:
        """Run `job`; a generator of typed events (RunStarted first, RunFinished last)."""
        self.require_writable()
        return run_analysis(self._store, job, self._workstation.home, progress, is_cancelled)

    def verify(self, progress: Progress | None = None) -> VerifyReport:
        """Re-hash the evidence, check the audit chain and the records; recorded in the audit
        log when the case is open for writing (a note says so when it is not)."""
        report = verify_case(self._store, progress=progress, record=True)
        if self.readonly:
            note = (f"the case cannot be written now ({self.readonly_reason or 'opened read-only'}), so this "
                    "verification is not recorded in its audit log")
            report = dataclasses.replace(report, notes=tuple(report.notes) + (note,))
        return report

    def export_report(self, out: str | os.PathLike[str], fmt: str, *, evidence_ids: Sequence[int] = (),
                      bookmarked_only: bool = False, top_k: int = 3,
                      progress: Progress | None = None, runs: RunChoice | Sequence[int] = LATEST,
                      overwrite: bool = False) -> ReportResult:
        """Verify, render, write with a SHA-256 sidecar and log the export, then put both in place.
        `runs`: "latest" (each item's latest run, the default), "all", or run ids. An existing
        file is replaced only with `overwrite`."""
        self.require_writable()
        return export_report(self._store, out, fmt, evidence_ids, bookmarked_only, top_k, progress, runs, overwrite)

    def calibration(self, *, frames_per_video: int = 8, max_images: int = 256) -> CalibrationSet:
        """The case's own evidence as calibration images for a validated INT8 variant."""
        return calibration_from_evidence(self._store.list_evidence(), f"evidence of case {Path(self.path).name}",
                                         frames_per_video=frames_per_video, max_images=max_images)

    # -- results, for the viewer and the timeline ----------------------------------------------
    def results(self, run_id: int, evidence_id: int | None = None, model: str | None = None) -> Iterator[FrameResult]:
        return self._store.iter_results(run_id, evidence_id, model)

    def timeline(self, run_id: int, evidence_id: int) -> Timeline:
        run = self._store.get_run(run_id)
        rows = list(self._store.iter_results(run_id, evidence_id))
        failures = [e for e in self._store.item_errors(run_id) if e.evidence_id == evidence_id]
        return build_timeline(run_id, evidence_id, rows, run.models, run.settings, failures,
                              self._store.excluded_tracks(run_id, evidence_id))

    def model_agreement(self, run_id: int, evidence_id: int) -> ModelAgreement:
        """Frames each model puts over the threshold and how their frame scores correlate."""
        return model_agreement(self.timeline(run_id, evidence_id))

    def exclude_track(self, run_id: int, evidence_id: int, track_id: int,
                      reason: str = "not a face") -> tuple[VerdictRecord, ...]:
        """Keep a face track out of this item's verdicts in this run (audited) and judge it again."""
        self.require_writable()
        self._store.exclude_track(run_id, evidence_id, track_id, reason)
        return tuple(recompute_verdicts(self._store, run_id, evidence_id))

    def include_track(self, run_id: int, evidence_id: int, track_id: int) -> tuple[VerdictRecord, ...]:
        """Withdraw an exclusion (audited) and judge the item again."""
        self.require_writable()
        self._store.include_track(run_id, evidence_id, track_id)
        return tuple(recompute_verdicts(self._store, run_id, evidence_id))

    def regions(self, run_id: int, evidence_id: int, frame_index: int) -> list[FrameRegion]:
        """Every region of one sampled frame (whole frame first, then faces by track) with each
        model's scores and the ensemble's."""
        run = self._store.get_run(run_id)
        rows = [r for r in self._store.iter_results(run_id, evidence_id) if r.frame_index == frame_index]
        weights = ((run.settings or {}).get("verdict") or {}).get("weights") or {}
        return frame_regions(rows, authenticity_models(run.models), weights)

    def overlays(self, run_id: int, evidence_id: int, *, frame_index: int | None = None,
                 model: str | None = None) -> list[OverlayRecord]:
        return self._store.overlays(run_id, evidence_id, model=model, frame_index=frame_index)

    def overlay_image(self, overlay_id: int) -> Overlay:
        """The stored overlay (checked against its SHA-256), ready to `blend` onto its frame."""
        return Overlay.from_npz_bytes(self._store.get_overlay(overlay_id))

    def frame(self, evidence_id: int, frame_index: int) -> np.ndarray:
        """Frame `frame_index` of an item (0 for an image) as uint8 RGB, rotation applied: the
        exact frame the scores refer to, after checking the file still has its recorded hash."""
        return self._reader.frame(self._store.get_evidence(evidence_id), frame_index)

    # -- notes, tags, bookmarks (each audited) -------------------------------------------------
    def annotations(self, evidence_id: int | None = None, kind: AnnotationKind | None = None) -> list[Annotation]:
        return self._store.annotations(evidence_id, kind)

    def add_note(self, evidence_id: int, text: str, frame_index: int | None = None) -> int:
        self.require_writable()
        return self._store.add_note(evidence_id, text, frame_index)

    def add_tag(self, evidence_id: int, tag: str, frame_index: int | None = None) -> int:
        self.require_writable()
        return self._store.add_tag(evidence_id, tag, frame_index)

    def add_bookmark(self, evidence_id: int, frame_index: int, text: str = "",
                     status: BookmarkStatus | str = BookmarkStatus.OK) -> int:
        """Bookmark frame `frame_index` (0 for a still image) with a status and a comment."""
        self.require_writable()
        return self._store.add_bookmark(evidence_id, frame_index, text, status)

    def update_bookmark(self, annotation_id: int, *, status: BookmarkStatus | str | None = None,
                        text: str | None = None) -> Annotation:
        """Change a bookmark's status and/or comment (the audit log keeps the old values)."""
        self.require_writable()
        return self._store.update_bookmark(annotation_id, status=status, text=text)

    def annotation(self, annotation_id: int) -> Annotation:
        return self._store.get_annotation(annotation_id)

    def remove_annotation(self, annotation_id: int) -> None:
        self.require_writable()
        self._store.remove_annotation(annotation_id)

    def log(self, action: str, details: dict[str, object]) -> None:
        """Record something done outside the case (a view saved as PNG) in its audit log."""
        self.require_writable()
        self._store.log(action, details)

    # -- forensics without weights: provenance findings and maps (never part of a verdict) ------
    def provenance(self, evidence_id: int) -> ProvenanceReport:
        """Provenance findings of an item, judged on bytes that still have its recorded SHA-256
        (a changed file is a MediaError). Computed on demand; nothing is stored in the case."""
        evidence = self._store.get_evidence(evidence_id)
        return inspect_file(evidence.path_resolved, expected_sha256=evidence.sha256)

    def keep_map(self, evidence_id: int, frame_index: int, kind: str, note: str = "",
                 **params: int | float | str) -> KeptMap:
        """Keep the map the viewer shows (made again, or from the cache) in the case: its PNG and
        everything that made it, audited. Maps stand beside verdicts and never change them."""
        self.require_writable()
        made = self.forensic_map(evidence_id, frame_index, kind, **params)
        figures: dict[str, object] = dict(made.figures)
        if made.peaks:
            figures["peaks"] = [{"fx": p.fx, "fy": p.fy, "ratio": p.ratio, "note": p.note} for p in made.peaks]
        height, width = made.values.shape[:2]
        return self._store.keep_map(evidence_id, frame_index, kind=made.kind, params=made.params, figures=figures,
                                    legend=made.legend, statement=made.statement, tool_version=map_tool_version(),
                                    png=made.png_bytes(), width=width, height=height, note=note)

    def kept_maps(self, evidence_id: int | None = None,
                  unreadable: Callable[[object, str], None] | None = None) -> list[KeptMap]:
        """The kept maps (of one item); with `unreadable`, a damaged row is handed to it
        (row id, why) and left out instead of raising CaseError."""
        return self._store.kept_maps(evidence_id, unreadable)

    def kept_map_png(self, map_id: int) -> bytes:
        """The kept map's PNG, checked against its recorded SHA-256."""
        return self._store.kept_map_png(map_id)

    def remove_kept_map(self, map_id: int) -> None:
        self.require_writable()
        self._store.remove_kept_map(map_id)

    def forensic_map(self, evidence_id: int, frame_index: int, kind: str,
                     **params: int | float | str) -> ForensicMap:
        """A forensic map of frame `frame_index` (0 for an image) as the viewer shows it: values,
        RGB, legend and statement. The file is checked against its hash first; maps are cached
        in process by (SHA-256, frame, kind, parameters)."""
        evidence = self._store.get_evidence(evidence_id)
        self._reader.check(evidence)
        return map_of_evidence(lambda: self._reader.frame(evidence, frame_index), evidence.sha256, frame_index,
                               kind, **params)
