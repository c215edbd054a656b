"""The jobs dock: the running job with progress, ETA and throughput, Cancel, and the queue behind it.

Progress is shown in the job's own unit (frames for a run, bytes for adding evidence, images
for validating a variant) and says which. The ETA and the rate come from the progress seen
since the job started, so they settle after the first few seconds rather than guessing.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QProgressBar, QPushButton, QVBoxLayout, QWidget

from gui.engine_thread import Ticket
from gui.present import human_size


def _amount(value: float, unit: str) -> str:
    return human_size(int(value)) if unit == "bytes" else f"{int(value):,} {unit}"


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class JobsPanel(QWidget):
    cancel_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.title = QLabel("No job running")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.counts = QLabel()
        self.rate = QLabel()
        self.current_item = QLabel()
        self.current_item.setTextFormat(Qt.TextFormat.PlainText)
        self.cancel = QPushButton("Cancel (Esc)")
        self.cancel.clicked.connect(self.cancel_requested)
        self.queue = QListWidget()
        self.queue.setMaximumHeight(self.fontMetrics().height() * 5)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.cancel)
        facts = QHBoxLayout()
        facts.addWidget(self.counts)
        facts.addStretch(1)
        facts.addWidget(self.rate)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.bar)
        layout.addLayout(facts)
        layout.addWidget(self.current_item)
        self.queued_label = QLabel("Queued")
        layout.addWidget(self.queued_label)
        layout.addWidget(self.queue)
        self._ticket: Ticket | None = None
        self.show_queue(None, [])

    def show_queue(self, current: Ticket | None, queued: list[Ticket]) -> None:
        if current is not self._ticket:
            self._ticket = current
            self.bar.setRange(0, 0 if current is not None else 1)  # busy until the first progress
            self.bar.setValue(0)
            self.bar.setVisible(current is not None)
            self.counts.clear()
            self.rate.clear()
            self.current_item.clear()
        self.title.setText(current.job.title if current else "No job running")
        self.cancel.setEnabled(current is not None and not current.cancelled)
        self.queue.clear()
        self.queue.addItems([t.job.title + ("  (cancelled)" if t.cancelled else "") for t in queued])
        self.queue.setVisible(bool(queued))
        self.queued_label.setVisible(bool(queued))

    def show_progress(self, ticket: Ticket, done: int, total: int, message: str) -> None:
        if ticket is not self._ticket:
            return
        unit = ticket.job.unit
        scale = 1024 if unit == "bytes" else 1  # QProgressBar counts in int; keep byte totals in range
        self.bar.setRange(0, max(1, total // scale))
        self.bar.setValue(min(done, total) // scale)
        self.counts.setText(f"{_amount(done, unit)} of {_amount(total, unit)}")
        self.current_item.setText(message[-120:])
        started = ticket.started_at or time.monotonic()
        elapsed = time.monotonic() - started
        if elapsed > 1.0 and done > 0:
            rate = done / elapsed
            shown = f"{human_size(int(rate))}/s" if unit == "bytes" else f"{rate:.1f} {unit}/s"
            left = (total - done) / rate if total > done else 0.0
            self.rate.setText(f"{shown}  ·  about {_duration(left)} left")

    def mark_cancelling(self) -> None:
        self.cancel.setEnabled(False)
        self.current_item.setText("Cancelling… (the current batch finishes first)")
