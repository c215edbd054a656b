"""One progress bar for a whole export: verifying, collecting, rendering, writing.

An export is four stages of very different length, and each reports in its own units (files
verified, items gathered, items laid out). `ReportProgress` gives each stage a callable that
takes the stage's own (done, total) and reports it on one scale for the whole export, with the
stage named first in the message ("collecting: interview 3.mp4"), so a bar moves from start
to end once and says what it is doing, in the CLI and in the window alike.
"""

from __future__ import annotations

from engine.util.progress import Progress

STAGES = ("verifying", "collecting", "rendering", "writing")
# Shares of the bar, in units per item (writing is one unit whatever the size): gathering an
# item re-decodes its frames and draws its charts, the slowest part of a report.
_WEIGHTS = {"verifying": 1, "collecting": 3, "rendering": 1, "writing": 0}


class ReportProgress:
    """Stage callables over one `progress(done, total, message)`; silent when it is None."""

    def __init__(self, progress: Progress | None, items: int) -> None:
        self._progress = progress
        items = max(1, items)
        self._spans: dict[str, tuple[int, int]] = {}
        start = 0
        for stage in STAGES:
            width = max(1, _WEIGHTS[stage] * items)
            self._spans[stage] = (start, width)
            start += width
        self.total = start
        self._last = 0

    def stage(self, name: str) -> Progress:
        """The callable for stage `name`: its (done, total) map onto that stage's share."""
        start, width = self._spans[name]

        def report(done: int, total: int, message: str = "") -> None:
            share = min(1.0, max(0.0, done / total)) if total > 0 else 0.0
            self._emit(start + int(share * width), f"{name}: {message}" if message else name)

        return report

    def enter(self, name: str, message: str = "") -> None:
        """Stage `name` begins."""
        self.stage(name)(0, 1, message)

    def finish(self) -> None:
        self._emit(self.total, "written")

    def _emit(self, done: int, message: str) -> None:
        if self._progress is None:
            return
        self._last = max(self._last, done)  # a bar never runs backwards
        self._progress(self._last, self.total, message)
