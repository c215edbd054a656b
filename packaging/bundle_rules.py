"""What goes into a frozen build and what stays out: the rules `dfw.spec` applies, kept here so
tests can check them without running PyInstaller.

PyInstaller's hooks collect generously: every Qt plugin kind the PySide6 modules may need
(with the QML, Quick, Wayland and virtual-keyboard libraries those plugins link), all of Qt's
translations, and data folders of packages. The window needs three plugin kinds (platforms,
image formats, styles) and English only, so everything else is dropped after the analysis;
the libraries of the excluded Qt modules are dropped too, since a dropped plugin's
dependencies are already in the list by then. Extra files PyInstaller's hooks do not find
(reportlab's embedded fonts, OpenCV's Haar cascade, the CUDA flavour's NVIDIA libraries) are
named here explicitly. Nothing from the project's tests/ may ever be bundled.

Paths handled here are destination names inside the bundle (`PySide6/Qt/plugins/...`),
always with forward slashes.
"""

from __future__ import annotations

import fnmatch
import glob
import importlib.util
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

APP_FOLDER = "DeepfakeForensicWorkstation"  # the one-folder build, and its windowed executable
CLI_NAME = "dfw"  # the console executable beside it (Windows cannot print from a windowed one)
FLAVOURS = ("cpu", "cuda", "directml")

# Plugin kinds the window loads, and within "platforms" the ones worth carrying per OS:
# the desktop's own, offscreen (headless runs, screenshots, the frozen-build test) and minimal.
QT_PLUGIN_KINDS = ("platforms", "imageformats", "styles")
QT_PLATFORMS = {
    "linux": ("xcb", "offscreen", "minimal"),
    "win32": ("windows", "offscreen", "minimal"),
    "darwin": ("cocoa", "offscreen", "minimal"),
}

# Qt modules the program never imports. Excluding them keeps their Python bindings out;
# QT_UNUSED_LIBRARIES below removes their shared libraries when a plugin pulled them in.
EXCLUDED_QT_MODULES = tuple(f"PySide6.{name}" for name in (
    "QtQml", "QtQuick", "QtQuick3D", "QtQuickControls2", "QtQuickWidgets", "QtQuickTest",
    "QtWebEngine", "QtWebEngineCore", "QtWebEngineWidgets", "QtWebEngineQuick", "QtWebChannel",
    "QtWebSockets", "QtWebView", "QtDesigner", "QtUiTools", "QtHelp", "QtTest", "QtSql",
    "Qt3DCore", "Qt3DRender", "Qt3DInput", "Qt3DLogic", "Qt3DAnimation", "Qt3DExtras",
    "QtMultimedia", "QtMultimediaWidgets", "QtSpatialAudio", "QtTextToSpeech", "QtPdf", "QtPdfWidgets",
    "QtCharts", "QtDataVisualization", "QtGraphs", "QtGraphsWidgets", "QtLocation", "QtPositioning",
    "QtBluetooth", "QtNfc", "QtSerialPort", "QtSerialBus", "QtSensors", "QtRemoteObjects", "QtScxml",
    "QtStateMachine", "QtHttpServer", "QtNetworkAuth", "QtAxContainer", "QtConcurrent",
))
# Python packages that may sit in a developer's venv but are never part of the program.
EXCLUDED_PYTHON = (
    "tests", "tools", "bench", "pytest", "_pytest", "pytestqt", "mypy", "jsonschema", "torch",
    "torchvision", "transformers", "timm", "safetensors", "onnxscript", "tkinter", "matplotlib",
    "IPython", "PyQt5", "PyQt6", "PySide2",
    # The optional OpenVINO runtime (the `openvino` extra, ~100 MB): a source install only, for now.
    "openvino",
)

# Library base names (without lib prefix, version or suffix) of unused Qt parts.
QT_UNUSED_LIBRARIES = (
    "Qt6Qml*", "Qt6Quick*", "Qt6Labs*", "Qt6Lottie*", "Qt6WebEngine*", "Qt6WebChannel*", "Qt6WebSockets*",
    "Qt6WebView*", "Qt6Designer*", "Qt6UiTools*", "Qt6Help*", "Qt6Test*", "Qt6Sql*", "Qt6Pdf*",
    "Qt6VirtualKeyboard*", "Qt6Wayland*", "Qt6WlShellIntegration*", "Qt6EglFS*", "Qt63D*", "Qt6Multimedia*",
    "Qt6Charts*", "Qt6DataVisualization*", "Qt6Graphs*", "Qt6ShaderTools*", "Qt6Positioning*",
    "Qt6Location*", "Qt6Concurrent*",
)

# The CUDA 13 libraries onnxruntime-gpu loads (`onnxruntime.preload_dlls()` reads them from
# `nvidia/...` beside the onnxruntime package): the wheels that carry them, by import path.
NVIDIA_PACKAGES = ("nvidia.cu13", "nvidia.cublas", "nvidia.cuda_runtime", "nvidia.cuda_nvrtc",
                   "nvidia.cufft", "nvidia.curand", "nvidia.cudnn", "nvidia.nvjitlink")


def _posix(name: str) -> PurePosixPath:
    return PurePosixPath(name.replace("\\", "/"))


def _library_stem(filename: str) -> str:
    """`libQt6Qml.so.6` / `Qt6Qml.dll` / `QtQml` (a macOS framework) → `Qt6Qml`-style base name."""
    stem = filename.removeprefix("lib")
    for marker in (".so", ".dll", ".dylib", ".framework"):
        stem = stem.split(marker)[0]
    if stem.startswith("Qt") and not stem.startswith("Qt6"):
        stem = "Qt6" + stem[2:]  # macOS frameworks are named without the major version
    return stem


def keep_qt_plugin(dest: str, platform: str = sys.platform) -> bool:
    """True for a plugin file the window uses; also True for anything that is not a Qt plugin."""
    parts = _posix(dest).parts
    if "plugins" not in parts or "PySide6" not in parts:
        return True
    kind_at = parts.index("plugins") + 1
    if kind_at >= len(parts):
        return True
    kind = parts[kind_at]
    if kind not in QT_PLUGIN_KINDS:
        return False
    if kind == "platforms":
        name = _library_stem(parts[-1])
        wanted = QT_PLATFORMS.get("linux" if platform.startswith("linux") else platform, ())
        return name in {f"q{p}" for p in wanted}
    return True


def limit_qt_plugins() -> None:
    """Make PyInstaller's Qt hooks collect only the plugins `keep_qt_plugin` wants.

    Dropping plugins from the finished TOC is not enough: by then the analysis has added
    every library the dropped ones link (the GTK stack of the gtk3 platform theme, the QML
    engine of the virtual keyboard). The hooks' plugin collector is wrapped instead, so those
    plugins are never analysed; `filter_toc` stays as the safety net should PyInstaller
    rename the collector (PyInstaller is pinned in packaging/requirements/build.txt).
    """
    # Imported here: PyInstaller is only there inside a build.
    from PyInstaller.utils.hooks import qt as pyinstaller_qt

    library_info = getattr(pyinstaller_qt, "QtLibraryInfo", None)
    original = getattr(library_info, "collect_plugins", None)
    if original is None or getattr(original, "_dfw_limited", False):
        return

    def collect_used_plugins(self: object, plugin_type: str) -> list[tuple[str, str]]:
        found = original(self, plugin_type)
        return [(source, dest) for source, dest in found
                if keep_qt_plugin(f"{dest}/{os.path.basename(source)}")]

    collect_used_plugins._dfw_limited = True  # type: ignore[attr-defined]
    library_info.collect_plugins = collect_used_plugins  # type: ignore[union-attr]


def is_unused_qt_library(dest: str) -> bool:
    """A library (or anything inside a macOS framework) of a Qt part the program never uses."""
    path = _posix(dest)
    if path.name.endswith((".py", ".pyc", ".pyi")):
        return False
    candidates = [part for part in path.parts if part.endswith(".framework")] or [path.name]
    return any(fnmatch.fnmatchcase(_library_stem(name), pattern)
               for name in candidates for pattern in QT_UNUSED_LIBRARIES)


def is_unused_qt_data(dest: str) -> bool:
    """Qt translations (the program is English only) and QML modules."""
    parts = _posix(dest).parts
    if "PySide6" not in parts:
        return False
    return "translations" in parts or "qml" in parts or "metatypes" in parts


def is_project_test_file(dest: str, source: str, root: Path) -> bool:
    """Anything from the project's tests/ folder, or carrying the test-fixture marker."""
    if _posix(dest).name == "DFW_TEST_FIXTURE":
        return True
    try:
        Path(source).resolve().relative_to((root / "tests").resolve())
    except (ValueError, OSError):
        return False
    return True


def wanted(entry: Sequence[str], root: Path, platform: str = sys.platform) -> bool:
    """Whether a TOC entry (dest, source, typecode) belongs in the build."""
    dest, source = entry[0], entry[1]
    if is_project_test_file(dest, source or "", root):
        return False
    return keep_qt_plugin(dest, platform) and not is_unused_qt_library(dest) and not is_unused_qt_data(dest)


def filter_toc(entries: Iterable[Sequence[str]], root: Path, platform: str = sys.platform) -> list[tuple[str, ...]]:
    return [tuple(entry) for entry in entries if wanted(entry, root, platform)]


# -- files the hooks do not collect -------------------------------------------------------

def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin).parent if spec.origin else None


def reportlab_fonts() -> list[tuple[str, str]]:
    """(source, dest folder) of reportlab's Bitstream Vera TTFs, embedded in every PDF report."""
    folder = _package_dir("reportlab")
    if folder is None:
        raise SystemExit("reportlab is not installed in the build environment")
    fonts = sorted(glob.glob(str(folder / "fonts" / "Vera*.ttf")))
    if not fonts:
        raise SystemExit(f"reportlab at {folder} carries no Vera*.ttf fonts")
    return [(font, "reportlab/fonts") for font in fonts]


def haar_cascades() -> list[tuple[str, str]]:
    """(source, dest folder) of OpenCV's Haar cascades: `cv2.data.haarcascades` points here."""
    folder = _package_dir("cv2")
    cascades = sorted(glob.glob(str(folder / "data" / "*.xml"))) if folder else []
    if not cascades:
        raise SystemExit("the OpenCV in the build environment carries no cv2/data/*.xml Haar cascades")
    return [(cascade, "cv2/data") for cascade in cascades]


def c2pa_library() -> list[tuple[str, str]]:
    """(source, dest folder) of c2pa-python's native library: it loads it with ctypes from
    `c2pa/libs` beside its own module, which PyInstaller's analysis cannot see."""
    folder = _package_dir("c2pa")
    libraries = [path for path in sorted(glob.glob(str(folder / "libs" / "*"))) if folder
                 and path.endswith((".so", ".dll", ".dylib"))] if folder else []
    if not libraries:
        raise SystemExit("c2pa-python in the build environment carries no native library in c2pa/libs")
    return [(library, "c2pa/libs") for library in libraries]


def nvidia_libraries() -> list[tuple[str, str]]:
    """(source, dest folder) of every shared library of the installed NVIDIA wheels, under
    `nvidia/<package>/...` exactly as in site-packages, where `onnxruntime.preload_dlls()`
    looks (PyInstaller's onnxruntime hook collects only onnxruntime's own libraries)."""
    found: list[tuple[str, str]] = []
    for package in NVIDIA_PACKAGES:
        folder = _package_dir(package)
        if folder is None:
            continue
        site = folder.parents[len(package.split(".")) - 1]  # the site-packages folder holding nvidia/
        for directory, _, files in os.walk(folder):
            for filename in sorted(files):
                if ".so" in filename or filename.endswith(".dll"):
                    source = Path(directory) / filename
                    found.append((str(source), Path(directory).relative_to(site).as_posix()))
    if not found:
        raise SystemExit("the CUDA flavour needs the nvidia-* CUDA wheels installed; none were found")
    return found


def check_flavour(flavour: str) -> str:
    if flavour not in FLAVOURS:
        raise SystemExit(f"unknown flavour {flavour!r}: choose one of {', '.join(FLAVOURS)}")
    return flavour
