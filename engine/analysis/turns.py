"""Taking turns for the cores: decoding and inference do not run at once on a CPU run that
would otherwise have more busy threads than the machine has cores.

onnxruntime splits every operator across all its threads and waits for the slowest. When
decoder threads run at the same time on the same cores, one of those threads is pushed off
its core mid-operator and the others wait for it, and the caches are thrashed as well: on
the bench's 2-core machine a 1080p clip with ViT-B/16 spent 13 % more CPU on inference that
way than on the same batches alone (bench/bench_pipeline.py). Taking turns (the decoders
fill a batch using every core, then inference runs it using every core) does the same work
without the contention. A GPU run, or a machine with cores to spare for the decoders, keeps
decoding and inference overlapped (turns disabled: both calls cost nothing).
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Callable, Iterator

_POLL_S = 0.05  # how often a waiting decoder looks at its stop flag
# Inference waits at most this long for decodes already under way: a decoder stuck in a
# hostile file must not stall the run (it then merely overlaps, as without turns).
_DRAIN_TIMEOUT_S = 2.0


def should_take_turns(on_cpu: bool, inference_threads: int, decode_workers: int, cpus: int | None = None) -> bool:
    """Whether decoding and inference should take turns: only when both run on the CPU and
    their threads together would outnumber the logical CPUs."""
    cpus = cpus or os.cpu_count() or 1
    return on_cpu and inference_threads + decode_workers > cpus


class CpuTurns:
    """Shared by the pipeline (which runs inference) and the feeder's decoders."""

    def __init__(self, enabled: bool = False) -> None:
        self.enabled = enabled  # may be set once the sessions show where inference really runs
        self._changed = threading.Condition()
        self._inferring = False
        self._decoding = 0  # decode steps under way

    @contextlib.contextmanager
    def inference(self) -> Iterator[None]:
        """Hold the cores for inference: no new decode step starts, and the ones under way
        finish first (they make frames the next batch needs anyway)."""
        if not self.enabled:
            yield
            return
        with self._changed:
            self._inferring = True
            self._changed.wait_for(lambda: self._decoding == 0, timeout=_DRAIN_TIMEOUT_S)
        try:
            yield
        finally:
            with self._changed:
                self._inferring = False
                self._changed.notify_all()

    @contextlib.contextmanager
    def decoding(self, stopped: Callable[[], bool] | None = None) -> Iterator[None]:
        """One decode step (a frame, a face search, a preprocess): starts when inference does
        not hold the cores, or at once when `stopped()` is true (a cancelled run never waits)."""
        if not self.enabled:
            yield
            return
        with self._changed:
            while self._inferring and not (stopped is not None and stopped()):
                self._changed.wait(_POLL_S)
            self._decoding += 1
        try:
            yield
        finally:
            with self._changed:
                self._decoding -= 1
                self._changed.notify_all()
