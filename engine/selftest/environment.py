"""What this installation is made of: program, Python and library versions, providers, build.

`--version`, the self-test and the window's Help → About all show these facts, so a bug
report carries them whichever the analyst copied. Qt's versions are the window's to add:
the engine never imports Qt.
"""

from __future__ import annotations

import json
import platform
import sys

from engine.paths import is_frozen, project_root
from engine.version import APP_NAME, __version__

BUILD_INFO = "dfw_build.json"  # written into a frozen build by packaging/dfw.spec


def build_description() -> str:
    """"from source", or "frozen, cpu flavour" from the build-info file of a frozen build."""
    if not is_frozen():
        return "from source"
    try:
        info = json.loads((project_root() / BUILD_INFO).read_text("utf-8"))
        return f"frozen, {info.get('flavour', 'unknown')} flavour"
    except (OSError, ValueError, AttributeError):
        return "frozen, flavour unknown"


def providers_available() -> tuple[str, ...]:
    """Short names (cuda, directml, cpu, ...) of what onnxruntime lists; only a promise
    until a session starts (CUDA is listed even when its libraries are missing)."""
    import onnxruntime as ort

    from engine.models.runtime import SHORT_NAMES

    return tuple(SHORT_NAMES.get(name) or _short(name) for name in ort.get_available_providers())


def _short(provider: str) -> str:
    """`TensorrtExecutionProvider` → `tensorrt`: the engine's own short names cover the
    providers it runs; others are only listed."""
    return provider.removesuffix("ExecutionProvider").lower() or provider


def version_facts() -> dict[str, str]:
    """Name → version, in the order a person reads them; the first entry is the program."""
    import cv2
    import numpy
    import onnxruntime

    return {
        APP_NAME: __version__,
        "Python": f"{platform.python_version()} ({sys.platform}, {platform.machine() or 'unknown machine'})",
        "onnxruntime": f"{onnxruntime.__version__} (providers: {', '.join(providers_available()) or 'none'})",
        "OpenCV": str(cv2.__version__),
        "NumPy": str(numpy.__version__),
        "Build": build_description(),
    }
