"""Evidence menu actions: add files and folders, notes and tags, copying, showing the folder.

Adding runs on the engine thread with progress and cancel; each refused file and each
duplicate becomes one line in the messages dock (never a dialog per file), and new rows
appear in the table as their files are hashed.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu

from engine.api import AddedItem, AddReport, RefusedItem
from gui.jobs import AddEvidence, Annotate

if TYPE_CHECKING:
    from gui.main_window import MainWindow

    Base = MainWindow
else:
    Base = object


class EvidenceActions(Base):
    def _evidence_folder(self) -> str:
        return os.path.dirname(self.overview.path) if self.overview else os.getcwd()

    def add_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add evidence files", self._evidence_folder())
        if paths:
            self.add_paths(paths)

    def add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add an evidence folder", self._evidence_folder())
        if folder:
            self.add_paths([folder])

    def add_paths(self, paths: list[str]) -> None:
        if self.overview is None:
            self.notify("info", "No case open", "Create or open a case first; evidence is added to a case.")
            return
        if self.overview.readonly:
            self.message("this case is open read-only: evidence cannot be added", "warning")
            return
        self.engine.submit(AddEvidence(tuple(paths)), on_done=self._evidence_added, on_event=self._evidence_heard)

    def _evidence_heard(self, item: object) -> None:
        if isinstance(item, RefusedItem):
            self.message(item.reason, "warning")
        elif isinstance(item, AddedItem) and item.duplicate:
            self.message(f"{item.path} is already in the case", "info", item.evidence.id)

    def _evidence_added(self, report: AddReport) -> None:
        text = (f"{len(report.new)} added, {len(report.duplicates)} already in the case, "
                f"{len(report.refused)} refused" + (" (stopped: cancelled)" if report.cancelled else ""))
        self.message(text, "warning" if report.refused or report.cancelled else "info")

    # -- the context menu -----------------------------------------------------------------------
    def evidence_context_menu(self, position: QPoint) -> None:
        if not self.case_panel.selected():
            return
        menu = QMenu(self)
        for name in ("analyze_selected", None, "add_note", "add_tag", None, "copy_sha", "copy_path", "show_in_folder"):
            if name is None:
                menu.addSeparator()
            else:
                menu.addAction(self.actions_by_name[name])
        menu.exec(self.case_panel.table.viewport().mapToGlobal(position))

    def _annotate(self, kind: str, title: str, label: str) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        text, ok = QInputDialog.getText(self, title, label)
        if not ok or not text.strip():
            return
        for evidence_id in ids:
            self.engine.submit(Annotate(kind, evidence_id, text.strip()), on_done=self._annotated)

    def _annotated(self, _: object) -> None:
        self.selection_changed()  # the details panel shows the new entry

    def add_note(self) -> None:
        self._annotate("note", "Add a note", "Note (kept in the case with your name and the time):")

    def add_tag(self) -> None:
        self._annotate("tag", "Add a tag", "Tag:")

    def copy_sha(self) -> None:
        QGuiApplication.clipboard().setText("\n".join(s.evidence.sha256 for s in self.case_panel.selected()))

    def copy_path(self) -> None:
        QGuiApplication.clipboard().setText("\n".join(s.evidence.path_given for s in self.case_panel.selected()))

    def show_in_folder(self) -> None:
        """Opens the folder that holds the item, never the evidence file itself with another program."""
        folders = dict.fromkeys(os.path.dirname(s.evidence.path_resolved) for s in self.case_panel.selected())
        for folder in list(folders)[:5]:
            if os.path.isdir(folder):
                QDesktopServices.openUrl(QUrl.fromLocalFile(folder))
            else:
                self.message(f"the folder {folder} no longer exists", "warning")
