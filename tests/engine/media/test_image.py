"""Image decoding: formats, EXIF orientation, mode conversion, bombs, truncation."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from engine.errors import MediaError
from engine.media.image import DEFAULT_MAX_PIXELS, image_from_bgr, load_image


def _pattern(w: int = 40, h: int = 30) -> Image.Image:
    rng = np.random.default_rng(1)
    return Image.fromarray(rng.integers(0, 255, (h, w, 3), np.uint8), "RGB")


@pytest.mark.parametrize(
    "fmt,ext,sniffed",
    [("JPEG", "jpg", "jpeg"), ("PNG", "png", "png"), ("WEBP", "webp", "webp"),
     ("BMP", "bmp", "bmp"), ("TIFF", "tif", "tiff"), ("GIF", "gif", "gif")],
)
def test_each_supported_format_decodes_to_rgb(tmp_path: Path, fmt: str, ext: str, sniffed: str) -> None:
    path = tmp_path / f"img.{ext}"
    _pattern().save(path, fmt)
    loaded = load_image(path)
    assert loaded.rgb.mode == "RGB"
    assert loaded.rgb.size == (40, 30)
    assert loaded.original_size == (40, 30)
    assert loaded.format == sniffed
    assert loaded.first_frame_of is None
    reference = Image.open(path).convert("RGB")
    assert np.array_equal(np.asarray(loaded.rgb), np.asarray(reference))


def test_extension_is_ignored_format_comes_from_bytes(tmp_path: Path) -> None:
    path = tmp_path / "really_a_png.jpg"
    _pattern().save(path, "PNG")
    assert load_image(path).format == "png"


def test_unsupported_format_named_by_its_real_type(tmp_path: Path) -> None:
    path = tmp_path / "document.jpg"
    path.write_bytes(b"%PDF-1.7\n" + bytes(100))
    with pytest.raises(MediaError, match="PDF document"):
        load_image(path)
    video = tmp_path / "clip.png"
    video.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(100))
    with pytest.raises(MediaError, match="MP4"):
        load_image(video)


def test_animated_gif_uses_first_frame_and_says_so(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (20, 20), (v, 0, 0)) for v in (250, 10, 120)]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)
    loaded = load_image(path)
    assert loaded.first_frame_of == 3
    assert any("3 frames" in note and "first frame" in note for note in loaded.notes)
    assert np.asarray(loaded.rgb)[10, 10, 0] > 200  # the red first frame, not a later one


def test_animated_webp_and_multipage_tiff_report_frame_count(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (16, 16), (0, v, 0)) for v in (20, 200)]
    webp = tmp_path / "anim.webp"
    frames[0].save(webp, save_all=True, append_images=frames[1:], lossless=True)
    tiff = tmp_path / "pages.tif"
    frames[0].save(tiff, save_all=True, append_images=frames[1:])
    assert load_image(webp).first_frame_of == 2
    loaded = load_image(tiff)
    assert loaded.first_frame_of == 2
    assert np.asarray(loaded.rgb)[8, 8, 1] == 20


@pytest.mark.parametrize("orientation", [1, 2, 3, 4, 5, 6, 7, 8])
def test_exif_orientation_matches_reference_pipeline(tmp_path: Path, orientation: int) -> None:
    image = _pattern(48, 32)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"o{orientation}.png"
    image.save(path, "PNG", exif=exif)
    loaded = load_image(path)
    reference = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    assert loaded.orientation == orientation
    assert loaded.original_size == (48, 32)
    assert loaded.rgb.size == ((32, 48) if orientation >= 5 else (48, 32))
    assert np.array_equal(np.asarray(loaded.rgb), np.asarray(reference))
    if orientation == 6:  # rotate 90 clockwise: the stored bottom-left pixel lands top-left
        assert np.array_equal(np.asarray(loaded.rgb)[0, 0], np.asarray(image)[31, 0])


def test_no_exif_means_no_orientation(tmp_path: Path) -> None:
    path = tmp_path / "plain.png"
    _pattern().save(path)
    assert load_image(path).orientation is None


def _mode_image(mode: str) -> Image.Image:
    rng = np.random.default_rng(2)
    if mode == "I;16":
        return Image.fromarray(rng.integers(0, 65535, (10, 12), dtype=np.uint16))
    if mode == "F":
        return Image.fromarray(rng.uniform(-50, 400, (10, 12)).astype(np.float32))
    if mode == "CMYK":
        return Image.fromarray(rng.integers(0, 255, (10, 12, 4), np.uint8), "RGBA").convert("CMYK")
    if mode == "P+tRNS":
        image = Image.fromarray(rng.integers(0, 255, (10, 12, 3), np.uint8), "RGB").convert("P")
        image.info["transparency"] = 3
        return image
    base = Image.fromarray(rng.integers(0, 255, (10, 12, 4), np.uint8), "RGBA")
    return base.convert(mode if mode != "P" else "RGB").convert(mode)


@pytest.mark.parametrize(
    "mode,fmt,ext",
    [("L", "PNG", "png"), ("LA", "PNG", "png"), ("P", "PNG", "png"), ("P+tRNS", "PNG", "png"),
     ("RGBA", "PNG", "png"), ("CMYK", "JPEG", "jpg"), ("CMYK", "TIFF", "tif"),
     ("I;16", "PNG", "png"), ("I;16", "TIFF", "tif"), ("F", "TIFF", "tif")],
)
# PA has no common file format that stores it (Pillow cannot write it to PNG), so it is left to
# convert("RGB") like every other mode and not tested from a file.
def test_every_mode_converts_like_convert_rgb(tmp_path: Path, mode: str, fmt: str, ext: str) -> None:
    path = tmp_path / f"m.{ext}"
    _mode_image(mode).save(path, fmt)
    stored_mode = Image.open(path).mode
    loaded = load_image(path)
    assert loaded.original_mode == stored_mode
    assert loaded.rgb.mode == "RGB"
    expected = np.asarray(Image.open(path).convert("RGB"))
    assert np.array_equal(np.asarray(loaded.rgb), expected)
    if stored_mode in ("I;16", "F", "RGBA", "LA", "PA"):
        assert any(stored_mode in note for note in loaded.notes)


def test_sixteen_bit_values_are_clipped_as_documented(tmp_path: Path) -> None:
    path = tmp_path / "deep.png"
    Image.fromarray(np.array([[0, 100, 300, 65535]], dtype=np.uint16)).save(path)
    rgb = np.asarray(load_image(path).rgb)
    assert rgb[0, :, 0].tolist() == [0, 100, 255, 255]


def test_pixel_limit_is_configurable_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "img.png"
    _pattern(40, 30).save(path)
    assert load_image(path, max_pixels=1200).rgb.size == (40, 30)
    with pytest.raises(MediaError, match="too large"):
        load_image(path, max_pixels=1199)


def _png_header_only(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    idat = b"IDAT" + zlib.compress(b"\x00" * 16)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
            + struct.pack(">I", len(idat) - 4) + idat + struct.pack(">I", zlib.crc32(idat)))


def _bmp_header_only(width: int, height: int) -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + 40 + 64, 0, 0, 54) + info + bytes(64)


@pytest.mark.parametrize("maker,ext", [(_png_header_only, "png"), (_bmp_header_only, "bmp")])
def test_huge_header_is_refused_before_decoding(tmp_path: Path, maker, ext: str) -> None:
    path = tmp_path / f"bomb.{ext}"
    path.write_bytes(maker(30000, 30000))
    assert path.stat().st_size < 1000
    with pytest.raises(MediaError, match="too large"):
        load_image(path)
    # Even with a limit raised above Pillow's own, the configured limit decides.
    with pytest.raises(MediaError, match="limit 899,999,999"):
        load_image(path, max_pixels=899_999_999)
    assert DEFAULT_MAX_PIXELS < 30000 * 30000
    # Far beyond the limit Pillow refuses first; the message still names this program's limit.
    path.write_bytes(maker(100000, 100000))
    with pytest.raises(MediaError, match=f"over {DEFAULT_MAX_PIXELS:,} pixels"):
        load_image(path)


@pytest.mark.parametrize("fmt,ext", [("JPEG", "jpg"), ("PNG", "png")])
def test_truncated_file_is_a_clear_error(tmp_path: Path, fmt: str, ext: str) -> None:
    buffer = io.BytesIO()
    _pattern(200, 150).save(buffer, fmt)
    data = buffer.getvalue()
    path = tmp_path / f"cut.{ext}"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError, match="truncated or corrupt"):
        load_image(path)


def test_one_pixel_image(tmp_path: Path) -> None:
    path = tmp_path / "dot.png"
    Image.new("RGB", (1, 1), (10, 20, 30)).save(path)
    loaded = load_image(path)
    assert loaded.rgb.size == (1, 1)
    assert loaded.rgb.getpixel((0, 0)) == (10, 20, 30)


def test_image_from_bgr_swaps_channels() -> None:
    frame = np.zeros((2, 3, 3), np.uint8)
    frame[..., 0] = 200  # blue in OpenCV order
    rgb = image_from_bgr(frame)
    assert rgb.mode == "RGB" and rgb.size == (3, 2)
    assert rgb.getpixel((0, 0)) == (0, 0, 200)
    assert image_from_bgr(np.full((2, 2), 7, np.uint8)).getpixel((1, 1)) == (7, 7, 7)
    with pytest.raises(MediaError):
        image_from_bgr(np.zeros((2, 2, 3), np.float32))


def test_image_from_bgr_matches_channel_reversal_on_views_and_bgra() -> None:
    rng = np.random.default_rng(3)
    frame = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    view = frame[5:30, 7:41]  # a face crop is a non-contiguous view of the frame
    for bgr in (frame, view):
        assert np.array_equal(np.asarray(image_from_bgr(bgr)), bgr[:, :, ::-1])
    bgra = rng.integers(0, 256, (9, 11, 4), dtype=np.uint8)
    assert np.array_equal(np.asarray(image_from_bgr(bgra)), bgra[:, :, 2::-1])
