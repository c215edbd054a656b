"""The PySide6 window: a client of engine.api, never the other way round."""

from gui.qt_guard import keep_singletons_alive

keep_singletons_alive()  # before any Qt call into Python (see gui/qt_guard.py)
