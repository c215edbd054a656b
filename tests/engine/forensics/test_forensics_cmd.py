"""`python main.py inspect` and `python main.py maps`, run as an analyst runs them."""

from __future__ import annotations

import json
import os

import numpy as np
from PIL import Image, PngImagePlugin

from tests.engine.conftest import run_main
from tests.engine.forensics.scenes import exif_block, jpeg_bytes, png_bytes, texture


def test_inspect_prints_findings_with_terminal_controls_escaped(tmp_path):
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "Stable Diffusion\x1b[2J\u202eexe.png")
    path = tmp_path / "made.png"
    path.write_bytes(png_bytes(texture(64, 64, 1), pnginfo=info))
    done = run_main("inspect", str(path), home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert "[strong indication]" in done.stdout and "image generator" in done.stdout
    assert "\x1b" not in done.stdout and "\u202e" not in done.stdout
    assert "\\x1b[2J\\u202eexe.png" in done.stdout
    assert "not possible" in done.stdout or "not applicable" in done.stdout  # the checks are listed


def test_inspect_json_is_one_report_per_file_and_names_failures(tmp_path):
    good = tmp_path / "a.jpg"
    good.write_bytes(jpeg_bytes(texture(64, 64, 2), 80, exif=exif_block({0x0131: (2, "GIMP 2.10")})))
    done = run_main("inspect", "--json", str(good), str(tmp_path / "missing.jpg"), home=tmp_path / "home")
    assert done.returncode == 1, done.stderr
    reports = json.loads(done.stdout)
    assert reports[0]["sha256"] and any(f["value"] == "GIMP 2.10" for f in reports[0]["findings"])
    assert reports[0]["jpeg"]["quality_estimate"] == 80
    assert reports[1]["path"].endswith("missing.jpg") and "not found" in reports[1]["error"]


def test_maps_writes_a_png_and_refuses_to_overwrite(tmp_path):
    evidence = tmp_path / "e.jpg"
    evidence.write_bytes(jpeg_bytes(texture(128, 160, 3), 85))
    before = evidence.read_bytes()
    out = tmp_path / "ela.png"
    done = run_main("maps", str(evidence), "--kind", "ela", "--quality", "80", "-o", str(out), home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert "quality 80" in done.stdout and "cannot" in done.stdout
    with Image.open(out) as written:
        assert written.size == (160, 128) and written.mode == "RGB"
    stamp = os.stat(out).st_mtime_ns
    again = run_main("maps", str(evidence), "--kind", "ela", "-o", str(out), home=tmp_path / "home")
    assert again.returncode == 2 and "--overwrite" in again.stderr and os.stat(out).st_mtime_ns == stamp
    forced = run_main("maps", str(evidence), "--kind", "noise", "--block", "8", "-o", str(out), "--overwrite",
                      "--json", home=tmp_path / "home")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["params"] == {"block": 8}
    assert evidence.read_bytes() == before


def test_maps_never_writes_over_its_input(tmp_path):
    evidence = tmp_path / "e.png"
    evidence.write_bytes(png_bytes(texture(64, 64, 4)))
    before = evidence.read_bytes()
    link = tmp_path / "hard.png"
    os.link(evidence, link)
    for target in (evidence, link, tmp_path / "." / "e.png"):
        done = run_main("maps", str(evidence), "--kind", "spectrum", "--tile", "32", "-o", str(target), "--overwrite",
                        home=tmp_path / "home")
        assert done.returncode == 2 and "refused" in done.stderr, (target, done.stderr)
    assert evidence.read_bytes() == before


def test_maps_with_a_wrong_parameter_is_one_line(tmp_path):
    evidence = tmp_path / "e.png"
    evidence.write_bytes(png_bytes(np.zeros((40, 40, 3), np.uint8)))
    done = run_main("maps", str(evidence), "--kind", "ela", "--quality", "400", "-o", str(tmp_path / "o.png"),
                    home=tmp_path / "home")
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0 and "between 1 and 100" in done.stderr
    assert not (tmp_path / "o.png").exists()
