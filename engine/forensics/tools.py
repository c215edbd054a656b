"""Which tool (and which version of it) read a fact, so every finding can name its source.

Three readers stand behind the findings: this program's own parsers (JPEG markers, PNG
chunks, XMP, the checks built on them), Pillow (EXIF), and c2pa-python with the c2pa-rs
library inside it (content credentials). Versions are read once per process.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from functools import lru_cache
from importlib import metadata

from engine.forensics.records import ProvenanceFinding, Severity, clipped
from engine.version import __version__

OWN = "dfw-forensics"
PILLOW = "Pillow"
C2PA = "c2pa-python"


@lru_cache(maxsize=None)
def version_of(tool: str) -> str:
    if tool == OWN:
        return __version__
    if tool == C2PA:
        return _c2pa_version()
    try:
        return metadata.version(tool)
    except metadata.PackageNotFoundError:
        return "not installed"


def _c2pa_version() -> str:
    try:
        import c2pa  # noqa: PLC0415 - a native library: loaded only when credentials are read

        return f"{metadata.version('c2pa-python')} (c2pa-rs {c2pa.sdk_version()})"
    except Exception:  # a missing or broken native library is reported by the check itself
        try:
            return metadata.version("c2pa-python")
        except metadata.PackageNotFoundError:
            return "not installed"


def all_versions() -> dict[str, str]:
    return {tool: version_of(tool) for tool in (OWN, PILLOW, C2PA)}


def finding(check: str, severity: Severity, explanation: str, source: str, tool: str = OWN,
            value: object | None = None) -> ProvenanceFinding:
    return ProvenanceFinding(check, severity, explanation, source, tool, version_of(tool),
                             None if value is None else clipped(value))


@contextlib.contextmanager
def pillow_quiet() -> Iterator[None]:
    """Pillow warns (and reads on) about corrupt EXIF and large pictures; the checks report
    both themselves, so the warnings would only say it twice (or fail under -W error)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def map_tool_version() -> str:
    """What made a forensic map: this program and the libraries whose numbers it depends on
    (the JPEG encoder of error level analysis is Pillow's libjpeg; filters are OpenCV's)."""
    return (f"{OWN} {version_of(OWN)}; Pillow {version_of('Pillow')}; "
            f"OpenCV {version_of('opencv-python-headless')}; NumPy {version_of('numpy')}")
