"""The pinned PySide6 / pyqtgraph pair works together: plot, click a point, drag the cursor, grab()."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import PySide6
import pyqtgraph
from PySide6.QtCore import QPointF

from engine.analysis.timeline import build_timeline
from engine.case.records import FrameResult
from gui.timeline import TimelinePanel
from tests.gui.test_viewer import _click

ROOT = Path(__file__).resolve().parents[2]


def test_the_installed_pair_is_the_pinned_pair():
    text = (ROOT / "pyproject.toml").read_text()
    assert re.search(rf'"PySide6-Essentials=={re.escape(PySide6.__version__)}"', text)
    assert re.search(rf'"pyqtgraph=={re.escape(pyqtgraph.__version__)}"', text)


def _timeline(models: int, frames: int):
    rng = np.random.default_rng(0)
    run_models = [{"name": f"m{i}", "meaning": {"judges": "authenticity"}} for i in range(models)]
    rows = [FrameResult(0, 1, 1, f"m{m}", f, f / 25.0, None, [0, 0, 10, 10], {}, float(rng.random()))
            for m in range(models) for f in range(frames)]
    settings = {"face_mode": "off", "verdict": {"threshold": 0.5, "margin": 0.1, "rule": "max", "params": {}}}
    return build_timeline(1, 1, rows, run_models, settings)


def test_plot_click_drag_and_grab(qtbot):
    panel = TimelinePanel()
    qtbot.addWidget(panel)
    panel.resize(900, 300)
    panel.show()
    panel.show_timeline(_timeline(5, 2000), (), "video")
    qtbot.waitUntil(lambda: panel.drawn, timeout=10_000)  # long lines are drawn one per event-loop turn
    assert len(panel.xs) == 2000 and len(panel.plot.listDataItems()) >= 6  # 5 models and the ensemble
    picked = []
    panel.frame_clicked.connect(picked.append)
    point = panel.plot.getViewBox().mapViewToScene(QPointF(panel.x_of(1234), 0.5))
    panel.plot.scene().sigMouseClicked.emit(_click(point))
    assert picked == [1234]
    panel.cursor.setValue(40.03)  # dragged to 40.03 s: the nearest sampled frame is 1001 (40.04 s)
    panel.cursor.sigPositionChangeFinished.emit(panel.cursor)
    assert picked[-1] == 1001
    panel.set_cursor(1500)
    assert panel.cursor.value() == panel.x_of(1500)
    image = panel.grab().toImage()
    assert image.width() >= 900 and image.height() >= 300
    colours = {image.pixelColor(x, image.height() // 2).name() for x in range(0, image.width(), 7)}
    assert len(colours) > 3  # lines were drawn, not a blank widget
    panel.plot.scene().sigMouseMoved.emit(point)
    assert panel.hover.toPlainText().startswith("frame 1234: m0 ")
