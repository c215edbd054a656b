"""One engine thread for the whole window: it owns the ONNX sessions and the open case.

`EngineWorker` is a QObject moved to one long-lived QThread (Anki's collection executor, not
a thread pool): jobs run there one at a time, in the order they were submitted, so the case's
single writer connection is only ever used from that thread. The GUI thread talks to it
through `EngineClient`: `submit(job, on_done, on_error, on_event)` hands over a frozen job and
returns a `Ticket` whose thread-safe cancel flag the engine's `is_cancelled` reads. Results,
progress and events come back as signals to the client's slots (never lambdas: a slot of an
object living in the GUI thread runs in the GUI thread), which call the callbacks.

A second worker, the reader, holds a read-only view of the same case (`Case.reader()`) for
jobs marked `reads_only` (an item's details, frames for the viewer), so looking at evidence
never waits behind an hour-long run. It never writes and owns no ONNX session.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from PySide6.QtCore import QObject, QThread, Signal, Slot

from engine.api import Case, Workstation
from engine.errors import Cancelled, EngineError
from gui.jobs import Job, JobContext

log = logging.getLogger(__name__)
PROGRESS_INTERVAL_S = 0.05  # at most 20 progress signals a second: the GUI only needs to look smooth
ROWS_INTERVAL_S = 0.25  # changed table rows are sent in batches this often


@dataclass(eq=False)
class Ticket:
    """A submitted job: its id, the job, and a cancel flag either thread may touch."""

    id: int
    job: Job
    on_done: Callable[[Any], None] | None = None
    on_error: Callable[[BaseException], None] | None = None
    on_event: Callable[[object], None] | None = None
    cancel_flag: threading.Event = field(default_factory=threading.Event)
    started_at: float | None = None

    def cancel(self) -> None:
        self.cancel_flag.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_flag.is_set()


class EngineWorker(QObject):
    """Lives on the engine thread. Never touches a widget; speaks only through its signals."""

    started = Signal(int)  # ticket id
    progress = Signal(int, int, int, str)  # ticket id, done, total, message
    event = Signal(int, object)  # ticket id, an engine event (RunEvent, AddedItem, RefusedItem)
    finished = Signal(int, object)  # ticket id, result
    failed = Signal(int, object)  # ticket id, the exception
    rows_changed = Signal(object)  # tuple[EvidenceSummary, ...] of the open case
    case_changed = Signal(object)  # CaseOverview, or None when the case closed
    reader_ready = Signal(object)  # a read-only Case for the reader worker, or None
    stopped = Signal()

    def __init__(self, workstation: Workstation, writer: bool = True) -> None:
        super().__init__()
        self.workstation = workstation
        self.writer = writer
        self.case: Case | None = None

    def _set_case(self, case: Case | None) -> None:
        if self.case is not None and self.case is not case:
            self.case.close()
        self.case = case

    @Slot(object)
    def attach(self, case: object) -> None:
        """The reader's view of the case the writer just opened (made there, used only here)."""
        assert case is None or isinstance(case, Case)
        self._set_case(case)

    @Slot(object)
    def run(self, ticket: Ticket) -> None:
        if ticket.cancelled:  # cancelled while it waited in the queue
            self.failed.emit(ticket.id, Cancelled("cancelled before it started"))
            return
        self.started.emit(ticket.id)
        pending_rows: set[int] = set()
        last = {"progress": 0.0, "rows": 0.0}  # the first change of a job is sent at once

        def progress(done: int, total: int, message: str = "") -> None:
            now = time.monotonic()
            if now - last["progress"] >= PROGRESS_INTERVAL_S or done >= total:
                last["progress"] = now
                self.progress.emit(ticket.id, int(done), int(total), str(message))

        def evidence_changed(ids: Sequence[int]) -> None:
            pending_rows.update(ids)
            if time.monotonic() - last["rows"] >= ROWS_INTERVAL_S:
                flush_rows()

        def flush_rows() -> None:
            last["rows"] = time.monotonic()
            if pending_rows and self.case is not None:
                ids = sorted(pending_rows)
                pending_rows.clear()
                self.rows_changed.emit(self.case.evidence_summaries(ids))

        ctx = JobContext(self.workstation, lambda: self.case, self._set_case, progress, ticket.cancel_flag.is_set,
                         lambda item: self.event.emit(ticket.id, item), evidence_changed)
        try:
            result = ticket.job.run(ctx)
        except EngineError as exc:
            self._after(ticket, flush_rows)
            self.failed.emit(ticket.id, exc)
            return
        except Exception as exc:  # a bug: logged with its traceback, shown as one line
            log.exception("unexpected error in %s", ticket.job.title)
            self._after(ticket, flush_rows)
            self.failed.emit(ticket.id, exc)
            return
        self._after(ticket, flush_rows)
        self.finished.emit(ticket.id, result)

    def _after(self, ticket: Ticket, flush_rows: Callable[[], None]) -> None:
        if not self.writer:
            return
        try:
            flush_rows()
            if ticket.job.opens_case:
                self.reader_ready.emit(self.case.reader() if self.case is not None else None)
            if ticket.job.changes_case:
                self.case_changed.emit(self.case.overview() if self.case is not None else None)
        except EngineError as exc:
            log.warning("could not re-read the case after %s: %s", ticket.job.title, exc)

    @Slot()
    def shutdown(self) -> None:
        """Close the case (releasing its writer lock) and end this thread's event loop."""
        self._set_case(None)
        self.stopped.emit()
        thread = QThread.currentThread()
        if thread is not None:
            thread.quit()


class EngineClient(QObject):
    """The GUI thread's side: submits jobs, keeps the queue, turns signals into callbacks."""

    submit_ticket = Signal(object)
    request_shutdown = Signal()
    queue_changed = Signal()  # a job was queued, started or ended
    job_progress = Signal(object, int, int, str)  # ticket, done, total, message
    rows_changed = Signal(object)
    case_changed = Signal(object)
    job_failed = Signal(object, object)  # ticket, exception: for the messages dock

    submit_read = Signal(object)
    attach_reader = Signal(object)
    request_reader_shutdown = Signal()

    def __init__(self, workstation: Workstation, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workstation = workstation
        self._ids = itertools.count(1)
        self.tickets: dict[int, Ticket] = {}  # the writer's, queued and running, in submission order
        self.reads: dict[int, Ticket] = {}  # the reader's
        self.current: Ticket | None = None
        self.thread, self.worker = QThread(), EngineWorker(workstation)
        self.reader_thread, self.reader = QThread(), EngineWorker(workstation, writer=False)
        self.thread.setObjectName("dfw-engine")
        self.reader_thread.setObjectName("dfw-reader")
        self.worker.moveToThread(self.thread)
        self.reader.moveToThread(self.reader_thread)
        self.submit_ticket.connect(self.worker.run)
        self.submit_read.connect(self.reader.run)
        self.attach_reader.connect(self.reader.attach)
        self.request_shutdown.connect(self.worker.shutdown)
        self.request_reader_shutdown.connect(self.reader.shutdown)
        for worker in (self.worker, self.reader):
            worker.started.connect(self._started)
            worker.progress.connect(self._progress)
            worker.event.connect(self._event)
            worker.finished.connect(self._finished)
            worker.failed.connect(self._failed)
        self.worker.rows_changed.connect(self._rows_changed)
        self.worker.case_changed.connect(self._case_changed)
        self.worker.reader_ready.connect(self._reader_ready)
        self.thread.start()
        self.reader_thread.start()

    def submit(self, job: Job, on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None,
               on_event: Callable[[object], None] | None = None) -> Ticket:
        ticket = Ticket(next(self._ids), job, on_done, on_error, on_event)
        if job.reads_only:
            self.reads[ticket.id] = ticket
            self.submit_read.emit(ticket)
            return ticket
        self.tickets[ticket.id] = ticket
        self.submit_ticket.emit(ticket)
        self.queue_changed.emit()
        return ticket

    @property
    def busy(self) -> bool:
        return bool(self.tickets)

    def queued(self) -> list[Ticket]:
        return [t for t in self.tickets.values() if t is not self.current]

    def cancel_all(self) -> None:
        for ticket in [*self.tickets.values(), *self.reads.values()]:
            ticket.cancel()

    def stop(self, timeout_s: float = 30.0) -> bool:
        """Cancel everything, close the case on its threads and join them. True when both ended
        within the time (the pipeline stops within one batch once cancelled)."""
        self.cancel_all()
        deadline = time.monotonic() + timeout_s
        for thread, signal in ((self.reader_thread, self.request_reader_shutdown), (self.thread, self.request_shutdown)):
            if thread.isRunning():
                signal.emit()
                if not thread.wait(max(1, int((deadline - time.monotonic()) * 1000))):
                    return False
        return True

    # -- slots: run on the GUI thread ---------------------------------------------------------
    @Slot(int)
    def _started(self, ticket_id: int) -> None:
        ticket = self.tickets.get(ticket_id)  # reads are quick and not shown in the jobs dock
        if ticket is not None:
            self.current = ticket
            ticket.started_at = time.monotonic()
            self.queue_changed.emit()

    @Slot(int, int, int, str)
    def _progress(self, ticket_id: int, done: int, total: int, message: str) -> None:
        ticket = self.tickets.get(ticket_id)
        if ticket is not None:
            self.job_progress.emit(ticket, done, total, message)

    @Slot(int, object)
    def _event(self, ticket_id: int, item: object) -> None:
        ticket = self._ticket(ticket_id)
        if ticket is not None and ticket.on_event is not None:
            ticket.on_event(item)

    def _ticket(self, ticket_id: int) -> Ticket | None:
        return self.tickets.get(ticket_id) or self.reads.get(ticket_id)

    def _end(self, ticket_id: int) -> Ticket | None:
        read = self.reads.pop(ticket_id, None)
        if read is not None:
            return read
        ticket = self.tickets.pop(ticket_id, None)
        if ticket is not None and self.current is ticket:
            self.current = None
        self.queue_changed.emit()
        return ticket

    @Slot(int, object)
    def _finished(self, ticket_id: int, result: object) -> None:
        ticket = self._end(ticket_id)
        if ticket is not None and ticket.on_done is not None:
            ticket.on_done(result)

    @Slot(int, object)
    def _failed(self, ticket_id: int, error: object) -> None:
        ticket = self._end(ticket_id)
        if ticket is None:
            return
        assert isinstance(error, BaseException)
        self.job_failed.emit(ticket, error)  # every failure reaches the messages dock
        if ticket.on_error is not None:
            ticket.on_error(error)

    @Slot(object)
    def _rows_changed(self, rows: object) -> None:
        self.rows_changed.emit(rows)

    @Slot(object)
    def _case_changed(self, overview: object) -> None:
        self.case_changed.emit(overview)

    @Slot(object)
    def _reader_ready(self, reader: object) -> None:
        self.attach_reader.emit(reader)
