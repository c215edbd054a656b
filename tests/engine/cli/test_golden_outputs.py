"""`case show --json`, `analyze --json` and `report --format json` keep their content.

The three outputs of one fixture case are compared with golden files recorded before the
engine was put behind its API, so a refactor cannot quietly change what an examiner gets.
What legitimately differs between runs is normalised first: times, temporary paths, where
the project is checked out (models are imported from its fixtures), the program version and the time zone; every 64-digit hash is replaced by its order of first
appearance, so the same hash must still stand in the same places. Scores are compared to
1e-4, which absorbs CPU-kernel differences between machines and nothing else.

Set DFW_WRITE_GOLDEN=1 to record the golden files again (only after a deliberate change).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import cv2
import pytest

from tests.engine.conftest import IMAGES, MODELS, ROOT, run_main
from tests.engine.media.synth import face_image, make_face_clip

GOLDEN = Path(__file__).parent / "golden"
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)?")
_HASH = re.compile(r"\b[0-9a-f]{64}\b")
_VOLATILE_KEYS = {"time_zone", "version", "app_version", "started_by", "added_by", "actor", "author", "uid",
                  "case_uid", "size", "bytes", "mtime_ns", "mtime", "pid", "runtime", "threads", "lanes"}
# runtime: "onnxruntime 1.x"; threads and lanes: the cores of the machine that ran it


def _normalise(value: Any, root: str, hashes: dict[str, str], key: str = "") -> Any:
    if key in _VOLATILE_KEYS and not isinstance(value, (dict, list)):
        return f"<{key}>"
    if isinstance(value, dict):
        return {k: _normalise(v, root, hashes, k) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_normalise(v, root, hashes) for v in value]
    if isinstance(value, str):
        text = value.replace(root, "<tmp>").replace(str(ROOT), "<project>")
        text = _TIME.sub("<time>", text)
        return _HASH.sub(lambda m: hashes.setdefault(m.group(0), f"<sha{len(hashes)}>"), text)
    return value


def _same(actual: Any, expected: Any, where: str = "") -> None:
    if isinstance(expected, float) or isinstance(actual, float):
        assert isinstance(actual, (int, float)) and isinstance(expected, (int, float)), where
        assert actual == pytest.approx(expected, abs=1e-4), where
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and sorted(actual) == sorted(expected), (where, sorted(actual), sorted(expected))
        for k in expected:
            _same(actual[k], expected[k], f"{where}.{k}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (where, len(actual), len(expected))
        for i, (a, e) in enumerate(zip(actual, expected)):
            _same(a, e, f"{where}[{i}]")
    else:
        assert actual == expected, where


def _check(name: str, data: Any, root: str) -> None:
    normalised = _normalise(data, root, {})
    path = GOLDEN / f"{name}.json"
    if os.environ.get("DFW_WRITE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(normalised, indent=1, ensure_ascii=False, sort_keys=True) + "\n", "utf-8")
    _same(normalised, json.loads(path.read_text("utf-8")), name)


@pytest.fixture(scope="module")
def golden_case(tmp_path_factory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("golden")
    evidence = root / "evidence"
    evidence.mkdir()
    make_face_clip(evidence / "clip.mp4", n_frames=20, fps=10.0)
    cv2.imwrite(str(evidence / "face.png"), face_image())
    shutil.copy(IMAGES / "rgb_640x480.jpg", evidence / "photo.jpg")
    (evidence / "notes.txt").write_text("not media\n")
    case = str(root / "golden.dfwcase")
    home = root / "home"
    assert run_main("case", "new", case, "--title", "Golden", "--examiner", "Ann", "--number", "G-1",
                    "--actor", "ann", home=home).returncode == 0
    assert run_main("case", "add", case, str(evidence), "--actor", "ann", home=home).returncode == 0
    analyzed = run_main("analyze", case, "--model", str(MODELS / "vit_optimum"), "--model", str(MODELS / "timm_vit"),
                        "--model", str(MODELS / "vit_quality_tfjs"), "--frames", "4", "--provider", "cpu",
                        "--explain", "--allow-test-fixture", "--actor", "ann", "--json", home=home)
    assert analyzed.returncode == 1, analyzed.stderr  # the text file cannot be analysed
    shown = run_main("case", "show", case, "--json", home=home)
    assert shown.returncode == 0, shown.stderr
    report = root / "report.json"
    exported = run_main("report", case, "--format", "json", "-o", str(report), "--actor", "ann", home=home)
    assert exported.returncode == 0, exported.stderr
    return {"root": str(root), "analyze": json.loads(analyzed.stdout), "show": json.loads(shown.stdout),
            "report": json.loads(report.read_text("utf-8"))}


@pytest.mark.parametrize("name", ["analyze", "show", "report"])
def test_output_matches_its_golden_file(golden_case, name):
    _check(name, golden_case[name], golden_case["root"])
