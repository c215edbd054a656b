"""ordered_parallel: results in item order, errors in place, nothing left running after close."""

from __future__ import annotations

import random
import threading
import time

import pytest

from engine.util.parallel import ordered_parallel


def _squares(delays: dict[int, float], opened: list[str], closed: list[str]):
    def work(chunk, stopped):
        opened.append(threading.current_thread().name)
        try:
            for item in chunk:
                if stopped():
                    return
                time.sleep(delays.get(item, 0.0))
                yield (item, item * item, threading.current_thread().name)
        finally:
            closed.append(threading.current_thread().name)
    return work


@pytest.mark.parametrize("workers", [1, 2, 3, 8])
def test_results_come_back_in_item_order_whatever_the_timing(workers):
    rng = random.Random(workers)
    items = list(range(17))
    delays = {i: rng.random() * 0.01 for i in items}
    opened, closed = [], []
    results = list(ordered_parallel(items, _squares(delays, opened, closed), workers))
    assert [r[:2] for r in results] == [(i, i * i) for i in items]
    assert len(opened) == len(closed) == min(workers, len(items))
    threads = {r[2] for r in results}
    if workers == 1:
        assert threads == {threading.current_thread().name}  # no thread for one worker
    else:
        assert len(threads) == workers


def test_workers_really_run_at_the_same_time():
    # Every worker waits for all the others before its first result: without true
    # concurrency the barrier would break (and raise) instead of opening.
    barrier = threading.Barrier(4, timeout=10)

    def work(chunk, stopped):
        barrier.wait()
        yield from chunk
    assert list(ordered_parallel(list(range(8)), work, 4)) == list(range(8))


def test_an_error_is_raised_at_its_item_after_the_results_before_it():
    def work(chunk, stopped):
        for item in chunk:
            if item == 5:
                raise ValueError("item 5 is bad")
            yield item
    got = []
    with pytest.raises(ValueError, match="item 5"):
        for value in ordered_parallel(list(range(10)), work, 3):
            got.append(value)
    assert got == [0, 1, 2, 3, 4]
    assert not [t for t in threading.enumerate() if t.name.startswith("dfw-worker")]


def test_closing_early_stops_and_joins_every_worker_and_runs_their_cleanup():
    opened, closed = [], []
    generator = ordered_parallel(list(range(100)), _squares({}, opened, closed), 4, name="dfw-test-close")
    assert next(generator)[0] == 0
    generator.close()
    assert sorted(opened) == sorted(closed) and len(closed) == 4
    assert not [t for t in threading.enumerate() if t.name.startswith("dfw-test-close")]


def test_a_worker_that_yields_too_few_results_is_an_error():
    def short(chunk, stopped):
        yield from chunk[:-1]
    with pytest.raises(RuntimeError, match="results for"):
        list(ordered_parallel(list(range(6)), short, 2))
    with pytest.raises(RuntimeError, match="results for"):
        list(ordered_parallel(list(range(6)), short, 1))


def test_no_items_and_more_workers_than_items():
    assert list(ordered_parallel([], lambda chunk, stopped: iter(chunk), 4)) == []
    assert list(ordered_parallel([7], lambda chunk, stopped: iter(chunk), 4)) == [7]
