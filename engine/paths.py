"""Where the program keeps things: the app home, bundled resources, frozen-app paths.

The app home holds the model store and settings. DFW_HOME overrides the platform default
(platformdirs) so tests and portable installs can point it anywhere; a CLI --home flag
overrides both. Nothing in the engine calls os.chdir or builds these paths itself.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

HOME_ENV = "DFW_HOME"


def app_home(override: str | os.PathLike | None = None) -> Path:
    """The app home folder, created if missing: --home beats DFW_HOME beats the OS default."""
    if override:
        home = Path(override)
    elif os.environ.get(HOME_ENV):
        home = Path(os.environ[HOME_ENV])
    else:
        home = Path(platformdirs.user_data_dir("DeepfakeForensicWorkstation", appauthor=False))
    home = home.expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    return home


def models_dir(home: Path) -> Path:
    path = home / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def face_detectors_dir(home: Path) -> Path:
    """Imported face detectors (CenterFace, YuNet), one folder each with a manifest."""
    path = home / "face_detectors"
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir(home: Path) -> Path:
    """Derived files that can always be rebuilt (e.g. ONNX graphs with attention outputs)."""
    path = home / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def project_root() -> Path:
    """The source tree root, or the unpacked bundle root of a frozen (PyInstaller) app."""
    if is_frozen():
        return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent))
    return Path(__file__).resolve().parent.parent


def resources_dir() -> Path:
    return project_root() / "resources"
