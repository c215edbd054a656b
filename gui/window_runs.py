"""Runs, verification and reports: analyze, resume, cancel, verify, export.

A run reports through the messages dock (provider notes, per-item failures, how it ended)
and updates table rows as each item finishes; verification leaves a red banner while the
case's last verification failed; an export ends with the report's SHA-256 and its outcome.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.api import AnalysisJob, ItemFailed, ReportResult, RunFinished, RunStarted, RunStatus, VerifyReport
from gui.dialogs.analyze import AnalyzeDialog
from gui.dialogs.export import ExportDialog, ExportDoneDialog
from gui.dialogs.verify import VerifyResultDialog
from gui.jobs import Analyze, ExportReport, Verify

if TYPE_CHECKING:
    from gui.main_window import MainWindow

    Base = MainWindow
else:
    Base = object


class RunActions(Base):
    def analyze_selected(self) -> None:
        ids = tuple(self.selected_ids())
        if ids:
            self._analyze(ids, f"Analyse the {len(ids)} selected item{'s' if len(ids) != 1 else ''}")

    def analyze_all(self) -> None:
        count = len(self.overview.evidence) if self.overview else 0
        self._analyze((), f"Analyse all {count} item{'s' if count != 1 else ''} of the case")

    def _analyze(self, ids: tuple[int, ...], what: str) -> None:
        if self.overview is None or self.overview.readonly:
            return
        models = self.offered_models()
        if not models:
            if self.confirm("No models", "No detector model is imported yet. Import one now?"):
                self.import_model_folder()
            return
        preferences = self.settings.preferences()
        choices = self.settings.run_choices()
        dialog = AnalyzeDialog(self, models, self.workstation.providers(choices.provider), choices, what, ids,
                               self.overview.resumable_run, preferences.face_detector, self.allow_test_fixtures,
                               tuple(detector.name for detector in self.workstation.list_face_detectors()))
        if not self.run_dialog(dialog):
            return
        if dialog.resume_requested:
            self.resume_run()
            return
        request = dialog.request()
        self.settings.set_run_choices(request.choices)
        self.start_analysis(request.job)

    def start_analysis(self, job: AnalysisJob) -> None:
        self.engine.submit(Analyze(job), on_done=self._run_done, on_event=self._run_heard)

    def resume_run(self) -> None:
        if self.overview is None or self.overview.resumable_run is None:
            return
        provider = self.settings.run_choices().provider
        # The run's models and settings come from the case; the YuNet file and the permission
        # to run test fixtures are this window's own (the engine checks the file's SHA-256).
        self.start_analysis(AnalysisJob(resume=True, provider=provider, allow_test_fixtures=self.allow_test_fixtures,
                                        yunet_path=self.settings.preferences().face_detector or None))

    def _run_heard(self, event: object) -> None:
        if isinstance(event, RunStarted):
            what = "resumed" if event.resumed else "started"
            self.message(f"run {event.run_id} {what}: {len(event.models)} model(s) on {event.provider}, "
                         f"{event.items} item(s), {event.frames_total} frame(s)")
            for note in event.notes:
                self.message(note, "warning" if "could not start" in note else "info")
        elif isinstance(event, ItemFailed):
            model = f" ({event.model})" if event.model else ""
            self.message(f"{event.stage} failed{model}: {event.message}", "error", event.evidence_id)

    def _run_done(self, finished: RunFinished | None) -> None:
        if finished is None:
            return
        level = "info" if finished.status == RunStatus.COMPLETED and not finished.items_failed else "warning"
        extra = " (resumable: Evidence → Resume the last run)" if finished.status != RunStatus.COMPLETED else ""
        self.message(f"run {finished.run_id} {finished.status}: {finished.items_done} item(s) done, "
                     f"{finished.items_failed} failed{extra}", level)

    def cancel_job(self) -> None:
        current = self.engine.current
        if current is not None:
            current.cancel()
            self.jobs.mark_cancelling()
            self.message(f"cancelling: {current.job.title}", "warning")

    # -- verification and reports ---------------------------------------------------------------
    def verify_case(self) -> None:
        if self.overview is not None:
            self.engine.submit(Verify(), on_done=self._verified)

    def _verified(self, report: VerifyReport) -> None:
        if report.ok:
            self.message(f"verified: {len(report.evidence)} evidence file(s) match, audit log intact")
        else:
            for problem in report.problems:
                self.message(problem, "error")
        self._last_verify = report
        self.show_dialog(VerifyResultDialog(self, report))

    def show_last_verification(self) -> None:
        report = getattr(self, "_last_verify", None)
        if report is not None:
            self.show_dialog(VerifyResultDialog(self, report))
        else:
            self.verify_case()

    def export_report(self) -> None:
        if self.overview is None or self.overview.readonly:
            return
        dialog = ExportDialog(self, self.overview.path, tuple(self.selected_ids()),
                              tuple(r.id for r in self.overview.runs))
        if not self.run_dialog(dialog):
            return
        request = dialog.request()
        self.engine.submit(ExportReport(request.out, request.fmt, request.evidence_ids, request.bookmarked_only,
                                        request.runs), on_done=self._exported)

    def _exported(self, result: ReportResult) -> None:
        self.message(f"report {result.path} written, SHA-256 {result.sha256}", "info" if result.ok else "warning")
        self.show_dialog(ExportDoneDialog(self, result))
