"""Start the window: one QApplication, the main window, and a clean exit."""

from __future__ import annotations

import sys


def run_gui(argv: list[str] | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("Deepfake Forensic Workstation")
    window = MainWindow()
    window.show()
    return app.exec()
