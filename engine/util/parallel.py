"""Run one generator per worker thread over a list, and get the results back in list order.

Items are dealt round-robin (item i to worker i % P) and every worker yields exactly one result
per item it was given, so the caller can read results in the original order while all workers
stay busy with only a small buffer each. The callers are decoders that release the GIL (OpenCV
decoding), which is what makes threads worth having. An exception in a worker is raised to the
caller at the position of the item that raised it; closing the returned generator stops every
worker and waits for it, so no thread outlives the call and whatever a worker holds open (a
video capture) is released before this returns.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

Work = Callable[[Sequence[T], Callable[[], bool]], Iterator[R]]

_DONE = object()


class _Raised:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def ordered_parallel(items: Sequence[T], work: Work, workers: int, *, buffer: int = 2,
                     name: str = "dfw-worker") -> Iterator[R]:
    """Yield work(...)'s results for `items` in their order, computed by up to `workers` threads.

    `work(chunk, stopped)` must yield one result per item of `chunk`, in order, and should
    return soon after `stopped()` turns true. With one worker (or one item) it runs in the
    calling thread.
    """
    workers = max(1, min(int(workers), len(items)))
    if workers == 1:
        yield from _checked(work(items, lambda: False), len(items))
        return
    stop = threading.Event()
    outboxes: list[queue.Queue] = [queue.Queue(maxsize=max(1, buffer)) for _ in range(workers)]

    def put(box: queue.Queue, value: object) -> bool:
        while not stop.is_set():
            try:
                box.put(value, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def run(index: int) -> None:
        box = outboxes[index]
        try:
            for result in _checked(work(items[index::workers], stop.is_set), len(items[index::workers])):
                if not put(box, result):
                    return
        except BaseException as error:  # handed to the caller, raised there in order
            put(box, _Raised(error))
            return
        put(box, _DONE)

    threads = [threading.Thread(target=run, args=(i,), name=f"{name}-{i}", daemon=True) for i in range(workers)]
    for thread in threads:
        thread.start()
    try:
        for position in range(len(items)):
            value = outboxes[position % workers].get()
            if isinstance(value, _Raised):
                raise value.error
            if value is _DONE:
                raise RuntimeError("a worker ended before yielding a result for each of its items")
            yield value
    finally:
        stop.set()
        for box in outboxes:  # unblock workers waiting to put
            while True:
                try:
                    box.get_nowait()
                except queue.Empty:
                    break
        for thread in threads:
            thread.join()


def _checked(results: Iterator[R], expected: int) -> Iterator[R]:
    count = 0
    try:
        for result in results:
            count += 1
            yield result
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()
    if count != expected:
        raise RuntimeError(f"a worker yielded {count} results for {expected} items")
