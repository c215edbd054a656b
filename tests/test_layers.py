"""Who may import whom: gui/ and engine/cli/ reach the engine only through engine.api (and the
error types of engine.errors); engine/ never imports Qt (tests/engine/test_no_qt.py runs that
one for real). Checked on the source, import statement by import statement."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {"engine.api", "engine.errors"}


def _engine_imports(path: Path, package: str | None = None) -> list[tuple[int, str]]:
    """(line, module) of every engine module `path` imports, relative imports resolved."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    if package is None:
        package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([module] if module else []))
            found.append((node.lineno, module))
    return [(line, name) for line, name in found if name == "engine" or name.startswith("engine.")]


def _clients() -> list[Path]:
    return sorted((ROOT / "gui").rglob("*.py")) + sorted((ROOT / "engine" / "cli").rglob("*.py"))


@pytest.mark.parametrize("path", _clients(), ids=lambda p: str(p.relative_to(ROOT)))
def test_clients_import_only_the_api(path):
    is_cli = path.is_relative_to(ROOT / "engine" / "cli")
    wrong = [(line, name) for line, name in _engine_imports(path)
             if name not in ALLOWED and not (is_cli and name.startswith("engine.cli"))]
    assert not wrong, f"{path.relative_to(ROOT)} imports engine internals: {wrong}"


def test_the_check_sees_forbidden_imports(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from engine.case.store import CaseStore\nimport engine.api\nfrom ..models import spec\n"
                     "def later():\n    from engine.media import video\n")
    assert [name for _, name in _engine_imports(probe, "engine.cli")] == [
        "engine.case.store", "engine.api", "engine.models", "engine.media"]


def test_engine_never_imports_gui_or_qt():
    for path in sorted((ROOT / "engine").rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                top = name.split(".")[0]
                assert top not in {"gui", "PySide6", "shiboken6", "PyQt5", "PyQt6", "pyqtgraph"}, (path, name)
