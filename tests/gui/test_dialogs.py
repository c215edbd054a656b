"""The window's dialogs driven as an analyst would: analyze, import with the meaning asked, the
model manager, closing during a run, and what the program says when it cannot open a window."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtCore import Qt

from engine.api import RunStatus, Workstation
from gui.display import XCB_LIBRARIES, display_problem, missing_xcb_libraries, xcb_library_path
from gui.dialogs.analyze import AnalyzeDialog
from gui.dialogs.model_import import BareModelDialog, ConfirmImportDialog, MeaningDialog
from gui.menus import shortcut_table
from main import window_request
from tests.engine.conftest import MODELS, ROOT, make_linear_classifier
from tests.gui.test_window import TIMEOUT, wait_idle


def open_case(qtbot, make_window, home, media, tmp_path, name="c.dfwcase"):
    case_path = tmp_path / name
    with Workstation(home).create_case(case_path, title="Dialogs", examiner="Ann") as case:
        case.add_evidence([media["folder"]])
    window = make_window(home, str(case_path))
    qtbot.waitUntil(lambda: window.overview is not None, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    return window


def test_the_analyze_dialog_builds_the_job_and_remembers_the_choices(qtbot, make_window, home, media, tmp_path):
    window = open_case(qtbot, make_window, home, media, tmp_path)
    seen = {}

    def choose(dialog):
        assert isinstance(dialog, AnalyzeDialog)
        names = [dialog.table.item(r, 0).text().split()[0] for r in range(dialog.table.rowCount())]
        assert names == ["timm_vit", "vit_optimum", "vit_quality_tfjs"]
        assert "never in a verdict" in dialog.table.item(2, 1).text()
        assert not dialog.weight_boxes[2].isEnabled()  # a quality grader has no ensemble weight
        for row in range(3):  # only vit_optimum, faces off, 3 frames
            wanted = names[row] == "vit_optimum"
            dialog.table.item(row, 0).setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)
        dialog.frames.setValue(3)
        dialog.faces.setCurrentIndex(dialog.faces.findData("off"))
        dialog.provider.setCurrentIndex(dialog.provider.findData("cpu"))
        assert dialog.provider.model().item(dialog.provider.findData("directml")).isEnabled() is False
        seen["job"] = dialog.request().job
        return True

    window.run_dialog = choose
    window.actions_by_name["analyze_all"].trigger()
    wait_idle(qtbot, window)
    job = seen["job"]
    assert [m.name for m in job.models] == ["vit_optimum"] and job.frames_per_clip == 3 and job.face_mode == "off"
    assert window.overview.runs[-1].status == RunStatus.COMPLETED
    assert window.overview.runs[-1].run.settings["frames_per_clip"] == 3
    choices = window.settings.run_choices()
    assert choices.models == ("vit_optimum",) and choices.frames_per_clip == 3 and choices.face_mode == "off"


def test_the_analyze_dialog_offers_imported_face_detectors(qtbot, make_window, home, media, tmp_path):
    from tests.engine.media.centerface_fixture import centerface_onnx

    Workstation(home).import_face_detector(centerface_onnx(), name="cf")
    window = open_case(qtbot, make_window, home, media, tmp_path)
    seen = {}

    def choose(dialog):
        offered = [dialog.detector.itemData(i) for i in range(dialog.detector.count())]
        assert offered == [None, "cf"] and dialog.detector.isEnabled()
        assert dialog.request().job.face_detector is None  # the built-in detector unless one is chosen
        dialog.detector.setCurrentIndex(1)
        seen["job"] = dialog.request().job
        return False

    window.run_dialog = choose
    window.actions_by_name["analyze_all"].trigger()
    assert seen["job"].face_detector == "cf" and seen["job"].yunet_path is None


def test_closing_during_a_run_asks_and_quitting_leaves_it_resumable(qtbot, make_window, home, media, tmp_path):
    window = open_case(qtbot, make_window, home, media, tmp_path)
    from engine.api import AnalysisJob, ItemScored
    from gui.jobs import Analyze

    heard = []
    window.engine.submit(Analyze(AnalysisJob(models=("vit_optimum",), provider="cpu", allow_test_fixtures=True,
                                             batch_size=1)), on_event=heard.append)
    qtbot.waitUntil(lambda: any(isinstance(e, ItemScored) for e in heard), timeout=TIMEOUT)
    asked = []
    window.confirm = lambda title, text: asked.append(title) or False
    window.close()
    assert asked == ["A job is running"] and window.isVisible()  # kept working
    window.confirm = lambda title, text: True
    window.close()
    assert not window.engine.thread.isRunning()
    with Workstation(home).open_case(window.overview.path, readonly=True) as case:
        (run,) = case.overview().runs
        assert run.status == RunStatus.CANCELLED and run.status.resumable


def test_import_asks_what_unclear_labels_mean_and_confirms(qtbot, make_window, tmp_path):
    window = make_window(tmp_path / "home")
    wait_idle(qtbot, window)
    onnx = make_linear_classifier(tmp_path / "pets.onnx", size=8)
    asked = []

    def answer(dialog):
        asked.append(type(dialog).__name__)
        if isinstance(dialog, BareModelDialog):
            dialog.labels.setText("cat, dog")
            dialog.size.setValue(8)
        elif isinstance(dialog, MeaningDialog):
            dog = next(button for button, label in dialog.choices if label == "dog")
            dog.setChecked(True)
        elif isinstance(dialog, ConfirmImportDialog):
            dialog.name.setText("pets")
        return True

    window.run_dialog = answer
    window.import_model_path(str(onnx))
    qtbot.waitUntil(lambda: any(m.name == "pets" for m in window.models), timeout=TIMEOUT)
    assert asked == ["BareModelDialog", "MeaningDialog", "ConfirmImportDialog"]
    (pets,) = [m for m in window.models if m.name == "pets"]
    assert pets.manipulated_labels == ("dog",) and pets.meaning_source == "stated by the user"


def test_the_model_manager_verifies_and_fixtures_stay_hidden_unless_allowed(qtbot, make_window, home):
    window = make_window(home, allow_test_fixtures=False)
    wait_idle(qtbot, window)
    assert window.offered_models() == [] and window.models_table().rowCount() == 0
    (home / "models" / "vit_optimum" / "config.json").write_text("{}")
    window.allow_test_fixtures = True
    window.refresh_models()
    wait_idle(qtbot, window)
    window.show_model_manager()
    manager = window.model_manager
    assert manager.table.model().rowCount() == 3
    manager.table.selectRow([m.name for m in window.offered_models()].index("vit_optimum"))
    manager.buttons["verify"].click()
    wait_idle(qtbot, window)
    files = manager.table.model().index(manager.table.currentIndex().row(), 7).data()
    assert files.startswith("CHANGED") and "config.json" in files
    assert not manager.buttons["int8"].isEnabled()  # no case open: no calibration evidence
    manager.close()


def test_the_model_manager_makes_an_openvino_variant_the_analyze_dialog_offers(qtbot, make_window, home, media,
                                                                               tmp_path):
    from engine.models.openvino_runtime import cpu_has_bf16

    window = open_case(qtbot, make_window, home, media, tmp_path)
    window.show_model_manager()
    manager = window.model_manager
    manager.table.selectRow([m.name for m in window.offered_models()].index("vit_optimum"))
    assert manager.buttons["openvino"].isEnabled() and "bfloat16" in manager.buttons["openvino"].toolTip()
    manager.buttons["openvino"].click()
    wait_idle(qtbot, window)
    manager.close()
    notice = window.last_notice
    if not cpu_has_bf16():
        assert notice.windowTitle() == "OpenVINO bf16 variant refused" and "no bf16 support" in notice.text()
        return
    assert notice.windowTitle() == "Validated OpenVINO bf16 variant", notice.text()
    qtbot.waitUntil(lambda: "openvino-bf16" in next(m for m in window.models if m.name == "vit_optimum").quantization,
                    timeout=TIMEOUT)

    def choose(dialog):
        row = [dialog.table.item(r, 0).text().split()[0] for r in range(dialog.table.rowCount())].index("vit_optimum")
        for other in range(dialog.table.rowCount()):
            dialog.table.item(other, 0).setCheckState(Qt.CheckState.Checked if other == row else Qt.CheckState.Unchecked)
        box = dialog.variant_boxes[row]
        assert box.findData("openvino-bf16") >= 0 and box.itemText(box.findData("openvino-bf16")).endswith("(validated)")
        box.setCurrentIndex(box.findData("openvino-bf16"))
        dialog.faces.setCurrentIndex(dialog.faces.findData("off"))
        dialog.frames.setValue(2)
        return True

    window.run_dialog = choose
    window.actions_by_name["analyze_all"].trigger()
    wait_idle(qtbot, window)
    run = window.overview.runs[-1]
    assert run.status == RunStatus.COMPLETED
    (model,) = run.run.models
    assert model["name"] == "vit_optimum:openvino-bf16" and model["runtime"].startswith("openvino ")
    assert model["precision"] == "bf16"


def test_shortcuts_are_listed_and_the_command_line_picks_the_window():
    keys = dict(shortcut_table())
    for shortcut in ("Ctrl+N", "Ctrl+O", "Ctrl+W", "Ctrl+I", "Ctrl+Shift+I", "F5", "Shift+F5", "Ctrl+E",
                     "Ctrl+Shift+V", "Ctrl+M", "Ctrl+Q", "F1", "Esc"):
        assert shortcut in keys, shortcut
    assert window_request([]) == (None, None)
    assert window_request(["--home", "/h"]) == ("/h", None)
    assert window_request(["--home", "/h", "x.dfwcase"]) == ("/h", "x.dfwcase")
    assert window_request(["case.DFWCASE"]) == (None, "case.DFWCASE")
    assert window_request(["case", "show", "x.dfwcase"]) is None and window_request(["--version"]) is None


def _cannot_load(path):
    raise OSError(f"libxcb-icccm.so.4: cannot open shared object file (loading {path})")


@pytest.mark.parametrize("environ, missing, expected", [
    ({}, set(), "no display"),
    ({"DISPLAY": ":0"}, {"xcb-icccm", "xcb-keysyms"}, "sudo apt install libxcb-icccm4 libxcb-keysyms1)"),
    ({"DISPLAY": ":0"}, set(XCB_LIBRARIES), "libxcb-cursor0"),
    ({"DISPLAY": ":0"}, set(), "cannot load (libxcb-icccm.so.4"),  # found by name, yet not loadable
    ({"QT_QPA_PLATFORM": "offscreen"}, set(XCB_LIBRARIES), None),
])
def test_what_is_missing_for_a_window_is_said_in_one_line(environ, missing, expected):
    def find(name):
        return None if name in missing else f"lib{name}.so"

    problem = display_problem(environ, "linux", find, _cannot_load)
    assert (problem is None) if expected is None else (expected in problem and "headless" in problem)
    assert display_problem({"DISPLAY": ":0"}, "linux", find, lambda path: None) is None
    assert display_problem({}, "win32") is None


def test_the_display_check_loads_the_real_xcb_plugin_library():
    # Whatever this machine has, the real check agrees with the loader: None when Qt's xcb
    # library loads, else the packages of exactly the libraries the system cannot find.
    import ctypes

    assert xcb_library_path().is_file()
    try:
        ctypes.CDLL(str(xcb_library_path()))
        loads = True
    except OSError:
        loads = False
    problem = display_problem({"DISPLAY": ":0"}, "linux")
    assert (problem is None) == loads
    if problem is not None:
        missing = missing_xcb_libraries()
        assert (" ".join(missing) in problem) if missing else ("cannot load" in problem)


def test_main_without_a_display_prints_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["DFW_HOME"] = str(tmp_path / "home")
    result = subprocess.run([sys.executable, str(ROOT / "main.py")], env=env, capture_output=True, text=True,
                            timeout=60, cwd=ROOT)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot open the window" in lines[0] and "headless" in lines[0]


def test_about_lists_the_versions(qtbot, make_window, tmp_path):
    from gui.dialogs.help import about_facts

    facts = dict(about_facts())
    assert {"PySide6", "Qt", "onnxruntime", "OpenCV", "NumPy", "Python", "Build"} <= set(facts)
    assert "cpu" in facts["onnxruntime"] and facts["Build"] == "from source"
    window = make_window(tmp_path / "home")
    window.actions_by_name["about"].trigger()
    assert window.last_dialog.windowTitle() == "About"
    window.last_dialog.close()
    assert MODELS.is_dir()


def test_an_unexpected_error_is_logged_with_its_traceback_and_shown_as_one_line(qtbot, make_window, tmp_path, caplog):
    import sys

    from gui.app import _install_excepthook

    window = make_window(tmp_path / "home")
    saved = sys.excepthook
    try:
        _install_excepthook(window)
        try:
            raise RuntimeError("a bug in a slot\nwith a second line")
        except RuntimeError:
            sys.excepthook(*sys.exc_info())
    finally:
        sys.excepthook = saved
    (line,) = [m for m in window.messages.messages() if "unexpected RuntimeError" in m.text]
    assert line.level == "error" and "test_dialogs.py line" in line.text and "log file" in line.text
    assert any(r.exc_info and r.exc_info[0] is RuntimeError for r in caplog.records)


def test_the_self_test_runs_from_the_help_menu_and_shows_each_step(qtbot, make_window, tmp_path):
    from gui.dialogs.selftest import SelfTestDialog

    window = make_window(tmp_path / "home")
    window.actions_by_name["self_test"].trigger()
    qtbot.waitUntil(lambda: isinstance(getattr(window, "last_dialog", None), SelfTestDialog), timeout=120_000)
    dialog = window.last_dialog
    assert dialog.windowTitle() == "Self-test passed"
    text = dialog.browser.toPlainText()
    for step in ("tiny models", "analyze with overlays", "PDF report", "clean up"):
        assert step in text
    assert "ran on cpu" in text.replace("\n", " ")
    assert any("self-test passed" in m.text for m in window.messages.messages())
    assert not (tmp_path / "home" / "models").exists() or not any((tmp_path / "home" / "models").iterdir())
    dialog.close()
