"""How long the window's event loop stalls while the engine works behind it, and how fast the
viewer steps.

A 10 ms QTimer heartbeat runs on the GUI thread while, through the window, (1) 200
generated images are added to a case (as a drop of their folder does), (2) a run goes over
a 1080p clip (fixture ViT, 32 frames, overlays on), (3) the viewer steps through 64 sampled
frames of a 1080p clip with an overlay on, and (4) a timeline of 5 models × 2,000 frames is
drawn and hovered across. Every gap between two ticks beyond the 10 ms period is time the
window could not answer. Prints the longest gap and the 99th percentile per phase, the
viewer's time per step (median and longest, target ≤ 100 ms), and last, exactly:

    gui max event-loop stall: N ms (p99 M ms)

Target: N ≤ 50. Needs no torch (the fixture models are ONNX files in tests/fixtures).

Run: QT_QPA_PLATFORM=offscreen python bench/bench_gui.py [--images 200] [--frames 32]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
PERIOD_MS = 10
TARGET_MS = 50.0
STEP_TARGET_MS = 100.0
STEP_FRAMES = 64


class Heartbeat:
    """Ticks every PERIOD_MS on the GUI thread and keeps the gaps between ticks."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []
        self.last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(PERIOD_MS)
        self.timer.timeout.connect(self.tick)

    def tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self.last) * 1000.0)
        self.last = now

    def start(self) -> None:
        self.gaps.clear()
        self.last = time.perf_counter()
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return list(self.gaps)


def stall(gaps: list[float]) -> tuple[float, float]:
    """(longest, 99th percentile) time beyond the heartbeat's own period, in ms."""
    if not gaps:
        return 0.0, 0.0
    over = sorted(max(0.0, g - PERIOD_MS) for g in gaps)
    return over[-1], over[min(len(over) - 1, int(round(0.99 * (len(over) - 1))))]


def make_images(folder: Path, count: int) -> None:
    import cv2
    import numpy as np

    folder.mkdir(parents=True)
    rng = np.random.default_rng(7)
    for index in range(count):
        picture = cv2.GaussianBlur(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8), (0, 0), 3)
        cv2.imwrite(str(folder / f"image_{index:04d}.png"), picture)


def make_clip(path: Path, seconds: int = 8, fps: int = 25) -> None:
    import cv2
    import numpy as np

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (1920, 1080))
    base = cv2.GaussianBlur(np.random.default_rng(3).integers(0, 255, (1080, 1920, 3), dtype=np.uint8), (0, 0), 5)
    for index in range(seconds * fps):
        writer.write(np.roll(base, index * 8, axis=1))
    writer.release()


def wait(app, until: Callable[[], bool], timeout: float = 900.0) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        app.processEvents()
        time.sleep(0.002)
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not finish in time")


def step_through(app, window, clip: int, heartbeat: Heartbeat, results: dict, wait) -> list[float]:
    """Analyse 64 frames of the clip with overlays, then step through them in the viewer."""
    from engine.api import AnalysisJob

    idle = lambda: not window.engine.busy and not window.engine.reads  # noqa: E731
    window.start_analysis(AnalysisJob(models=("vit",), evidence_ids=(clip,), frames_per_clip=STEP_FRAMES,
                                      explain=True, face_mode="off", provider="cpu", allow_test_fixtures=True))
    wait(app, idle)
    window.case_panel.select(clip)
    wait(app, lambda: window.item_view is not None and len(window.item_view.frames) >= STEP_FRAMES
         and window.viewer.bundle is not None)
    wait(app, idle)
    frames = window.item_view.frames
    steps = []
    heartbeat.start()
    started = time.perf_counter()
    for frame in frames[1:]:
        begun = time.perf_counter()
        window.viewer.next()
        wait(app, lambda f=frame: window.viewer.bundle is not None and window.viewer.bundle.frame_index == f)
        app.processEvents()  # drawn
        steps.append((time.perf_counter() - begun) * 1000.0)
    results["steps"] = (heartbeat.stop(), time.perf_counter() - started)
    return steps


def timeline_phase(app, heartbeat: Heartbeat, results: dict, wait) -> None:
    from PySide6.QtCore import QPointF

    from engine.analysis.timeline import build_timeline
    from engine.case.records import FrameResult
    from gui.timeline import TimelinePanel

    import numpy as np

    rng = np.random.default_rng(0)
    models = [{"name": f"model {i}", "meaning": {"judges": "authenticity"}} for i in range(5)]
    rows = [FrameResult(0, 1, 1, f"model {m}", f, f / 25.0, None, [0, 0, 10, 10], {}, float(rng.random()))
            for m in range(5) for f in range(2000)]
    settings = {"face_mode": "off", "verdict": {"threshold": 0.5, "margin": 0.1, "rule": "max", "params": {}}}
    timeline = build_timeline(1, 1, rows, models, settings)
    panel = TimelinePanel()
    panel.resize(1400, 320)
    panel.show()
    app.processEvents()
    heartbeat.start()
    started = time.perf_counter()
    panel.show_timeline(timeline, (), "video")
    wait(app, lambda: panel.drawn)
    app.processEvents()
    for step in range(200):
        point = panel.plot.getViewBox().mapViewToScene(QPointF(step * 0.4, 0.5))
        panel.plot.scene().sigMouseMoved.emit(point)
        app.processEvents()
    results["timeline"] = (heartbeat.stop(), time.perf_counter() - started)
    panel.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--frames", type=int, default=32)
    args = parser.parse_args()

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from engine.api import AnalysisJob, Workstation
    from gui.jobs import CreateCase
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    work = Path(tempfile.mkdtemp(prefix="dfw-bench-gui-"))
    try:
        print(f"making {args.images} images and a 1080p clip …", flush=True)
        make_images(work / "images", args.images)
        make_clip(work / "clip_1080p.mp4")
        home = work / "home"
        Workstation(home).import_model(ROOT / "tests" / "fixtures" / "models" / "vit_optimum", name="vit",
                                       allow_test_fixture=True)
        settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(str(home), None, settings, allow_test_fixtures=True)
        window.resize(1600, 1000)
        window.show()
        idle = lambda: not window.engine.busy and not window.engine.reads  # noqa: E731
        wait(app, idle)
        window.engine.submit(CreateCase(str(work / "bench.dfwcase"), "Bench", "Bench"))
        wait(app, lambda: window.overview is not None)
        wait(app, idle)
        heartbeat = Heartbeat()
        results = {}

        heartbeat.start()
        started = time.perf_counter()
        window.add_paths([str(work / "images")])
        wait(app, lambda: idle() and len(window.evidence_model.summaries()) >= args.images)
        results["add"] = (heartbeat.stop(), time.perf_counter() - started)

        window.add_paths([str(work / "clip_1080p.mp4")])
        wait(app, idle)
        clip = next(s.evidence.id for s in window.evidence_model.summaries() if s.evidence.media_kind == "video")
        window.case_panel.select(clip)
        wait(app, idle)
        heartbeat.start()
        started = time.perf_counter()
        window.start_analysis(AnalysisJob(models=("vit",), evidence_ids=(clip,), frames_per_clip=args.frames,
                                          explain=True, face_mode="off", provider="cpu", allow_test_fixtures=True))
        wait(app, idle)
        results["run"] = (heartbeat.stop(), time.perf_counter() - started)
        assert window.overview is not None and window.overview.runs[-1].status == "completed"
        steps = step_through(app, window, clip, heartbeat, results, wait)
        timeline_phase(app, heartbeat, results, wait)
        window.shutdown()

        median, slowest = sorted(steps)[len(steps) // 2], max(steps)
        print(f"viewer: {len(steps)} steps with an overlay on, median {median:.0f} ms, longest {slowest:.0f} ms per step "
              f"({slowest / STEP_TARGET_MS:.2f} of the {STEP_TARGET_MS:.0f} ms target)")
        everything: list[float] = []
        names = {"add": f"add {args.images} images", "run": f"run on a 1080p clip, {args.frames} frames",
                 "steps": "stepping 64 frames", "timeline": "timeline of 5 models × 2,000 frames, drawn and hovered"}
        for phase, (gaps, seconds) in results.items():
            longest, p99 = stall(gaps)
            what = names[phase]
            print(f"{what}: {seconds:.1f} s, {len(gaps)} ticks, longest stall {longest:.0f} ms, p99 {p99:.0f} ms "
                  f"({longest / TARGET_MS:.2f} of the {TARGET_MS:.0f} ms target)")
            everything += gaps
        longest, p99 = stall(everything)
        print(f"gui max event-loop stall: {longest:.0f} ms (p99 {p99:.0f} ms)")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
