"""Help menu and preferences, and the window's one way to show a dialog or a notice.

Result dialogs and notices open without blocking (`notify`), so a job that ends while the
analyst works elsewhere never freezes the window; questions that must be answered before
anything goes on (`confirm`, `run_dialog`) block as dialogs do. Tests replace the latter two.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.api import SelfTestReport

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QMessageBox

from gui.dialogs.help import about_dialog, help_dialog, shortcuts_dialog
from gui.dialogs.preferences import PreferencesDialog
from gui.dialogs.selftest import SelfTestDialog
from gui.model_jobs import SelfTest

if TYPE_CHECKING:
    from gui.main_window import MainWindow

    Base = MainWindow
else:
    Base = object

_ICONS = {"info": QMessageBox.Icon.Information, "warning": QMessageBox.Icon.Warning,
          "error": QMessageBox.Icon.Critical}


class HelpActions(Base):
    def notify(self, level: str, title: str, text: str) -> QMessageBox:
        box = QMessageBox(_ICONS[level], title, text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.last_notice = box
        return box

    def confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def run_dialog(self, dialog: QDialog) -> bool:
        return bool(dialog.exec())

    def show_dialog(self, dialog: QDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.last_dialog = dialog

    def show_help(self) -> None:
        self.show_dialog(help_dialog(self))

    def show_shortcuts(self) -> None:
        self.show_dialog(shortcuts_dialog(self))

    def run_self_test(self) -> None:
        """The installation check, on the engine thread with the provider the preferences ask for."""
        self.engine.submit(SelfTest(self.settings.preferences().provider), on_done=self._self_tested)

    def _self_tested(self, report: SelfTestReport) -> None:
        self.message(report.summary(), "info" if report.ok else "error")
        self.show_dialog(SelfTestDialog(self, report))

    def show_about(self) -> None:
        self.show_dialog(about_dialog(self))

    def show_preferences(self) -> None:
        dialog = PreferencesDialog(self, self.settings.preferences())
        if self.run_dialog(dialog):
            preferences = dialog.preferences()
            self.settings.set_preferences(preferences)
            self.case_panel.set_thumbnail_size(preferences.thumbnail_size)
            self.thumbnails.resize(max(16, int(preferences.thumbnail_size * self.devicePixelRatioF())))
            self.evidence_model.set_rows(self.evidence_model.summaries())
            self.probe_provider()
