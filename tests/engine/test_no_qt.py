"""engine/ never imports Qt: every engine module imports with PySide6 made unimportable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import importlib, pkgutil, sys

class BlockQt:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "shiboken6", "PyQt5", "PyQt6"):
            raise ImportError(f"engine imported {name}")
        return None

sys.meta_path.insert(0, BlockQt())
import engine
names = ["engine"]
for module in pkgutil.walk_packages(engine.__path__, "engine."):
    names.append(module.name)
for name in names:
    importlib.import_module(name)
loaded = [m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6")]
assert not loaded, loaded
print(len(names))
"""


def test_every_engine_module_imports_without_qt():
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    count = int(result.stdout.strip())
    expected = sum(1 for path in (ROOT / "engine").rglob("*.py"))
    assert count == expected  # every file was imported, packages included
