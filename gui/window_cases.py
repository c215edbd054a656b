"""File menu actions: new, open, recent, close, re-open, and what the window shows after each."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog

from engine.api import CASE_SUFFIX, CaseOverview
from gui.dialogs.new_case import NewCaseDialog
from gui.jobs import CloseCase, CreateCase, OpenCase, RepairCase

if TYPE_CHECKING:
    from gui.main_window import MainWindow

    Base = MainWindow
else:
    Base = object


class CaseActions(Base):
    def new_case(self) -> None:
        folder = os.path.dirname(self.settings.recent_cases()[0]) if self.settings.recent_cases() else os.getcwd()
        dialog = NewCaseDialog(self, self.settings.last_examiner(), folder)
        if not self.run_dialog(dialog):
            return
        values = dialog.values()
        self.settings.set_last_examiner(values.examiner)
        self.engine.submit(CreateCase(values.path, values.title, values.examiner, values.number, values.organisation),
                           on_done=self._case_opened, on_error=self._case_refused)

    def open_case_dialog(self) -> None:
        recent = self.settings.recent_cases()
        start = os.path.dirname(recent[0]) if recent else os.getcwd()
        path, _ = QFileDialog.getOpenFileName(self, "Open case", start, f"Cases (*{CASE_SUFFIX});;All files (*)")
        if path:
            self.open_case_file(path)

    def open_case_file(self, path: str) -> None:
        self.engine.submit(OpenCase(os.path.abspath(path)), on_done=self._case_opened, on_error=self._case_refused)

    def reopen_case(self) -> None:
        if self.overview is not None:
            self.open_case_file(self.overview.path)

    def readonly_banner_action(self) -> None:
        """The read-only banner's button: repair a foreign case, or try opening for writing again."""
        if self.overview is not None and self.overview.foreign:
            self.repair_case()
        else:
            self.reopen_case()

    def repair_case(self) -> None:
        if self.overview is None:
            return
        source = self.overview.path
        stem, _ = os.path.splitext(source)
        out, _ = QFileDialog.getSaveFileName(self, "Write a clean copy of the case", stem + " (repaired)" + CASE_SUFFIX,
                                             f"Cases (*{CASE_SUFFIX})")
        if out:
            self.engine.submit(RepairCase(source, out), on_done=self._case_opened, on_error=self._case_refused)

    def close_case(self) -> None:
        self.engine.submit(CloseCase())

    def _case_opened(self, overview: CaseOverview) -> None:
        self.settings.add_recent(overview.path)
        self.message(f"opened {overview.path}" + (" read-only" if overview.readonly else ""))
        if overview.readonly:
            self.message(f"{overview.path} is read-only: {overview.readonly_reason}"
                         + (f" ({overview.holder})" if overview.holder else ""), "warning")

    def _case_refused(self, error: BaseException) -> None:
        # One clear dialog; the file itself is never touched by a refused open.
        self.notify("error", "Cannot open the case", str(error))

    def fill_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        recent = self.settings.recent_cases()
        for path in recent:
            action = QAction(os.path.basename(path) + "  —  " + os.path.dirname(path), menu)
            action.setToolTip(path)
            action.setData(path)
            if not os.path.exists(path):
                action.setText(action.text() + "  (missing)")
                action.setEnabled(False)
            action.triggered.connect(self._open_recent_action)
            menu.addAction(action)
        if not recent:
            empty = menu.addAction("No recent cases")
            empty.setEnabled(False)
            return
        menu.addSeparator()
        menu.addAction("Remove missing cases from the list").triggered.connect(self._remove_missing_recent)
        menu.addAction("Clear the list").triggered.connect(self._clear_recent)

    def _open_recent_action(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.open_case_file(str(action.data()))

    def _remove_missing_recent(self) -> None:
        for path in self.settings.recent_cases():
            if not os.path.exists(path):
                self.settings.remove_recent(path)
        self._refresh_welcome()

    def _clear_recent(self) -> None:
        for path in self.settings.recent_cases():
            self.settings.remove_recent(path)
        self._refresh_welcome()

    def _refresh_welcome(self) -> None:
        self.centre.welcome.show_state(len(self.offered_models()), self.settings.recent_cases())

    def update_actions(self) -> None:
        overview = self.overview
        has_case = overview is not None
        writable = has_case and not overview.readonly  # type: ignore[union-attr]
        selection = bool(self.case_panel.selected()) if has_case else False
        state = {"": True, "case": has_case, "writable": writable, "selection": selection,
                 "selection-writable": selection and writable, "job": self.engine.busy,
                 "resumable": writable and overview is not None and overview.resumable_run is not None,
                 "map-writable": writable and self.viewer.shows_map()}  # a forensic layer on screen
        for name, action in self.actions_by_name.items():
            action.setEnabled(state[self.action_needs[name]])
