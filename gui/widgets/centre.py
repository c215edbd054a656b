"""The centre of the window: a welcome page with no case open, otherwise the selected item.

The welcome page says what a model folder is (the layouts the program reads) and offers the
first steps: import a model, create or open a case, or one of the recent cases. With a case
open, the centre is the frame viewer.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QScrollArea, QStackedWidget, QVBoxLayout, QWidget,
)

from engine.api import APP_NAME

LAYOUTS_HTML = """
<p>A <b>model</b> is a folder you downloaded yourself (for example from Hugging Face) on a
connected machine. The program reads these layouts:</p>
<ul>
<li><b>Optimum export</b>: <code>model.onnx</code>, <code>config.json</code>, <code>preprocessor_config.json</code></li>
<li><b>transformers.js / "-ONNX" repos</b>: the configs at the root and <code>onnx/model.onnx</code>
(with <code>_quantized</code>, <code>_int8</code>, <code>_fp16</code> variants)</li>
<li><b>timm</b>: <code>config.json</code> with <code>pretrained_cfg</code> beside <code>model.onnx</code></li>
<li><b>a bare .onnx</b>: you state its labels and preprocessing when you import it</li>
</ul>
<p>A PyTorch checkpoint must be converted first: <code>python main.py models export CHECKPOINT OUT</code>.
Nothing is ever downloaded by this program.</p>
"""


class WelcomePage(QWidget):
    import_model = Signal()
    new_case = Signal()
    open_case = Signal()
    open_recent = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        title = QLabel(APP_NAME)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        title.setFont(font)
        self.models_line = QLabel()
        self.models_line.setWordWrap(True)
        self.layouts = QLabel(LAYOUTS_HTML)
        self.layouts.setTextFormat(Qt.TextFormat.RichText)
        self.layouts.setWordWrap(True)
        buttons = QHBoxLayout()
        for text, signal in (("Import model…", self.import_model), ("New case…", self.new_case),
                             ("Open case…", self.open_case)):
            button = QPushButton(text)
            button.clicked.connect(signal)
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.recent_label = QLabel("Recent cases")
        self.recent = QListWidget()
        self.recent.itemActivated.connect(self._recent_chosen)
        self.recent.setMaximumHeight(self.fontMetrics().height() * 8)
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.addWidget(title)
        layout.addWidget(self.models_line)
        layout.addLayout(buttons)
        layout.addWidget(self.recent_label)
        layout.addWidget(self.recent)
        layout.addWidget(self.layouts)
        layout.addStretch(1)
        inner.setMaximumWidth(self.fontMetrics().averageCharWidth() * 110)
        inner.setMinimumWidth(self.fontMetrics().averageCharWidth() * 40)
        scroll = QScrollArea()
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer = QVBoxLayout(self)
        outer.addWidget(scroll)

    def show_state(self, models: int, recent: list[str]) -> None:
        if models:
            self.models_line.setText(f"{models} model{'s' if models != 1 else ''} imported. Create or open a case "
                                     "to analyse evidence with them.")
        else:
            self.models_line.setText("No models imported yet. Import a detector model to begin; cases can be "
                                     "created and evidence added before that.")
        self.recent.clear()
        for path in recent:
            item = QListWidgetItem(os.path.basename(path) + "  —  " + os.path.dirname(path))
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setToolTip(path)
            if not os.path.exists(path):
                item.setForeground(self.palette().color(self.palette().ColorRole.PlaceholderText))
                item.setText(item.text() + "  (missing)")
            self.recent.addItem(item)
        self.recent.setVisible(bool(recent))
        self.recent_label.setVisible(bool(recent))

    def _recent_chosen(self, item: QListWidgetItem) -> None:
        self.open_recent.emit(str(item.data(Qt.ItemDataRole.UserRole)))


class CentrePanel(QStackedWidget):
    """The welcome page with no case open; the viewer otherwise."""

    def __init__(self, viewer: QWidget) -> None:
        super().__init__()
        self.welcome = WelcomePage()
        self.viewer = viewer
        self.addWidget(self.welcome)
        self.addWidget(viewer)

    def show_welcome(self) -> None:
        self.setCurrentWidget(self.welcome)

    def show_item_page(self) -> None:
        self.setCurrentWidget(self.viewer)
