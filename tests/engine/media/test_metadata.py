"""Examiner-facing image metadata: camera, software, dates, GPS presence, XMP, ICC."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageCms

from engine.errors import MediaError
from engine.media.metadata import read_image_metadata

_XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="Photo Editor 7.1"/>'
        b"</rdf:RDF></x:xmpmeta>")


def _exif(with_gps: bool) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    exif[0x0110] = "Model X100"
    exif[0x0131] = "Firmware 2.0"
    exif[0x0132] = "2024:05:06 07:08:09"
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0x9003] = "2024:05:01 10:00:00"
    exif_ifd[0x9004] = "2024:05:01 10:00:01"
    if with_gps:
        gps = exif.get_ifd(0x8825)
        gps[1] = "N"
        gps[2] = (51.0, 30.0, 0.0)
    return exif


def test_camera_dates_gps_xmp_icc_from_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.new("RGB", (64, 48), (90, 90, 90)).save(path, "JPEG", exif=_exif(True), xmp=_XMP, icc_profile=icc)
    meta = read_image_metadata(path)
    assert meta["format"] == "jpeg"
    assert (meta["width"], meta["height"]) == (64, 48)
    assert meta["make"] == "CameraMaker"
    assert meta["model"] == "Model X100"
    assert meta["software"] == "Firmware 2.0"
    assert meta["datetime_modified"] == "2024:05:06 07:08:09"
    assert meta["datetime_original"] == "2024:05:01 10:00:00"
    assert meta["datetime_digitized"] == "2024:05:01 10:00:01"
    assert meta["gps_present"] is True
    assert meta["xmp_present"] is True
    assert meta["xmp_creator_tool"] == "Photo Editor 7.1"
    assert meta["icc_profile_present"] is True


def test_plain_png_has_every_key_with_empty_values(tmp_path: Path) -> None:
    path = tmp_path / "plain.png"
    Image.new("RGB", (5, 4)).save(path)
    meta = read_image_metadata(path)
    for key in ("make", "model", "software", "datetime_original", "datetime_digitized",
                "datetime_modified", "xmp_creator_tool"):
        assert meta[key] is None
    assert meta["gps_present"] is False
    assert meta["xmp_present"] is False
    assert meta["icc_profile_present"] is False
    assert (meta["width"], meta["height"]) == (5, 4)


def test_gps_absent_is_false(tmp_path: Path) -> None:
    path = tmp_path / "nogps.jpg"
    Image.new("RGB", (8, 8)).save(path, "JPEG", exif=_exif(False))
    meta = read_image_metadata(path)
    assert meta["gps_present"] is False
    assert meta["make"] == "CameraMaker"


def test_metadata_of_non_image_is_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "x.jpg"
    path.write_bytes(b"PK\x03\x04" + bytes(40))
    with pytest.raises(MediaError, match="ZIP archive"):
        read_image_metadata(path)
