"""Bad evidence: every case is a clear one-line MediaError, nothing crashes, the batch goes on."""

from __future__ import annotations

import io
import os
import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.errors import MediaError
from engine.media.image import load_image
from engine.media.sniff import sniff_evidence
from engine.media.video import probe, sample_frames
from tests.engine.media import synth


def _random_bytes(n: int = 4096) -> bytes:
    return np.random.default_rng(7).integers(0, 256, n, dtype=np.uint8).tobytes()


def _wav(path: Path) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(16000))
    return path


def _assert_one_line(error: MediaError) -> None:
    message = str(error)
    assert message and "\n" not in message


def test_zero_byte_file(tmp_path: Path) -> None:
    for name, loader in (("e.jpg", load_image), ("e.mp4", probe)):
        path = tmp_path / name
        path.write_bytes(b"")
        with pytest.raises(MediaError, match="empty") as caught:
            loader(path)
        _assert_one_line(caught.value)


def test_random_bytes_named_mp4_and_jpg(tmp_path: Path) -> None:
    mp4 = tmp_path / "noise.mp4"
    jpg = tmp_path / "noise.jpg"
    mp4.write_bytes(_random_bytes())
    jpg.write_bytes(_random_bytes())
    with pytest.raises(MediaError, match="unknown type"):
        list(sample_frames(mp4, 4))
    with pytest.raises(MediaError, match="unknown type"):
        load_image(jpg)


def test_jpeg_magic_followed_by_noise(tmp_path: Path) -> None:
    path = tmp_path / "fake.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + _random_bytes())
    with pytest.raises(MediaError) as caught:
        load_image(path)
    _assert_one_line(caught.value)


def test_mp4_header_followed_by_noise(tmp_path: Path) -> None:
    path = tmp_path / "fake.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + _random_bytes())
    with pytest.raises(MediaError, match="cannot be opened|no decodable") as caught:
        probe(path)
    _assert_one_line(caught.value)


def test_audio_only_file(tmp_path: Path) -> None:
    path = _wav(tmp_path / "speech.wav")
    with pytest.raises(MediaError, match="no video stream"):
        probe(path)
    renamed = _wav(tmp_path / "speech.mp4")
    with pytest.raises(MediaError, match="WAV audio"):
        list(sample_frames(renamed, 3))


def test_unreadable_paths(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="not found"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(MediaError, match="not found"):
        probe(tmp_path / "missing.mp4")
    with pytest.raises(MediaError, match="folder"):
        load_image(tmp_path)
    with pytest.raises(MediaError, match="folder"):
        sniff_evidence(tmp_path)


def test_permission_denied_is_reported(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "locked.png"
    Image.new("RGB", (4, 4)).save(path)
    import engine.media.sniff as sniff_module

    def denied(_path):
        raise PermissionError(13, "Permission denied")

    # The suite may run as root, for whom chmod cannot make a file unreadable.
    monkeypatch.setattr(sniff_module, "sniff", denied)
    with pytest.raises(MediaError, match="permission denied"):
        load_image(path)


def test_path_with_spaces_and_non_ascii(tmp_path: Path) -> None:
    folder = tmp_path / "Beweis Stück" / "видео ファイル"
    folder.mkdir(parents=True)
    image_path = folder / "Foto von Zoë 1.png"
    Image.new("RGB", (6, 5), (1, 2, 3)).save(image_path)
    assert load_image(image_path).rgb.getpixel((0, 0)) == (1, 2, 3)
    clip = synth.make_indexed_clip(folder / "Clip über Ärger.mp4", 30)
    assert probe(clip).frame_count == 30
    frames = list(sample_frames(clip, 3))
    assert [synth.read_index(f.image_bgr) for f in frames] == [f.frame_index for f in frames]


def test_one_by_one_image(tmp_path: Path) -> None:
    path = tmp_path / "dot.jpg"
    Image.new("RGB", (1, 1), (200, 100, 50)).save(path)
    assert load_image(path).rgb.size == (1, 1)


def test_a_batch_goes_on_past_bad_items(tmp_path: Path) -> None:
    good = tmp_path / "good.png"
    Image.new("RGB", (3, 3)).save(good)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64)).save(buffer, "PNG")
    cut = tmp_path / "cut.png"
    cut.write_bytes(buffer.getvalue()[:60])
    results: dict[str, str] = {}
    for path in (empty, good, cut, tmp_path / "missing.png"):
        try:
            load_image(path)
            results[path.name] = "ok"
        except MediaError as exc:
            results[path.name] = str(exc)
    assert results["good.png"] == "ok"
    assert "empty" in results["empty.png"]
    assert "truncated or corrupt" in results["cut.png"]
    assert "not found" in results["missing.png"]
    assert os.path.getsize(good) > 0


def test_fifo_is_refused_without_being_opened(tmp_path):
    import os

    from engine.errors import MediaError
    from engine.media.image import load_image
    from engine.media.video import probe

    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    for reader in (load_image, probe):
        with pytest.raises(MediaError, match="FIFO"):
            reader(fifo)  # would block forever if it were opened
