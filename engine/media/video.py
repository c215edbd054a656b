"""Video evidence: probe a clip and sample up to N frames spread evenly over its duration.

Sample k of N is aimed at time t_k = (k + 0.5) * D / N, i.e. at frame floor(t_k * fps). Each
frame is reported with the index and timestamp the decoder gives for the frame actually decoded,
never the requested ones, so a frame and its label cannot disagree. Sampling seeks when the gap
to the next target is larger than the clip's keyframe spacing (a seek decodes from the previous
keyframe) and grabs sequentially otherwise, so short clips with sparse keyframes and long clips
with many samples are both fast. Frames are rotated to their displayed orientation from the
container's rotation metadata. The capture is released when the generator finishes, fails or is
closed. How far decoding got is written into an optional `SamplingReport` the caller passes in:
a clip whose tail is corrupt yields what decodes and says where it stopped.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

import cv2
import numpy as np

from engine.errors import Cancelled, MediaError
from engine.media.capture import (
    DEFAULT_DECODER_THREADS,
    estimate_keyframe_interval,
    fourcc_text,
    grabbed_position,
    open_capture,
    rotate_frame,
    rotation_of,
)
from engine.media.sniff import sniff_evidence
from engine.util.parallel import ordered_parallel

__all__ = ["SampledFrame", "SamplingReport", "VideoInfo", "probe", "sample_frames", "sample_times"]

# Containers whose frame count comes from a per-frame index (sample tables, AVI index header)
# rather than from duration * fps.
_EXACT_COUNT_CONTAINERS = frozenset({"mp4", "mov", "avi"})
# A seek restarts decoding at the keyframe before target - 16 frames (OpenCV's FFmpeg backend),
# so it costs about one keyframe interval plus this many decoded frames.
_SEEK_OVERHEAD_FRAMES = 32
# Used when keyframe spacing cannot be measured: a long GOP such as x264's default.
_ASSUMED_KEYFRAME_INTERVAL = 250
# Called with a stop flag around each decode step; may wait before it starts
# (engine.analysis.turns.CpuTurns.decoding).
WaitTurn = Callable[[Callable[[], bool]], AbstractContextManager[None]]


@dataclass(frozen=True)
class VideoInfo:
    container: str  # sniffed from the bytes: "mp4", "avi", "matroska", ...
    codec: str  # FourCC as text, e.g. "FMP4", "avc1", "MJPG"
    width: int  # displayed, after rotation
    height: int
    rotation: int  # clockwise degrees from container metadata: 0, 90, 180, 270
    fps: float
    frame_count: int
    frame_count_is_estimate: bool
    duration_s: float


@dataclass(frozen=True)
class SampledFrame:
    frame_index: int  # index of the decoded frame, from the decoder
    timestamp_s: float  # presentation time of the decoded frame, from the decoder
    image_bgr: np.ndarray  # uint8 HxWx3, displayed orientation
    requested_time_s: float  # t_k the sample aimed at


@dataclass
class SamplingReport:
    """Filled in by sample_frames as it runs; read it after the generator is exhausted."""

    requested: int = 0  # distinct target frames aimed at (N, or fewer for very short clips)
    returned: int = 0
    method: str = ""  # "seek", "sequential" or "mixed"
    keyframe_interval: int | None = None  # measured spacing, None when it could not be measured
    failed_times_s: list[float] = field(default_factory=list)  # requested times not decoded
    last_frame_index: int | None = None
    last_timestamp_s: float | None = None
    ended_early: bool = False  # decoding failed from some point to the stated end
    message: str | None = None


def _name(path: str | os.PathLike) -> str:
    return os.fspath(path)


def _count_packets(path: str) -> int:
    with open_capture(path, 1) as capture:
        if not capture.set(cv2.CAP_PROP_FORMAT, -1):
            return 0
        count = 0
        while capture.grab():
            count += 1
        return count


def probe(path: str | os.PathLike, *, decoder_threads: int = DEFAULT_DECODER_THREADS) -> VideoInfo:
    """Container, codec, displayed size, rotation, fps, frame count and duration of a clip."""
    name = _name(path)
    found = sniff_evidence(name)
    if found.kind == "audio":
        raise MediaError(f"File is {found.description} with no video stream: {name}")
    if found.kind != "video":
        raise MediaError(f"Unsupported video format: the file is {found.description}: {name}")
    with open_capture(name, decoder_threads) as capture:
        coded_w = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        coded_h = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if coded_w <= 0 or coded_h <= 0:
            raise MediaError(f"File has no decodable video stream: {name}")
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        if not math.isfinite(fps) or fps <= 0:
            raise MediaError(f"Video reports no usable frame rate: {name}")
        raw_count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        rotation = rotation_of(capture)
        codec = fourcc_text(capture.get(cv2.CAP_PROP_FOURCC))
    frame_count = int(raw_count) if math.isfinite(raw_count) and raw_count > 0 else 0
    is_estimate = found.format not in _EXACT_COUNT_CONTAINERS
    if frame_count == 0:
        # No count in the container: count packets (demux only, no decoding).
        frame_count = _count_packets(name)
        is_estimate = False
    if frame_count == 0:
        raise MediaError(f"Video contains no frames: {name}")
    width, height = (coded_h, coded_w) if rotation in (90, 270) else (coded_w, coded_h)
    return VideoInfo(
        container=found.format,
        codec=codec,
        width=width,
        height=height,
        rotation=rotation,
        fps=fps,
        frame_count=frame_count,
        frame_count_is_estimate=is_estimate,
        duration_s=frame_count / fps,
    )


def sample_times(duration_s: float, n: int) -> list[float]:
    """t_k = (k + 0.5) * D / N for k in 0..N-1: centres of N equal slices of the clip."""
    if n <= 0 or duration_s <= 0:
        return []
    return [(k + 0.5) * duration_s / n for k in range(n)]


def _targets(info: VideoInfo, n: int) -> list[tuple[int, float]]:
    targets: list[tuple[int, float]] = []
    for t in sample_times(info.duration_s, n):
        index = min(info.frame_count - 1, int(math.floor(t * info.fps + 1e-9)))
        if not targets or index > targets[-1][0]:
            targets.append((index, t))
    return targets


@dataclass(frozen=True)
class _Attempt:
    """What trying one target gave: a frame, nothing (not decodable), or a skip."""

    requested_t: float
    frame: SampledFrame | None
    skipped: bool = False  # an earlier seek overshot past this target; never repeat a frame


def _decode_targets(name: str, info: VideoInfo, targets: Sequence[tuple[int, float]], seek_threshold: int,
                    decoder_threads: int, methods: set[str], stopped: Callable[[], bool],
                    wait_turn: WaitTurn | None = None) -> Iterator[_Attempt]:
    """One capture walking through `targets` in order: one _Attempt per target."""
    last_index = -1  # last frame decoded, returned or passed over
    position_known = True
    turn = wait_turn or no_turn
    with open_capture(name, decoder_threads) as capture:
        for target, requested_t in targets:
            if stopped():
                return
            if target <= last_index:
                yield _Attempt(requested_t, None, skipped=True)
                continue
            with turn(stopped):  # the step ends before the yield: a waiting consumer holds no turn
                seek = not position_known or target - last_index > seek_threshold
                methods.add("seek" if seek else "sequential")
                decoded = _decode_one(capture, target, last_index, seek)
            if decoded is None:
                position_known = False
                yield _Attempt(requested_t, None)
                continue
            frame, index, timestamp = decoded
            position_known = True
            last_index = index
            yield _Attempt(requested_t, SampledFrame(
                frame_index=index,
                timestamp_s=timestamp,
                image_bgr=rotate_frame(frame, info.rotation),
                requested_time_s=requested_t,
            ))


def no_turn(stopped: Callable[[], bool]) -> AbstractContextManager[None]:
    """The WaitTurn of a caller that shares no cores: never waits."""
    return nullcontext()


def _decode_one(capture: cv2.VideoCapture, target: int, last_index: int,
                seek: bool) -> tuple[np.ndarray, int, float] | None:
    """(BGR frame, index, timestamp) of the first frame at or after `target`, reached by a
    seek or by grabbing forward from `last_index`; None if it does not decode."""
    grabbed = False
    if seek:
        capture.set(cv2.CAP_PROP_POS_FRAMES, target)
        grabbed = capture.grab()
        if grabbed:
            index, _ = grabbed_position(capture)
            # Landed short of the target (inexact seek): walk forward to it.
            while grabbed and index < target:
                grabbed = capture.grab()
                index, _ = grabbed_position(capture)
    else:
        index = last_index
        while index < target:
            grabbed = capture.grab()
            if not grabbed:
                break
            index, _ = grabbed_position(capture)
    ok, frame = capture.retrieve() if grabbed else (False, None)
    if not ok or frame is None or frame.size == 0:
        return None
    index, timestamp = grabbed_position(capture)
    if frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    return frame, index, timestamp


def sample_frames(
    path: str | os.PathLike,
    n: int,
    *,
    decoder_threads: int = DEFAULT_DECODER_THREADS,
    workers: int = 1,
    is_cancelled: Callable[[], bool] | None = None,
    report: SamplingReport | None = None,
    wait_turn: WaitTurn | None = None,
) -> Iterator[SampledFrame]:
    """Yield up to n frames evenly spread by time, each labelled by what the decoder decoded.

    With workers > 1 and a clip that is sampled by seeking anyway, the targets are shared
    among that many captures decoding in parallel (each seek is independent, so no frame is
    decoded twice); frames still come out in time order. A clip sampled by sequential grabs
    stays on one capture, where splitting it would decode the same stretches several times.

    `wait_turn(stopped)` wraps each capture's decode of a target: a CPU run passes one that
    waits while inference holds the cores (engine.analysis.turns).

    Raises MediaError (when iterated) if the clip cannot be opened or not one frame decodes,
    and Cancelled when is_cancelled() turns true between frames.
    """
    if n <= 0:
        raise MediaError(f"Number of frames to sample must be positive, got {n}")
    name = _name(path)
    info = probe(name, decoder_threads=decoder_threads)
    report = report if report is not None else SamplingReport()
    targets = _targets(info, n)
    report.requested = len(targets)
    keyint = estimate_keyframe_interval(name)
    report.keyframe_interval = keyint
    seek_threshold = (keyint or _ASSUMED_KEYFRAME_INTERVAL) + _SEEK_OVERHEAD_FRAMES
    methods: set[str] = set()
    every_target_seeks = all(b[0] - a[0] > seek_threshold for a, b in zip(targets, targets[1:]))
    if not every_target_seeks:
        workers = 1

    def work(chunk: Sequence[tuple[int, float]], stopped: Callable[[], bool]) -> Iterator[_Attempt]:
        return _decode_targets(name, info, chunk, seek_threshold, decoder_threads, methods, stopped, wait_turn)

    last_returned = -1
    first_failure_after_success: float | None = None
    attempt: _Attempt
    for attempt in ordered_parallel(targets, work, workers, name="dfw-sampler"):
        if is_cancelled is not None and is_cancelled():
            raise Cancelled(f"Frame sampling cancelled after {report.returned} frames: {name}")
        frame: SampledFrame | None = attempt.frame
        if attempt.skipped or (frame is not None and frame.frame_index <= last_returned):
            continue  # two targets landed on one frame: it is returned once
        if frame is None:
            report.failed_times_s.append(attempt.requested_t)
            if first_failure_after_success is None:
                first_failure_after_success = attempt.requested_t
            continue
        first_failure_after_success = None
        last_returned = frame.frame_index
        report.returned += 1
        report.last_frame_index = frame.frame_index
        report.last_timestamp_s = frame.timestamp_s
        yield frame

    report.method = "mixed" if len(methods) > 1 else (next(iter(methods)) if methods else "")
    if report.returned == 0:
        raise MediaError(f"Video has no decodable frames: {name}")
    if report.failed_times_s:
        report.ended_early = first_failure_after_success is not None
        missing = len(report.failed_times_s)
        if report.ended_early:
            report.message = (
                f"decoding stopped after frame {report.last_frame_index} at "
                f"{report.last_timestamp_s:.2f} s of {info.duration_s:.2f} s; "
                f"{missing} of {report.requested} samples could not be decoded"
            )
        else:
            report.message = f"{missing} of {report.requested} samples could not be decoded"
