"""Frame sampling speed: sample_frames(N=64) against reading every frame of a long 1080p clip.

Generates a 1920x1080, 10-minute MPEG-4 Part 2 clip (OpenCV VideoWriter, 'mp4v', 25 fps; the
only encoder every opencv-python wheel carries) once and caches it in the temp folder, then
times, in the same run, (a) decoding every frame sequentially and (b) sample_frames with
N = 64, and prints both times and the ratio. The target is a ratio of at least 5.
Then (c) the same sampling shared among --workers parallel captures (one FFmpeg thread
each), as a run whose inference is on a GPU does it, for the speed-up over (b).

Usage: python bench/bench_sampling.py [--minutes 10] [--fps 25] [--n 64] [--threads 2] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.media.video import SamplingReport, probe, sample_frames  # noqa: E402

WIDTH, HEIGHT = 1920, 1080


def generate(path: Path, minutes: float, fps: float) -> float:
    """Write the clip: a textured background with a moving block and a frame counter."""
    frames = int(round(minutes * 60 * fps))
    rng = np.random.default_rng(0)
    base = cv2.resize(rng.integers(0, 255, (54, 96, 3), np.uint8), (WIDTH, HEIGHT), interpolation=cv2.INTER_LINEAR)
    tmp = path.with_suffix(".partial.mp4")
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, (WIDTH, HEIGHT))
    if not writer.isOpened():
        raise SystemExit("VideoWriter cannot write mp4v here")
    started = time.perf_counter()
    try:
        for i in range(frames):
            frame = base.copy()
            x = (i * 7) % (WIDTH - 300)
            cv2.rectangle(frame, (x, 300), (x + 300, 600), (255, 255, 255), -1)
            cv2.putText(frame, str(i), (60, 160), cv2.FONT_HERSHEY_SIMPLEX, 4, (0, 0, 0), 8)
            writer.write(frame)
            if i % 1500 == 0:
                print(f"  generating: {i}/{frames} frames", flush=True)
    finally:
        writer.release()
    os.replace(tmp, path)
    return time.perf_counter() - started


def read_all(path: Path, threads: int) -> tuple[float, int]:
    started = time.perf_counter()
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, threads])
    count = 0
    try:
        while True:
            ok, _frame = capture.read()
            if not ok:
                break
            count += 1
    finally:
        capture.release()
    return time.perf_counter() - started, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--fps", type=float, default=25.0)
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="parallel captures for (c); default: one per CPU")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "dfw-bench")
    args = parser.parse_args()

    args.cache.mkdir(parents=True, exist_ok=True)
    clip = args.cache / f"bench_{WIDTH}x{HEIGHT}_{args.minutes:g}min_{args.fps:g}fps_mp4v.mp4"
    if clip.exists():
        print(f"clip: {clip} (cached)")
    else:
        print(f"clip: generating {clip} ({args.minutes:g} min at {args.fps:g} fps, mp4v)")
        seconds = generate(clip, args.minutes, args.fps)
        print(f"  generated in {seconds:.1f} s")
    info = probe(clip)
    print(f"  {info.width}x{info.height} {info.codec} {info.fps:g} fps, {info.frame_count} frames, "
          f"{info.duration_s:.1f} s, {clip.stat().st_size / 1e6:.0f} MB")

    full_s, count = read_all(clip, args.threads)
    print(f"read every frame:   {full_s:8.2f} s  ({count} frames, {count / full_s:.0f} fps)")

    report = SamplingReport()
    started = time.perf_counter()
    got = list(sample_frames(clip, args.n, decoder_threads=args.threads, report=report))
    sample_s = time.perf_counter() - started
    print(f"sample_frames N={args.n}: {sample_s:8.2f} s  ({len(got)} frames, method {report.method}, "
          f"keyframe interval {report.keyframe_interval})")
    ratio = full_s / sample_s
    print(f"ratio: {ratio:.1f}x faster (target >= 5x): {'PASS' if ratio >= 5 else 'FAIL'}")

    if args.workers > 1:
        report = SamplingReport()
        started = time.perf_counter()
        parallel = list(sample_frames(clip, args.n, decoder_threads=1, workers=args.workers, report=report))
        parallel_s = time.perf_counter() - started
        same = [f.frame_index for f in parallel] == [f.frame_index for f in got]
        print(f"sample_frames N={args.n}, {args.workers} captures of 1 thread: {parallel_s:6.2f} s  "
              f"({sample_s / parallel_s:.2f}x the single capture; same frames: {same})")
    return 0 if ratio >= 5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
