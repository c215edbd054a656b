"""Dialogs: new case, analyze, model manager and import, export, verify results, preferences, help."""

from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton


def path_row(edit: QLineEdit, browse: Callable[[], None]) -> QHBoxLayout:
    """A path field with its Browse… button beside it, as every dialog that asks for a file has."""
    button = QPushButton("Browse…")
    button.clicked.connect(browse)
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(button)
    return row
