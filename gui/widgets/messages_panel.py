"""The messages dock: engine messages and per-item errors; clicking one selects its item."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import QHBoxLayout, QListView, QPushButton, QVBoxLayout, QWidget

from gui.item_models.messages import MESSAGE_ROLE, MessagesModel


class MessagesPanel(QWidget):
    evidence_clicked = Signal(int)

    def __init__(self, model: MessagesModel) -> None:
        super().__init__()
        self.model = model
        self.view = QListView()
        self.view.setModel(model)
        self.view.setUniformItemSizes(True)
        self.view.setWordWrap(False)
        self.view.clicked.connect(self._clicked)
        clear = QPushButton("Clear")
        clear.clicked.connect(model.clear)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addLayout(row)
        model.rowsInserted.connect(self._scroll)

    def _scroll(self) -> None:
        self.view.scrollToBottom()

    def _clicked(self, index: QModelIndex) -> None:
        message = index.data(MESSAGE_ROLE)
        if message is not None and message.evidence_id is not None:
            self.evidence_clicked.emit(message.evidence_id)
