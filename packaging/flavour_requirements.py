"""Print the requirements of one build flavour: pyproject.toml's dependencies without their
onnxruntime line, then the flavour's own onnxruntime package (packaging/requirements/).

onnxruntime, onnxruntime-gpu and onnxruntime-directml install the same Python module, and
pyproject.toml picks onnxruntime-gpu on Linux x86_64 and Windows, so a CPU build cannot just
`pip install .`: the build scripts install this list, then the project with `--no-deps`.
pyproject.toml stays the one place that names the other dependencies.

    python packaging/flavour_requirements.py cpu > requirements-cpu.txt
    python packaging/flavour_requirements.py --check cpu   (in the build venv: is it right?)
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ONNXRUNTIME_DISTRIBUTIONS = {"onnxruntime", "onnxruntime-gpu", "onnxruntime-directml"}
FLAVOURS = ("cpu", "cuda", "directml")
DISTRIBUTION_OF = {"cpu": "onnxruntime", "cuda": "onnxruntime-gpu", "directml": "onnxruntime-directml"}
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def distribution_name(requirement: str) -> str:
    """The normalised distribution name a requirement line starts with."""
    match = _NAME.match(requirement)
    if not match:
        raise ValueError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def base_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The project's run-time dependencies, every onnxruntime flavour removed."""
    project = tomllib.loads(pyproject.read_text("utf-8"))["project"]
    return [req for req in project["dependencies"] if distribution_name(req) not in ONNXRUNTIME_DISTRIBUTIONS]


def flavour_requirements(flavour: str, folder: Path = HERE / "requirements") -> list[str]:
    if flavour not in FLAVOURS:
        raise ValueError(f"unknown flavour {flavour!r}: choose one of {', '.join(FLAVOURS)}")
    lines = (folder / f"{flavour}.txt").read_text("utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def installed_onnxruntimes() -> list[str]:
    """The onnxruntime distributions installed in the running Python, normalised names."""
    from importlib import metadata

    names = {distribution_name(d.metadata["Name"]) for d in metadata.distributions() if d.metadata["Name"]}
    return sorted(names & ONNXRUNTIME_DISTRIBUTIONS)


def check_installed(flavour: str, installed: list[str]) -> str | None:
    """Why a venv with `installed` cannot build `flavour`, or None when it can."""
    expected = DISTRIBUTION_OF[flavour]
    if installed == [expected]:
        return None
    return f"the build venv holds {', '.join(installed) or 'no onnxruntime'}; the {flavour} flavour needs {expected} alone"


def main(argv: list[str]) -> int:
    check = argv[:1] == ["--check"]
    args = argv[1:] if check else argv
    if len(args) != 1 or args[0] not in FLAVOURS:
        print(f"usage: flavour_requirements.py [--check] {{{'|'.join(FLAVOURS)}}}", file=sys.stderr)
        return 2
    if check:
        problem = check_installed(args[0], installed_onnxruntimes())
        if problem:
            print(problem, file=sys.stderr)
        return 1 if problem else 0
    print("\n".join(base_requirements() + flavour_requirements(args[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
