"""What the spec keeps and drops, and which requirements each flavour installs, without a build."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))

import bundle_rules as rules
import flavour_requirements as flavours

PLUGINS = "PySide6/Qt/plugins"


@pytest.mark.parametrize("dest, platform, kept", [
    (f"{PLUGINS}/platforms/libqxcb.so", "linux", True),
    (f"{PLUGINS}/platforms/libqoffscreen.so", "linux", True),
    (f"{PLUGINS}/platforms/libqwayland.so", "linux", False),
    (f"{PLUGINS}/platforms/libqvnc.so", "linux", False),
    (f"{PLUGINS}/imageformats/libqjpeg.so", "linux", True),
    (f"{PLUGINS}/platformthemes/libqgtk3.so", "linux", False),
    (f"{PLUGINS}/platforminputcontexts/libqtvirtualkeyboardplugin.so", "linux", False),
    (f"{PLUGINS}/qmltooling/libqmldbg_debugger.so", "linux", False),
    ("PySide6\\Qt\\plugins\\platforms\\qwindows.dll", "win32", True),
    ("PySide6\\Qt\\plugins\\styles\\qmodernwindowsstyle.dll", "win32", True),
    ("PySide6\\Qt\\plugins\\platforms\\qdirect2d.dll", "win32", False),
    (f"{PLUGINS}/platforms/libqcocoa.dylib", "darwin", True),
    ("numpy/core/_multiarray_umath.so", "linux", True),  # not a Qt plugin: untouched
])
def test_only_the_plugins_the_window_uses(dest, platform, kept):
    assert rules.keep_qt_plugin(dest, platform) is kept


@pytest.mark.parametrize("dest, unused", [
    ("PySide6/Qt/lib/libQt6Qml.so.6", True),
    ("PySide6/Qt/lib/libQt6QuickControls2.so.6", True),
    ("PySide6/Qt/lib/libQt6WebEngineCore.so.6", True),
    ("PySide6\\Qt6WebEngineCore.dll", True),
    ("PySide6/Qt/lib/QtQuick.framework/Versions/A/QtQuick", True),
    ("PySide6/QtQml.abi3.so", True),
    ("PySide6/Qt/lib/libQt6Widgets.so.6", False),
    ("PySide6/Qt/lib/libQt6Svg.so.6", False),
    ("PySide6/Qt/lib/libQt6XcbQpa.so.6", False),
    ("libtest.so.1", False),
])
def test_unused_qt_libraries(dest, unused):
    assert rules.is_unused_qt_library(dest) is unused


def test_translations_qml_and_project_tests_are_filtered(tmp_path):
    fixture = ROOT / "tests" / "fixtures" / "models" / "vit_optimum" / "model.onnx"
    toc = [
        ("PySide6/Qt/translations/qtbase_de.qm", "/x/qtbase_de.qm", "DATA"),
        ("PySide6/Qt/qml/QtQuick/qmldir", "/x/qmldir", "DATA"),
        ("models/model.onnx", str(fixture), "DATA"),
        ("anything/DFW_TEST_FIXTURE", "/elsewhere/DFW_TEST_FIXTURE", "DATA"),
        ("resources/report/report.css", str(ROOT / "resources" / "report" / "report.css"), "DATA"),
        ("cv2/data/haarcascade_frontalface_default.xml", "/x/haar.xml", "DATA"),
    ]
    assert [dest for dest, _, _ in rules.filter_toc(toc, ROOT, "linux")] == [
        "resources/report/report.css", "cv2/data/haarcascade_frontalface_default.xml"]


def test_the_files_hooks_miss_are_found_in_this_environment():
    fonts = rules.reportlab_fonts()
    cascades = rules.haar_cascades()
    assert {Path(source).name for source, _ in fonts} >= {"Vera.ttf", "VeraBd.ttf", "VeraIt.ttf", "VeraBI.ttf"}
    assert {dest for _, dest in fonts} == {"reportlab/fonts"}
    assert "haarcascade_frontalface_default.xml" in {Path(source).name for source, _ in cascades}
    assert {dest for _, dest in cascades} == {"cv2/data"}


def test_excluded_modules_name_no_module_the_program_imports():
    used = {"PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "PySide6.QtSvg", "PySide6.QtOpenGL",
            "PySide6.QtOpenGLWidgets", "PySide6.QtPrintSupport", "onnxruntime", "onnx", "cv2", "numpy", "PIL"}
    assert not used & set(rules.EXCLUDED_QT_MODULES + rules.EXCLUDED_PYTHON)
    assert {"PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtWebEngineCore", "PySide6.QtDesigner"} <= set(
        rules.EXCLUDED_QT_MODULES)


@pytest.mark.parametrize("flavour, wanted, unwanted", [
    ("cpu", "onnxruntime", {"onnxruntime-gpu", "onnxruntime-directml"}),
    ("cuda", "onnxruntime-gpu", {"onnxruntime", "onnxruntime-directml"}),
    ("directml", "onnxruntime-directml", {"onnxruntime", "onnxruntime-gpu"}),
])
def test_each_flavour_installs_exactly_one_onnxruntime(flavour, wanted, unwanted):
    requirements = flavours.base_requirements() + flavours.flavour_requirements(flavour)
    names = [flavours.distribution_name(r) for r in requirements]
    assert names.count(wanted) == 1 and not unwanted & set(names)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    others = {flavours.distribution_name(r) for r in project["dependencies"]} - flavours.ONNXRUNTIME_DISTRIBUTIONS
    assert others <= set(names)  # everything else pyproject.toml names comes along


def test_the_cuda_flavour_brings_the_nvidia_libraries():
    names = {flavours.distribution_name(r) for r in flavours.flavour_requirements("cuda")}
    assert {"nvidia-cublas", "nvidia-cuda-runtime", "nvidia-cudnn-cu13", "nvidia-cufft", "nvidia-curand"} <= names


def test_the_test_extra_pins_the_pyinstaller_the_builds_use():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    in_tests = [r for r in project["optional-dependencies"]["test"] if flavours.distribution_name(r) == "pyinstaller"]
    build = (ROOT / "packaging" / "requirements" / "build.txt").read_text("utf-8").split()
    assert in_tests and in_tests[0].startswith("pyinstaller==6.") and in_tests[0] in build


def test_unknown_flavours_are_refused():
    with pytest.raises(ValueError, match="unknown flavour"):
        flavours.flavour_requirements("rocm")
    with pytest.raises(SystemExit):
        rules.check_flavour("rocm")
