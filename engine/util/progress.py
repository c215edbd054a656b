"""The two plain callables every long engine operation takes instead of knowing its caller.

`progress(done, total, message)` reports; `is_cancelled()` is polled between units of work.
The CLI turns the first into a progress bar; the window's engine thread turns both into
signals and a thread-safe flag. Nothing here knows about either.
"""

from __future__ import annotations

from typing import Callable

Progress = Callable[[int, int, str], None]
IsCancelled = Callable[[], bool]


def never_cancelled() -> bool:
    return False


def report(progress: Progress | None, done: int, total: int, message: str = "") -> None:
    if progress is not None:
        progress(done, total, message)
