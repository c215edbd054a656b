"""Video probing and frame sampling: frame accuracy, rotation, seek vs sequential, bad tails."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.errors import Cancelled, MediaError
from engine.media import video as video_module
from engine.media.capture import estimate_keyframe_interval
from engine.media.video import SamplingReport, probe, sample_frames, sample_times
from tests.engine.media import synth


def _assert_frame_accurate(frames) -> None:
    assert frames
    for frame in frames:
        assert synth.read_index(frame.image_bgr) == frame.frame_index
        # The reported timestamp is the decoded frame's own (25 fps: index * 40 ms).
        assert frame.timestamp_s == pytest.approx(frame.frame_index / 25.0, abs=1e-3)


def _expected_indices(frame_count: int, n: int) -> list[int]:
    # floor(t_k * fps) with t_k = (k + 0.5) * D / N and D = frame_count / fps, in exact integers
    return [((2 * k + 1) * frame_count) // (2 * n) for k in range(n)]


def test_sample_times_are_slice_centres() -> None:
    assert sample_times(10.0, 4) == pytest.approx([1.25, 3.75, 6.25, 8.75])
    assert sample_times(10.0, 0) == []


def test_probe_reports_stream_facts(tmp_path: Path) -> None:
    path = synth.make_indexed_clip(tmp_path / "c.mp4", 50, fps=25, size=(320, 240))
    info = probe(path)
    assert info.container == "mp4"
    assert info.codec == "FMP4"
    assert (info.width, info.height) == (320, 240)
    assert info.rotation == 0
    assert info.fps == pytest.approx(25.0)
    assert info.frame_count == 50
    assert info.frame_count_is_estimate is False
    assert info.duration_s == pytest.approx(2.0)


def test_short_clip_is_sampled_sequentially_and_frame_accurate(tmp_path: Path) -> None:
    path = synth.make_indexed_clip(tmp_path / "short.mp4", 200)
    report = SamplingReport()
    frames = list(sample_frames(path, 16, report=report))
    assert len(frames) == 16
    assert report.method == "sequential"
    assert report.keyframe_interval == 12  # VideoWriter's mp4v GOP
    _assert_frame_accurate(frames)
    assert [f.frame_index for f in frames] == _expected_indices(200, 16)


def test_long_clip_is_sampled_by_seeking_and_frame_accurate(tmp_path: Path) -> None:
    path = synth.make_indexed_clip(tmp_path / "long.mp4", 2400, size=(160, 120))
    report = SamplingReport()
    frames = list(sample_frames(path, 10, report=report))
    assert report.method == "seek"
    assert len(frames) == 10
    _assert_frame_accurate(frames)
    assert [f.frame_index for f in frames] == _expected_indices(2400, 10)
    for frame in frames:
        assert abs(frame.timestamp_s - frame.requested_time_s) <= 1 / 25.0


def test_mjpeg_avi_every_frame_a_keyframe(tmp_path: Path) -> None:
    path = synth.make_indexed_clip(tmp_path / "m.avi", 120, fourcc="MJPG")
    assert estimate_keyframe_interval(path) == 1
    info = probe(path)
    assert info.container == "avi" and info.codec == "MJPG"
    _assert_frame_accurate(list(sample_frames(path, 7)))


def test_more_samples_than_frames_returns_each_frame_once(tmp_path: Path) -> None:
    path = synth.make_indexed_clip(tmp_path / "tiny.mp4", 5)
    frames = list(sample_frames(path, 64))
    assert [f.frame_index for f in frames] == [0, 1, 2, 3, 4]
    _assert_frame_accurate(frames)


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotation_metadata_is_applied_by_us(tmp_path: Path, rotation: int) -> None:
    path = synth.make_indexed_clip(tmp_path / f"r{rotation}.mp4", 60, size=(320, 240), rotation=rotation)
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    assert capture.get(cv2.CAP_PROP_ORIENTATION_META) == rotation  # the surgery is seen
    capture.release()
    info = probe(path)
    assert info.rotation == rotation
    assert (info.width, info.height) == (320, 240)  # displayed size
    frames = list(sample_frames(path, 6))
    for frame in frames:
        assert frame.image_bgr.shape == (240, 320, 3)
    _assert_frame_accurate(frames)  # read_index refuses a wrongly turned frame


def test_rotation_agrees_with_opencv_auto_orientation(tmp_path: Path) -> None:
    path = synth.make_indexed_clip(tmp_path / "r90.mp4", 10, rotation=90)
    ours = next(iter(sample_frames(path, 1)))
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    capture.set(cv2.CAP_PROP_POS_FRAMES, ours.frame_index)
    ok, auto = capture.read()
    capture.release()
    assert ok
    assert np.array_equal(ours.image_bgr, auto)


def test_corrupt_tail_returns_what_decodes_and_says_where(tmp_path: Path) -> None:
    path = synth.zero_tail(synth.make_indexed_clip(tmp_path / "tail.mp4", 200), 0.4)
    report = SamplingReport()
    frames = list(sample_frames(path, 20, report=report))
    assert 5 <= len(frames) < 20
    _assert_frame_accurate(frames)
    assert report.ended_early is True
    assert len(report.failed_times_s) == 20 - len(frames)
    assert min(report.failed_times_s) > frames[-1].requested_time_s
    assert report.last_frame_index == frames[-1].frame_index
    assert "stopped after frame" in report.message


def test_truncated_avi_returns_what_decodes(tmp_path: Path) -> None:
    path = synth.make_indexed_clip(tmp_path / "t.avi", 100, fourcc="MJPG")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 6 // 10])
    report = SamplingReport()
    frames = list(sample_frames(path, 10, report=report))
    assert 0 < len(frames) < 10
    _assert_frame_accurate(frames)
    assert report.ended_early


def test_zero_decodable_frames_is_an_error(tmp_path: Path) -> None:
    # MP4 with every frame zeroed: FFmpeg cannot even learn the frame size.
    path = synth.zero_all_media(synth.make_indexed_clip(tmp_path / "dead.mp4", 50))
    with pytest.raises(MediaError, match="no decodable video stream"):
        list(sample_frames(path, 8))
    # MJPEG AVI with every frame zeroed: the stream opens, no frame decodes.
    avi = synth.make_indexed_clip(tmp_path / "dead.avi", 50, fourcc="MJPG")
    data = bytearray(avi.read_bytes())
    start, end = data.find(b"movi") + 4, data.find(b"idx1")
    data[start:end] = bytes(end - start)
    avi.write_bytes(bytes(data))
    report = SamplingReport()
    with pytest.raises(MediaError, match="no decodable frames"):
        list(sample_frames(avi, 8, report=report))
    assert report.returned == 0 and len(report.failed_times_s) == 8


@pytest.fixture
def captures(monkeypatch) -> dict[str, list[int]]:
    """Counts the captures sample_frames opens and releases."""
    counts: dict[str, list[int]] = {"opened": [], "released": []}
    real_open = video_module.open_capture

    @contextmanager
    def tracking_open(*args, **kwargs):
        with real_open(*args, **kwargs) as capture:
            counts["opened"].append(1)
            try:
                yield capture
            finally:
                counts["released"].append(1)

    monkeypatch.setattr(video_module, "open_capture", tracking_open)
    return counts


def test_cancel_between_frames_and_capture_released(tmp_path: Path, captures) -> None:
    path = synth.make_indexed_clip(tmp_path / "c.mp4", 100)
    released = captures["released"]
    calls = {"n": 0}

    def cancel_after_three() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    got = []
    with pytest.raises(Cancelled):
        for frame in sample_frames(path, 10, is_cancelled=cancel_after_three):
            got.append(frame)
    assert len(got) == 3
    assert released  # the sampling capture was closed

    released.clear()
    generator = sample_frames(path, 10)
    next(generator)
    generator.close()  # a consumer stopping early
    assert released


def test_non_positive_n_is_refused(tmp_path: Path) -> None:
    path = synth.make_indexed_clip(tmp_path / "c.mp4", 10)
    with pytest.raises(MediaError, match="positive"):
        list(sample_frames(path, 0))


def test_decoder_threads_are_passed_to_the_capture(tmp_path: Path, monkeypatch) -> None:
    path = synth.make_indexed_clip(tmp_path / "c.mp4", 10)
    seen: list = []
    real = cv2.VideoCapture

    def spy(*args):
        seen.append(args)
        return real(*args)

    import engine.media.capture as capture_module

    monkeypatch.setattr(capture_module.cv2, "VideoCapture", spy)
    list(sample_frames(path, 2, decoder_threads=3))
    params = [list(a[2]) for a in seen if len(a) == 3]
    assert [cv2.CAP_PROP_N_THREADS, 3] in params


def test_matroska_frame_count_is_flagged_as_estimate(tmp_path: Path) -> None:
    # Matroska has no per-frame index in its header: the count comes from duration * fps.
    path = synth.make_indexed_clip(tmp_path / "m.mkv", 50, fourcc="MJPG")
    info = probe(path)
    assert info.container == "matroska"
    assert info.frame_count_is_estimate is True
    assert info.frame_count == 50
    _assert_frame_accurate(list(sample_frames(path, 5)))


def _sampling(path: Path, n: int, workers: int) -> tuple[list, SamplingReport]:
    report = SamplingReport()
    return list(sample_frames(path, n, workers=workers, report=report)), report


@pytest.mark.parametrize("workers", [2, 3])
def test_parallel_seeking_returns_the_same_frames_as_one_capture(tmp_path: Path, workers: int) -> None:
    path = synth.make_indexed_clip(tmp_path / "long.mp4", 2400, size=(160, 120))
    one, _ = _sampling(path, 10, 1)
    many, report = _sampling(path, 10, workers)
    assert report.method == "seek"
    _assert_frame_accurate(many)
    assert [f.frame_index for f in many] == [f.frame_index for f in one] == _expected_indices(2400, 10)
    assert all(np.array_equal(a.image_bgr, b.image_bgr) for a, b in zip(one, many))


def test_parallel_workers_each_open_and_release_a_capture(tmp_path: Path, captures) -> None:
    path = synth.make_indexed_clip(tmp_path / "long.mp4", 2400, size=(160, 120))
    opened, released = captures["opened"], captures["released"]
    list(sample_frames(path, 9, workers=3))
    assert len(opened) == 3 + 1 and len(released) == 4  # three samplers and the probe
    opened.clear(), released.clear()
    generator = sample_frames(path, 9, workers=3)
    next(generator)
    generator.close()  # stopping early joins the workers, which release their captures
    assert len(released) == len(opened) >= 2


def test_a_short_clip_stays_on_one_sequential_capture_with_workers(tmp_path: Path) -> None:
    path = synth.make_indexed_clip(tmp_path / "short.mp4", 200)
    frames, report = _sampling(path, 16, 4)
    assert report.method == "sequential"
    assert [f.frame_index for f in frames] == _expected_indices(200, 16)


def test_parallel_corrupt_tail_reports_like_one_capture(tmp_path: Path) -> None:
    path = synth.zero_tail(synth.make_indexed_clip(tmp_path / "tail.mp4", 2400, size=(160, 120)), 0.4)
    one, report_one = _sampling(path, 12, 1)
    many, report_many = _sampling(path, 12, 3)
    _assert_frame_accurate(many)
    assert [f.frame_index for f in many] == [f.frame_index for f in one]
    assert report_many.ended_early and report_one.ended_early
    assert report_many.failed_times_s == report_one.failed_times_s
    assert report_many.message == report_one.message


def test_parallel_cancel_stops_between_frames(tmp_path: Path) -> None:
    path = synth.make_indexed_clip(tmp_path / "long.mp4", 2400, size=(160, 120))
    calls = {"n": 0}

    def cancel_after_two() -> bool:
        calls["n"] += 1
        return calls["n"] > 2

    got = []
    with pytest.raises(Cancelled):
        for frame in sample_frames(path, 10, workers=3, is_cancelled=cancel_after_two):
            got.append(frame)
    assert len(got) == 2
    import threading
    assert not [t for t in threading.enumerate() if t.name.startswith("dfw-sampler")]
