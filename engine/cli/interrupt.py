"""Ctrl-C during a long command: the first asks the engine to stop after the batch in hand
(so what is scored is stored, with a checkpoint inside a long clip), the second stops at once."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from typing import Any, Iterator

from engine.cli.output import print_above


@contextlib.contextmanager
def first_ctrl_c_cancels(what: str) -> Iterator[threading.Event]:
    """An event set by the first Ctrl-C (pass `event.is_set` as the engine's is_cancelled);
    the second raises KeyboardInterrupt as usual. Off the main thread, signals cannot be
    caught, and only the event is given."""
    asked = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield asked
        return

    def on_ctrl_c(signum: int, frame: Any) -> None:
        if asked.is_set():
            raise KeyboardInterrupt
        asked.set()
        print_above(f"stopping {what} after the batch in hand, keeping what is done (Ctrl-C again to stop at once)",
                    sys.stderr)

    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        yield asked
    finally:
        signal.signal(signal.SIGINT, previous)
