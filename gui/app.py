"""Start the window: check there is a screen to show it on, set the application's names, log, run.

Without a display (or without the system libraries Qt's xcb platform plugin needs), Qt would
abort the process with a message about plugins; instead one line says what is missing and
that every command works headless (gui/display.py). An exception escaping a slot is logged with its
traceback and shown as one line in the messages dock, never as a traceback dialog.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from types import TracebackType

from engine.api import APP_NAME, Workstation, resources_dir, setup_logging
from engine.api import __version__ as version
from gui.display import display_problem

log = logging.getLogger("gui")


def _install_excepthook(window: object) -> None:
    def hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        log.error("unexpected %s", kind.__name__, exc_info=(kind, error, tb))
        where = traceback.extract_tb(tb)[-1] if tb else None
        place = f" (in {os.path.basename(where.filename)} line {where.lineno})" if where else ""
        message = getattr(window, "message", None)
        if callable(message):
            message(f"unexpected {kind.__name__}: {str(error)[:300]}{place}; the log file has the details", "error")

    sys.excepthook = hook


def run_gui(home: str | None = None, case_path: str | None = None) -> int:
    problem = display_problem()
    if problem:
        print(f"cannot open the window: {problem}", file=sys.stderr)
        return 2
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow
    from gui.settings import APPLICATION, ORGANISATION

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(version)
    app.setDesktopFileName("deepfake-forensic-workstation")
    icon = QIcon()
    for size in (16, 24, 32, 48, 64, 128, 256):  # PNGs: a frozen build carries no SVG icon engine
        path = resources_dir() / "icons" / f"dfw-{size}.png"
        if path.is_file():
            icon.addFile(str(path))
    app.setWindowIcon(icon)
    log_file = setup_logging(Workstation(home).home, verbose=False)
    window = MainWindow(home, case_path)
    _install_excepthook(window)
    window.message(f"log file: {log_file}")
    window.show()
    return app.exec()
