"""Window tests: an isolated settings file and app home per test, and no thread left running.

Every test that makes a window gets it from `make_window`, which shuts the window down at the
end (cancelling jobs and joining the engine, reader and thumbnail threads) and fails the test
if any QThread is still running afterwards, so a leak shows in the test that caused it.
"""

from __future__ import annotations

import gc
import os
import shutil
from pathlib import Path

import cv2
import pytest
from PySide6.QtCore import QEvent, QSettings, QThread

from engine.api import Workstation
from tests.engine.conftest import IMAGES, MODELS
from tests.engine.media.synth import face_image, make_face_clip

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def running_threads() -> list[QThread]:
    return [obj for obj in gc.get_objects() if isinstance(obj, QThread) and obj.isRunning()]


@pytest.fixture(autouse=True)
def no_thread_left_running():
    before = set(map(id, running_threads()))
    yield
    left = [t for t in running_threads() if id(t) not in before]
    for thread in left:  # stop them so one leak does not break the next tests
        thread.quit()
        thread.wait(5000)
    assert not left, f"threads left running: {[t.objectName() for t in left]}"


@pytest.fixture(autouse=True)
def widgets_deleted_while_qt_lives(qapp):
    """Delete each test's widgets before the next test, while the QApplication still exists:
    Qt and pyqtgraph objects left for the interpreter's last garbage collection can crash it."""
    yield
    for widget in qapp.topLevelWidgets():
        widget.deleteLater()
    qapp.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def home(tmp_path) -> Path:
    """An app home holding the four fixture models (random weights: their scores mean nothing)."""
    path = tmp_path / "home"
    workstation = Workstation(path)
    for name in ("vit_optimum", "timm_vit", "vit_quality_tfjs"):
        workstation.import_model(MODELS / name, name=name, allow_test_fixture=True)
    return path


@pytest.fixture
def media(tmp_path) -> dict[str, Path]:
    folder = tmp_path / "evidence"
    folder.mkdir()
    face = folder / "face.png"
    cv2.imwrite(str(face), face_image())
    shutil.copy(IMAGES / "rgb_640x480.jpg", folder / "photo.jpg")
    shutil.copy(IMAGES / "gray_257x129.png", folder / "gray.png")
    make_face_clip(folder / "clip.mp4", n_frames=20, fps=10.0)
    return {"folder": folder, "face": face, "photo": folder / "photo.jpg", "gray": folder / "gray.png",
            "clip": folder / "clip.mp4"}


@pytest.fixture
def make_window(qtbot, settings):
    from gui.main_window import MainWindow

    made = []

    def make(home: Path | None = None, case_path: str | None = None, allow_test_fixtures: bool = True) -> MainWindow:
        window = MainWindow(str(home) if home else None, case_path, settings, allow_test_fixtures)
        qtbot.addWidget(window)
        window.show()
        made.append(window)
        return window

    yield make
    for window in made:
        assert window.shutdown(), "the engine thread did not stop in time"
        assert not window.engine.thread.isRunning() and not window.engine.reader_thread.isRunning()
        assert not window.thumbnails.thread.isRunning()
