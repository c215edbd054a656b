"""A coloured bar across the top of the window: read-only case, failed verification, and the like."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton

STYLES = {
    "warning": ("#fff3cd", "#5c4400", "#e0c060"),  # background, text, border
    "error": ("#c62828", "#ffffff", "#8e0000"),
}


class Banner(QFrame):
    action = Signal()

    def __init__(self, kind: str) -> None:
        super().__init__()
        background, text, border = STYLES[kind]
        self.setObjectName(f"banner_{kind}")
        self.setStyleSheet(f"QFrame#banner_{kind} {{ background: {background}; border: 1px solid {border}; }}"
                           f" QFrame#banner_{kind} QLabel {{ color: {text}; }}")
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.button = QPushButton()
        self.button.clicked.connect(self.action)
        layout = QHBoxLayout(self)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        self.hide()

    def show_text(self, text: str, button: str | None = None) -> None:
        self.label.setText(text)
        self.button.setVisible(button is not None)
        self.button.setText(button or "")
        self.show()
