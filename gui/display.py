"""Can the window open here? One line saying what is missing, before Qt aborts the process.

Qt 6's X11 platform plugin (xcb) links about fifteen system libraries; when one is missing Qt
prints a note about libxcb-cursor whichever it was and aborts. The truest check is the one Qt
makes: load the plugin's own library. When that fails, every library of the plugin that the
system lacks is named with its Debian/Ubuntu package, so one `apt install` fixes it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from pathlib import Path
from typing import Callable

HEADLESS = "every command works headless: python main.py --help"

# The libraries libQt6XcbQpa and the xcb plugin need beyond Qt itself (readelf -d, Qt 6.12),
# by the name find_library takes, with the Debian/Ubuntu package that holds each.
XCB_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0", "xcb-icccm": "libxcb-icccm4", "xcb-image": "libxcb-image0",
    "xcb-keysyms": "libxcb-keysyms1", "xcb-randr": "libxcb-randr0", "xcb-render-util": "libxcb-render-util0",
    "xcb-render": "libxcb-render0", "xcb-shape": "libxcb-shape0", "xcb-shm": "libxcb-shm0",
    "xcb-sync": "libxcb-sync1", "xcb-util": "libxcb-util1", "xcb-xfixes": "libxcb-xfixes0",
    "xcb-xkb": "libxcb-xkb1", "xkbcommon-x11": "libxkbcommon-x11-0", "X11-xcb": "libx11-xcb1",
    "xcb": "libxcb1", "GL": "libgl1",
}

FindLibrary = Callable[[str], "str | None"]
LoadLibrary = Callable[[str], object]


def xcb_library_path() -> Path:
    """libQt6XcbQpa beside PySide6's Qt (in a source install and in a frozen build alike)."""
    import PySide6

    return Path(PySide6.__file__).parent / "Qt" / "lib" / "libQt6XcbQpa.so.6"


def has_wayland_plugin() -> bool:
    """A source install has Qt's Wayland plugin; the frozen build ships only xcb (see packaging)."""
    return any((xcb_library_path().parents[1] / "plugins" / "platforms").glob("libqwayland*.so"))


def missing_xcb_libraries(find_library: FindLibrary = ctypes.util.find_library) -> list[str]:
    """The Debian packages of the plugin's libraries the system cannot find."""
    return [package for name, package in XCB_LIBRARIES.items() if find_library(name) is None]


def display_problem(environ: dict[str, str] | None = None, platform: str | None = None,
                    find_library: FindLibrary = ctypes.util.find_library,
                    load_library: LoadLibrary | None = None) -> str | None:
    """Why the window cannot open here, in one line; None when it can (or Qt is told otherwise).

    `load_library` loads the xcb plugin's library (default: ctypes); tests pass their own, as
    they do `find_library`, to act out a machine that lacks something."""
    environ = dict(os.environ if environ is None else environ)
    platform = platform or sys.platform
    chosen = environ.get("QT_QPA_PLATFORM", "")
    if not platform.startswith("linux") or chosen not in ("", "xcb"):
        return None  # offscreen, wayland, vnc … or another OS: Qt decides
    if not environ.get("DISPLAY") and not (environ.get("WAYLAND_DISPLAY") and not chosen):
        return f"no display to open the window on (DISPLAY is not set); {HEADLESS}"
    if environ.get("WAYLAND_DISPLAY") and not chosen and has_wayland_plugin():
        return None  # Qt prefers its Wayland plugin there, which needs none of this
    try:
        (load_library or _load)(str(xcb_library_path()))
    except OSError as exc:
        missing = missing_xcb_libraries(find_library)
        if not missing:  # something else: say what the loader said
            return f"Qt's X11 plugin cannot load ({exc}); {HEADLESS}"
        return (f"the window needs system libraries that are missing (Debian/Ubuntu: sudo apt install "
                f"{' '.join(missing)}); {HEADLESS}")
    return None


def _load(path: str) -> object:
    return ctypes.CDLL(path)
