"""The workstation window: docks around the selected item, one engine thread behind them.

Left: the case panel (case header and the evidence table). Centre: a welcome page, or the
selected item. Right: its details. Bottom: jobs and messages. Docks move and float and their
layout is restored at the next start (View → Restore default layout puts them back). The
window holds no engine logic: every action builds a frozen job for the engine thread
(gui/jobs.py) and shows what comes back; the actions themselves live in the mixins below,
one module per menu.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QSettings, QSize, Qt, Slot
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QVBoxLayout, QWidget

from engine.api import APP_NAME, CaseOverview, EvidenceSummary, ModelSummary, ProviderProbe, Workstation
from gui.engine_thread import EngineClient, Ticket
from gui.item_models.evidence import EvidenceTableModel
from gui.item_models.messages import Message, MessagesModel
from gui.menus import build_menus
from gui.present import when
from gui.settings import Settings
from gui.thumbnails import ThumbnailCache
from gui.widgets.banner import Banner
from gui.widgets.case_panel import CasePanel, dropped_paths
from gui.widgets.centre import CentrePanel
from gui.widgets.details import DetailsPanel
from gui.widgets.jobs_panel import JobsPanel
from gui.widgets.messages_panel import MessagesPanel
from gui.widgets.bookmarks_panel import BookmarksPanel
from gui.widgets.compare import ComparePanel
from gui.item_models.bookmarks import BookmarksModel
from gui.timeline import TimelinePanel
from gui.viewer.viewer_panel import ViewerPanel
from gui.window_cases import CaseActions
from gui.window_evidence import EvidenceActions
from gui.window_help import HelpActions
from gui.window_kept_maps import KeptMapActions
from gui.window_models import ModelActions
from gui.window_runs import RunActions
from gui.window_selection import SelectionActions
from gui.window_viewer import ViewerActions

# Raised whenever the docks are arranged differently by default (or renamed), so a layout an
# older version saved is not restored over the new arrangement.
LAYOUT_VERSION = 2
log = logging.getLogger(__name__)
STOP_TIMEOUT_S = 30.0


class MainWindow(CaseActions, EvidenceActions, RunActions, ModelActions, ViewerActions, KeptMapActions,
                 SelectionActions, HelpActions, QMainWindow):
    def __init__(self, home: str | None = None, case_path: str | None = None, settings: QSettings | None = None,
                 allow_test_fixtures: bool = False) -> None:
        super().__init__()
        self.workstation = Workstation(home)
        self.settings = Settings(settings)
        # Random-weight fixtures are never offered as detectors; only tests and the screenshot
        # tool turn this on (and the fixtures stay marked as such wherever they are listed).
        self.allow_test_fixtures = allow_test_fixtures
        self.overview: CaseOverview | None = None
        self._stopped = False
        self.models: list[ModelSummary] = []
        self.engine = EngineClient(self.workstation, self)
        self.messages = MessagesModel()
        preferences = self.settings.preferences()
        ratio = self.devicePixelRatioF()
        self.thumbnails = ThumbnailCache(max(16, int(preferences.thumbnail_size * ratio)), self, ratio)
        self.evidence_model = EvidenceTableModel(self.thumbnails.get)
        self.resize(self._first_size())  # before the docks, whose shares are set against it
        self._build_widgets(preferences.thumbnail_size)
        build_menus(self)
        self._build_status_bar()
        self._connect_engine()
        self.setAcceptDrops(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
                            | QMainWindow.DockOption.AllowNestedDocks)
        self._default_state = self.saveState(LAYOUT_VERSION)
        geometry, state = self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state, LAYOUT_VERSION)  # a layout saved by an older arrangement is ignored
        self.refresh_models()
        self.probe_provider()
        self.show_case(None)
        if case_path:
            self.open_case_file(case_path)

    # -- building ---------------------------------------------------------------------------
    def _first_size(self) -> QSize:
        """Most of the screen (a saved geometry replaces it), never less than the docks need."""
        metrics = self.fontMetrics()
        wanted = QSize(metrics.averageCharWidth() * 200, metrics.height() * 48)
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return wanted
        room = screen.availableGeometry().size()
        big = QSize(int(room.width() * 0.9), int(room.height() * 0.9))
        return wanted.expandedTo(big).boundedTo(room)

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea | None) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)  # what saveState/restoreState know it by
        dock.setWidget(widget)
        if area is not None:
            self.addDockWidget(area, dock)
        return dock

    def _build_widgets(self, thumbnail_size: int) -> None:
        self.case_panel = CasePanel(self.evidence_model)
        self.case_panel.set_thumbnail_size(thumbnail_size)
        self.viewer = ViewerPanel()
        self.centre = CentrePanel(self.viewer)
        self.details = DetailsPanel()
        self.timeline = TimelinePanel()
        self.bookmarks_model = BookmarksModel()
        self.bookmarks = BookmarksPanel(self.bookmarks_model)
        self.compare = ComparePanel()
        self.jobs = JobsPanel()
        self.messages_panel = MessagesPanel(self.messages)
        self.readonly_banner = Banner("warning")
        self.verify_banner = Banner("error")
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.readonly_banner)
        layout.addWidget(self.verify_banner)
        layout.addWidget(self.centre, 1)
        self.setCentralWidget(central)
        self.case_dock = self._dock("Case", "case_dock", self.case_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.details_dock = self._dock("Details", "details_dock", self.details, Qt.DockWidgetArea.RightDockWidgetArea)
        self.compare_dock = self._dock("Compare models", "compare_dock", self.compare,
                                       Qt.DockWidgetArea.RightDockWidgetArea)
        self.bookmarks_dock = self._dock("Bookmarks", "bookmarks_dock", self.bookmarks,
                                         Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.details_dock, self.compare_dock)
        self.tabifyDockWidget(self.compare_dock, self.bookmarks_dock)
        self.details_dock.raise_()
        self.timeline_dock = self._dock("Timeline", "timeline_dock", self.timeline, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.jobs_dock = self._dock("Jobs", "jobs_dock", self.jobs, None)
        self.messages_dock = self._dock("Messages", "messages_dock", self.messages_panel, None)
        # Beside the timeline, messages under jobs. Not as tabs: a second group of tabbed docks
        # leaves a stale, visible tab bar in the middle of the window (Qt 6.12).
        self.splitDockWidget(self.timeline_dock, self.jobs_dock, Qt.Orientation.Horizontal)
        self.splitDockWidget(self.jobs_dock, self.messages_dock, Qt.Orientation.Vertical)
        width = self.fontMetrics().averageCharWidth()
        height = self.fontMetrics().height()
        self.resizeDocks([self.case_dock, self.details_dock], [width * 105, width * 55], Qt.Orientation.Horizontal)
        self.resizeDocks([self.timeline_dock], [height * 13], Qt.Orientation.Vertical)
        self.resizeDocks([self.jobs_dock, self.messages_dock], [height * 5, height * 8], Qt.Orientation.Vertical)
        self.resizeDocks([self.timeline_dock, self.jobs_dock], [width * 150, width * 60], Qt.Orientation.Horizontal)
        self.case_panel.selection_changed.connect(self.selection_changed)
        self.case_panel.context_menu.connect(self.evidence_context_menu)
        self.case_panel.table.files_dropped.connect(self.add_paths)
        self.case_panel.table.case_dropped.connect(self.open_case_file)
        self.case_panel.table.doubleClicked.connect(self._show_details_dock)
        self.messages_panel.evidence_clicked.connect(self.select_evidence)
        self.jobs.cancel_requested.connect(self.cancel_job)
        self.viewer.frame_wanted.connect(self.frame_wanted)
        self.viewer.frame_shown.connect(self.frame_shown)
        self.viewer.map_wanted.connect(self.map_wanted)
        self.details.provenance.read_clip.connect(self._read_clip_provenance)
        self.connect_kept_maps()
        self.viewer.pixel_info.connect(self._pixel_info)
        self.viewer.not_a_face.connect(self.set_track_excluded)
        self.viewer.save_requested.connect(self.save_view)
        self.viewer.copy_requested.connect(self.copy_view)
        self.timeline.frame_clicked.connect(self.timeline_clicked)
        self.bookmarks.go_to.connect(self.bookmark_go_to)
        self.bookmarks.status_wanted.connect(self.set_bookmark_status)
        self.bookmarks.edit_wanted.connect(self.edit_bookmark)
        self.thumbnails.ready.connect(self._thumbnail_ready)
        w = self.centre.welcome
        w.import_model.connect(self.import_model_folder)
        w.new_case.connect(self.new_case)
        w.open_case.connect(self.open_case_dialog)
        w.open_recent.connect(self.open_case_file)
        self.readonly_banner.action.connect(self.readonly_banner_action)
        self.verify_banner.action.connect(self.show_last_verification)

    def _build_status_bar(self) -> None:
        self.status_last = QLabel()
        self.status_next = QLabel()
        self.status_home = QLabel()
        self.status_case = QLabel()
        self.status_readonly = QLabel()
        self.status_readonly.setStyleSheet("color: #b26a00; font-weight: bold")
        for label in (self.status_readonly, self.status_last, self.status_next, self.status_case, self.status_home):
            self.statusBar().addPermanentWidget(label)

    def _connect_engine(self) -> None:
        self.engine.queue_changed.connect(self._queue_changed)
        self.engine.job_progress.connect(self._job_progress)
        self.engine.rows_changed.connect(self._rows_changed)
        self.engine.case_changed.connect(self._case_changed)
        self.engine.job_failed.connect(self._job_failed)

    # -- what comes back from the engine thread ---------------------------------------------
    @Slot()
    def _queue_changed(self) -> None:
        self.jobs.show_queue(self.engine.current, self.engine.queued())
        self.update_actions()

    @Slot(object, int, int, str)
    def _job_progress(self, ticket: Ticket, done: int, total: int, message: str) -> None:
        self.jobs.show_progress(ticket, done, total, message)

    @Slot(object)
    def _rows_changed(self, rows: tuple[EvidenceSummary, ...]) -> None:
        self.evidence_model.update_rows(rows)
        current = self.case_panel.current()
        if current is not None and any(r.evidence.id == current.evidence.id for r in rows):
            self.selection_changed()

    @Slot(object)
    def _case_changed(self, overview: CaseOverview | None) -> None:
        self.show_case(overview)

    @Slot(object, object)
    def _job_failed(self, ticket: Ticket, error: BaseException) -> None:
        from engine.errors import Cancelled, EngineError

        if isinstance(error, Cancelled):
            self.message(f"{ticket.job.title}: cancelled", "warning")
        elif isinstance(error, EngineError):
            self.message(f"{ticket.job.title}: {error}", "error")
        else:
            self.message(f"{ticket.job.title}: unexpected {type(error).__name__}: {error} (the log file has the "
                         "details)", "error")

    @Slot(int)
    def _thumbnail_ready(self, evidence_id: int) -> None:
        self.evidence_model.thumbnail_ready(evidence_id)

    # -- state shown everywhere ---------------------------------------------------------------
    def message(self, text: str, level: str = "info", evidence_id: int | None = None) -> None:
        self.messages.add(Message(text, level, evidence_id))
        (log.warning if level != "info" else log.info)("%s", text)

    def show_case(self, overview: CaseOverview | None) -> None:
        opened = overview is not None and (self.overview is None or self.overview.path != overview.path)
        self.overview = overview
        self.case_panel.show_case(overview)
        if overview is None:
            self.evidence_model.set_rows([])
            self.details.show_details(None)
            self.centre.welcome.show_state(len(self.offered_models()), self.settings.recent_cases())
            self.centre.show_welcome()
        elif opened:
            self.evidence_model.set_rows(overview.evidence)
            self.case_panel.fit_columns()
        else:
            # The same case again: rows are updated in place, so the selection, the scroll position
            # and the thumbnails stay, and the table does not lay itself out anew.
            self.evidence_model.update_rows(overview.evidence)
        if overview is not None:
            self.centre.show_item_page()
            self.selection_changed()
        self._show_banners(overview)
        self.refresh_bookmarks()
        self.update_title()
        self.update_status()
        self.update_actions()

    def _show_banners(self, overview: CaseOverview | None) -> None:
        if overview is not None and overview.foreign:
            count = len(overview.foreign)
            first = overview.foreign[0] + (f" (and {count - 1} more)" if count > 1 else "")
            self.readonly_banner.show_text(
                f"This case holds {'things' if count > 1 else 'something'} this program did not write: {first}. "
                "It is open read-only, so none of it runs. Verify lists everything; Repair writes a clean copy "
                "to work in.", "Repair…")
        elif overview is not None and overview.readonly:
            holder = f" by {overview.holder}" if overview.holder else ""
            self.readonly_banner.show_text(
                f"This case is open read-only: {overview.readonly_reason}{holder}. You can look and verify; "
                "adding, analysing, annotating and exporting are off until it can be written.", "Try again")
        else:
            self.readonly_banner.hide()
        record = overview.last_verification if overview is not None else None
        if record is not None and not record.ok:
            items = ", ".join(str(i) for i in record.evidence_problems[:8])
            self.verify_banner.show_text(
                f"The last verification ({when(record.time)}, {record.actor}) found differences"
                + (f" in evidence {items}" if items else "") + ". Verify again once they are explained.", "Details")
        else:
            self.verify_banner.hide()

    def update_title(self) -> None:
        if self.overview is None:
            self.setWindowTitle(APP_NAME)
            return
        info = self.overview.info
        self.setWindowTitle(" — ".join(p for p in (info.title, info.number, APP_NAME) if p))

    def probe_provider(self) -> None:
        from gui.model_jobs import ProbeProvider

        preference = self.settings.preferences().provider
        self.status_next.setText(f"Next run: checking {preference}…")
        self.engine.submit(ProbeProvider(preference), on_done=self._provider_probed)

    def _provider_probed(self, probe: ProviderProbe) -> None:
        self.provider_probe = probe
        self.update_status()
        if probe.fallback_reason:
            self.message(probe.fallback_reason, "warning")

    def update_status(self) -> None:
        probe = getattr(self, "provider_probe", None)
        last = self.overview.last_provider if self.overview else None
        self.status_last.setText(f"Last run: {last}" if last else "No run yet")
        if probe is not None:
            fallback = " (GPU listed but cannot start)" if probe.fallback_reason else ""
            self.status_next.setText(f"Next run: {probe.provider}{fallback}")
            self.status_next.setToolTip(probe.fallback_reason or f"preference {probe.preference}")
        self.status_home.setText(f"Home: {self.workstation.home}")
        self.status_case.setText(f"Case: {self.overview.path}" if self.overview else "")
        self.status_readonly.setText("read-only" if self.overview and self.overview.readonly else "")

    def selected_ids(self) -> list[int]:
        return [s.evidence.id for s in self.case_panel.selected()]

    def _show_details_dock(self) -> None:
        self.details_dock.show()
        self.details_dock.raise_()

    def docks(self) -> tuple[QDockWidget, ...]:
        return (self.case_dock, self.details_dock, self.compare_dock, self.bookmarks_dock, self.timeline_dock,
                self.jobs_dock, self.messages_dock)

    def restore_default_layout(self) -> None:
        self.restoreState(self._default_state, LAYOUT_VERSION)
        for dock in self.docks():
            dock.show()

    def _pixel_info(self, text: str) -> None:
        if text:
            self.statusBar().showMessage(text)
        else:
            self.statusBar().clearMessage()

    # -- drops anywhere on the window ----------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_paths(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = dropped_paths(event)
        cases = [p for p in paths if p.lower().endswith(".dfwcase")]
        if cases:
            self.open_case_file(cases[0])
        elif paths:
            self.add_paths(paths)
        event.acceptProposedAction()

    # -- closing ----------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if self._stopped:
            event.accept()
            return
        if self.engine.busy:
            running = self.engine.current.job.title if self.engine.current else "A job"
            if not self.confirm("A job is running", f"{running} is still running. Cancel it and quit? A cancelled "
                                "run keeps everything it finished and can be resumed."):
                event.ignore()
                return
        self.settings.set_window_state(self.saveGeometry(), self.saveState(LAYOUT_VERSION))
        self.shutdown()
        event.accept()

    def shutdown(self) -> bool:
        """Cancel every job, close the case and join the engine and thumbnail threads."""
        self._stopped = True
        stopped = self.engine.stop(STOP_TIMEOUT_S)
        stopped = self.thumbnails.stop() and stopped
        if not stopped:
            log.error("a background thread did not stop within %s s", STOP_TIMEOUT_S)
        return stopped

