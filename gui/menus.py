"""The window's menus and keyboard shortcuts, in one table that Help → Keyboard shortcuts reads too."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from PySide6.QtGui import QAction, QKeySequence

if TYPE_CHECKING:
    from gui.main_window import MainWindow


@dataclass(frozen=True)
class Entry:
    name: str  # attribute on the window: window.actions_by_name[name]
    text: str
    shortcut: str | QKeySequence.StandardKey | None
    handler: str  # method of the window
    needs: str = ""  # "case", "writable", "selection", "job", "map-writable": when it is enabled


MENUS: tuple[tuple[str, tuple[Entry | None, ...]], ...] = (
    ("&File", (
        Entry("new_case", "&New case…", "Ctrl+N", "new_case"),
        Entry("open_case", "&Open case…", "Ctrl+O", "open_case_dialog"),
        None,  # Open recent goes here
        Entry("close_case", "&Close case", "Ctrl+W", "close_case", "case"),
        None,
        Entry("export", "&Export report…", "Ctrl+E", "export_report", "writable"),
        Entry("verify", "&Verify case", "Ctrl+Shift+V", "verify_case", "case"),
        None,
        Entry("preferences", "&Preferences…", "Ctrl+,", "show_preferences"),
        Entry("quit", "&Quit", "Ctrl+Q", "close"),
    )),
    ("&Evidence", (
        Entry("add_files", "Add &files…", "Ctrl+I", "add_files", "writable"),
        Entry("add_folder", "Add f&older…", "Ctrl+Shift+I", "add_folder", "writable"),
        None,
        Entry("analyze_selected", "&Analyze selected…", "F5", "analyze_selected", "selection-writable"),
        Entry("analyze_all", "Analyze a&ll…", "Shift+F5", "analyze_all", "writable"),
        Entry("resume", "&Resume the last run", None, "resume_run", "resumable"),
        Entry("cancel", "&Cancel the running job", "Esc", "cancel_job", "job"),
        None,
        Entry("add_note", "Add &note…", "Ctrl+Shift+N", "add_note", "selection-writable"),
        Entry("add_tag", "Add &tag…", "Ctrl+T", "add_tag", "selection-writable"),
        Entry("copy_sha", "Copy &SHA-256", "Ctrl+Shift+C", "copy_sha", "selection"),
        Entry("copy_path", "Copy &path", None, "copy_path", "selection"),
        Entry("show_in_folder", "Show in &folder", None, "show_in_folder", "selection"),
    )),
    ("Vie&wer", (
        Entry("bookmark_frame", "&Bookmark this frame…", "B", "bookmark_frame", "selection-writable"),
        Entry("note_frame", "&Note on this frame…", "N", "note_frame", "selection-writable"),
        Entry("tag_item", "&Tag this item…", "T", "tag_frame", "selection-writable"),
        Entry("keep_map", "&Keep this map in the case…", "K", "keep_map", "map-writable"),
        None,
        Entry("save_view", "&Save the view as PNG…", "Ctrl+Shift+S", "save_view", "selection"),
        Entry("copy_view", "&Copy the view", "Ctrl+Alt+C", "copy_view", "selection"),
    )),
    ("&Models", (
        Entry("model_manager", "&Model manager…", "Ctrl+M", "show_model_manager"),
        Entry("import_model", "&Import model…", None, "import_model_folder"),
    )),
    ("&View", (
        Entry("restore_layout", "&Restore default layout", None, "restore_default_layout"),
    )),
    ("&Help", (
        Entry("help", "&Help", "F1", "show_help"),
        Entry("shortcuts", "&Keyboard shortcuts", None, "show_shortcuts"),
        Entry("self_test", "&Self-test", None, "run_self_test"),
        Entry("about", "&About", None, "show_about"),
    )),
)


# Keys that belong to one panel (they act while it has the focus), listed for Help too.
PANEL_KEYS = (
    ("← / →", "Previous / next sampled frame (viewer, timeline)"),
    ("Home / End", "First / last sampled frame"),
    ("PgDown / PgUp", "Next / previous frame at or over the threshold"),
    ("+ / −", "Zoom in / out"), ("0", "Fit the frame"), ("1", "Actual pixels (100 %)"),
    ("O", "Overlay on / off"),
    ("L / Shift+L", "Next / previous forensic layer (none, error level, noise level, residual, spectrum)"),
    ("Wheel, drag, double-click", "Zoom, pan, fit ↔ 100 %"),
    ("1 / 2 / 3", "Bookmark status ok / to check / warning (bookmarks dock)"),
)


def shortcut_table() -> list[tuple[str, str]]:
    """(keys, what they do) for every entry with a shortcut, in menu order, then the panels' keys."""
    rows = []
    for _, entries in MENUS:
        for entry in entries:
            if entry is not None and entry.shortcut is not None:
                keys = QKeySequence(entry.shortcut).toString(QKeySequence.SequenceFormat.NativeText)
                rows.append((keys, entry.text.replace("&", "").rstrip("…")))
    return rows + list(PANEL_KEYS)


def build_menus(window: "MainWindow") -> None:
    window.actions_by_name = {}
    window.action_needs = {}
    for title, entries in MENUS:
        menu = window.menuBar().addMenu(title)
        for entry in entries:
            if entry is None:
                if title == "&File" and not any(a.text() == "Open &recent" for a in menu.actions()):
                    window.recent_menu = menu.addMenu("Open &recent")
                    window.recent_menu.aboutToShow.connect(window.fill_recent_menu)
                menu.addSeparator()
                continue
            action = QAction(entry.text, window)
            if entry.shortcut is not None:
                action.setShortcut(QKeySequence(entry.shortcut))
            handler: Callable[[], object] = getattr(window, entry.handler)
            action.triggered.connect(handler)
            menu.addAction(action)
            window.addAction(action)  # shortcuts work while the menu bar is hidden or docks float
            window.actions_by_name[entry.name] = action
            window.action_needs[entry.name] = entry.needs
        if title == "&View":
            menu.addSeparator()
            for dock in window.docks():
                menu.addAction(dock.toggleViewAction())
