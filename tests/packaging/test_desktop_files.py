"""The Linux desktop entry, the .dfwcase MIME type and the icons agree with each other and
with the program."""

from __future__ import annotations

import configparser
import xml.etree.ElementTree as ET
from pathlib import Path

from PIL import Image

from engine.api import CASE_SUFFIX

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "packaging" / "linux"
ICONS = ROOT / "resources" / "icons"
APP_ID = "deepfake-forensic-workstation"
MIME = "{http://www.freedesktop.org/standards/shared-mime-info}"


def _entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in desktop files
    parser.read(LINUX / f"{APP_ID}.desktop", encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entry_opens_cases_with_the_program():
    entry = _entry()
    assert entry["Type"] == "Application" and entry["Terminal"] == "false"
    assert entry["Exec"].split()[0] == "DeepfakeForensicWorkstation" and entry["Exec"].endswith("%f")
    assert entry["Icon"] == APP_ID
    assert entry["MimeType"].rstrip(";").split(";") == ["application/x-dfwcase"]


def test_mime_type_registers_the_case_suffix():
    root = ET.parse(LINUX / f"{APP_ID}.xml").getroot()
    (mime_type,) = root.findall(f"{MIME}mime-type")
    assert mime_type.get("type") == _entry()["MimeType"].rstrip(";")
    assert [g.get("pattern") for g in mime_type.findall(f"{MIME}glob")] == [f"*{CASE_SUFFIX}"]
    assert mime_type.find(f"{MIME}sub-class-of").get("type") == "application/vnd.sqlite3"  # a case is SQLite
    assert mime_type.find(f"{MIME}icon").get("name") == APP_ID


def test_icons_come_in_every_size_from_one_svg():
    svg = ET.parse(ICONS / "dfw.svg").getroot()
    assert svg.get("viewBox") == "0 0 512 512"
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        with Image.open(ICONS / f"dfw-{size}.png") as image:
            assert image.size == (size, size) and image.mode == "RGBA"
            assert image.getpixel((size // 2, size // 2))[3] == 255  # opaque in the middle ...
            assert image.getpixel((0, 0))[3] < 64  # ... and the rounded corner is transparent
    with Image.open(ICONS / "dfw.ico") as ico:
        assert (256, 256) in ico.info["sizes"] and (16, 16) in ico.info["sizes"]
    assert (ICONS / "dfw.icns").read_bytes()[:4] == b"icns"

