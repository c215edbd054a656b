"""Frames with real faces at known places, for the face-detector tests and bench/bench_faces.py.

Faces are photographs shipped with scikit-image (the astronaut portrait, and the 100 face
crops of its Labeled Faces in the Wild subset, some tinted to skin tones from light to dark),
pasted over textures from the same package; distractors are what fooled the Haar cascade in
the field or could: orange folded fabric (a sleeve), hands of the same skin tones, a cat's
face, a pile of coins and LFW's own non-face patches. Every face's box is known, so a
detector's boxes can be counted as right or wrong. Nothing here is committed media; every
pixel comes from scikit-image's data and a seeded generator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

# The astronaut's face in skimage.data.astronaut(): brows to mouth, as a frontal-face box.
ASTRONAUT_FACE = (177, 66, 95, 95)
# Skin tones (BGR) LFW's grey faces and the hands are tinted with, light to dark.
SKIN_TONES = ((175, 200, 240), (120, 165, 225), (85, 125, 190), (55, 85, 140), (35, 55, 95))
SLEEVE_ORANGE = (30, 120, 235)


@dataclass
class Scene:
    image: np.ndarray  # BGR
    faces: list[tuple[int, int, int, int]] = field(default_factory=list)  # x, y, w, h
    distractors: list[tuple[str, tuple[int, int, int, int]]] = field(default_factory=list)  # kind, box


def _data():  # imported late: scikit-image is a test-only dependency
    import skimage.data  # noqa: PLC0415

    return skimage.data


def astronaut_bgr() -> np.ndarray:
    return np.ascontiguousarray(_data().astronaut()[:, :, ::-1])


@lru_cache(maxsize=1)
def _lfw() -> tuple[np.ndarray, np.ndarray]:
    images = (_data().lfw_subset() * 255).round().astype(np.uint8)
    return images[:100], images[100:]  # faces, then non-faces (the dataset's own order)


def tint(grey: np.ndarray, colour: tuple[int, int, int], gain: float = 1.25) -> np.ndarray:
    """A grey picture coloured with `colour` (BGR), its shading kept."""
    g = (grey if grey.ndim == 2 else cv2.cvtColor(grey, cv2.COLOR_BGR2GRAY)).astype(np.float32) / 255.0
    return np.clip(np.stack([g * c * gain for c in colour], -1), 0, 255).astype(np.uint8)


def astronaut_face_patch() -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The astronaut's head with hair and neck, and the face box inside that patch."""
    x, y, w, h = ASTRONAUT_FACE
    x0, y0 = x - 50, y - 55
    patch = astronaut_bgr()[y0: y + h + 60, x0: x + w + 50].copy()
    return patch, (x - x0, y - y0, w, h)


def lfw_face_patch(index: int, tone: int | None) -> np.ndarray:
    """LFW face `index` (0..99), grey or tinted to SKIN_TONES[tone]; the face fills the patch."""
    face = _lfw()[0][index % 100]
    return cv2.cvtColor(face, cv2.COLOR_GRAY2BGR) if tone is None else tint(face, SKIN_TONES[tone])


def sleeve_patch(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Orange cloth: coarse gravel grain for the weave, slow shading for the folds."""
    gravel = _data().gravel()
    zoom = rng.uniform(2.0, 4.0)
    big = cv2.resize(gravel, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_CUBIC)
    y0 = int(rng.integers(0, max(1, big.shape[0] - height)))
    x0 = int(rng.integers(0, max(1, big.shape[1] - width)))
    grain = cv2.resize(big[y0: y0 + height, x0: x0 + width], (width, height)).astype(np.float32)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    folds = 0.7 + 0.3 * np.sin(xx / width * rng.uniform(3, 8) + rng.uniform(0, 6.3)) * np.cos(yy / height * 2.0)
    return tint(np.clip(grain * folds, 0, 255).astype(np.uint8), SLEEVE_ORANGE)


def hand_patch(rng: np.random.Generator, size: int, tone: int) -> np.ndarray:
    """A flat hand: a palm and five fingers in a skin tone, softly shaded, on black (the mask)."""
    canvas = np.zeros((size, size), np.uint8)
    s = size / 100.0
    cv2.ellipse(canvas, (int(50 * s), int(65 * s)), (int(24 * s), int(28 * s)), 0, 0, 360, 200, -1)
    for i, angle in enumerate((-35, -12, 0, 12, 30)):
        length = (20, 34, 38, 34, 26)[i] * s
        base = (int((30 + i * 10) * s), int(45 * s))
        tip = (int(base[0] + length * np.sin(np.radians(angle))), int(base[1] - length * np.cos(np.radians(angle))))
        cv2.line(canvas, base, tip, 200, max(2, int(8 * s)))
    shade = cv2.GaussianBlur(canvas, (0, 0), max(1.0, 2 * s)).astype(np.float32)
    shade *= 0.85 + 0.15 * rng.random(canvas.shape, dtype=np.float32)
    return tint(shade.astype(np.uint8), SKIN_TONES[tone], 1.3)


def _other_distractor(kind: str, rng: np.random.Generator, size: int) -> np.ndarray:
    data = _data()
    if kind == "cat":
        cat = np.ascontiguousarray(data.chelsea()[:, :, ::-1])
        return cv2.resize(cat[30:230, 100:330], (size, size))
    if kind == "coins":
        coins = data.coins()
        y0, x0 = int(rng.integers(0, coins.shape[0] - 150)), int(rng.integers(0, coins.shape[1] - 150))
        return cv2.cvtColor(cv2.resize(coins[y0: y0 + 150, x0: x0 + 150], (size, size)), cv2.COLOR_GRAY2BGR)
    patch = _lfw()[1][int(rng.integers(0, 100))]  # LFW non-face
    return cv2.cvtColor(cv2.resize(patch, (size, size), interpolation=cv2.INTER_CUBIC), cv2.COLOR_GRAY2BGR)


def background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    data = _data()
    kind = int(rng.integers(0, 5))
    if kind < 3:
        texture = (data.gravel, data.brick, data.grass)[kind]()
        zoom = rng.uniform(1.0, 2.5)
        texture = cv2.resize(texture, None, fx=zoom, fy=zoom)
        reps = (height // texture.shape[0] + 1, width // texture.shape[1] + 1)
        grey = np.tile(texture, reps)[:height, :width]
        blue, green, red = (int(c) for c in rng.integers(90, 220, 3))
        return tint(grey, (blue, green, red), 1.0)
    photo = data.coffee() if kind == 3 else data.rocket()
    return cv2.resize(np.ascontiguousarray(photo[:, :, ::-1]), (width, height))


def _place(rng: np.random.Generator, taken: list[tuple[int, int, int, int]], w: int, h: int,
           width: int, height: int) -> tuple[int, int] | None:
    for _ in range(60):
        x, y = int(rng.integers(0, max(1, width - w))), int(rng.integers(0, max(1, height - h)))
        if all(x + w <= tx or tx + tw <= x or y + h <= ty or ty + th <= y for tx, ty, tw, th in taken):
            return x, y
    return None


def _paste(image: np.ndarray, patch: np.ndarray, x: int, y: int, masked: bool) -> None:
    h, w = patch.shape[:2]
    if not masked:
        image[y: y + h, x: x + w] = patch
        return
    alpha = (cv2.GaussianBlur(patch.max(axis=2), (0, 0), 1.5).astype(np.float32) / 255.0 > 0.05).astype(np.float32)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 2.0)[:, :, None]
    image[y: y + h, x: x + w] = (patch * alpha + image[y: y + h, x: x + w] * (1 - alpha)).astype(np.uint8)


def _face(rng: np.random.Generator) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A face patch at a random size, and its face box inside the patch."""
    if rng.random() < 0.3:
        patch, (fx, fy, fw, fh) = astronaut_face_patch()
        if rng.random() < 0.5:
            patch, fx = np.ascontiguousarray(patch[:, ::-1]), patch.shape[1] - fx - fw
        scale = rng.uniform(70, 220) / fw
    else:
        tone = int(rng.integers(-1, len(SKIN_TONES)))
        patch = lfw_face_patch(int(rng.integers(0, 100)), None if tone < 0 else tone)
        fx, fy, fw, fh = 0, 0, patch.shape[1], patch.shape[0]
        scale = rng.uniform(80, 200) / fw
    size = (max(1, int(round(patch.shape[1] * scale))), max(1, int(round(patch.shape[0] * scale))))
    resized = cv2.resize(patch, size, interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
    return resized, (int(round(fx * scale)), int(round(fy * scale)), int(round(fw * scale)), int(round(fh * scale)))


def _distractor(rng: np.random.Generator) -> tuple[str, np.ndarray, bool]:
    roll = rng.random()
    if roll < 0.45:
        w, h = int(rng.integers(160, 420)), int(rng.integers(200, 480))
        return "sleeve", sleeve_patch(rng, w, h), False
    if roll < 0.65:
        return "hand", hand_patch(rng, int(rng.integers(110, 260)), int(rng.integers(0, len(SKIN_TONES)))), True
    kind = ("cat", "coins", "non-face")[int(rng.integers(0, 3))]
    return kind, _other_distractor(kind, rng, int(rng.integers(100, 240))), False


def make_scene(rng: np.random.Generator, width: int = 1280, height: int = 720, faces: int | None = None,
               distractors: int | None = None) -> Scene:
    """One frame: a background, 0-2 faces (or `faces`) and 1-3 distractors (or `distractors`)."""
    scene = Scene(background(rng, width, height))
    taken: list[tuple[int, int, int, int]] = []
    for _ in range(int(rng.integers(0, 3)) if faces is None else faces):
        patch, (fx, fy, fw, fh) = _face(rng)
        spot = _place(rng, taken, patch.shape[1], patch.shape[0], width, height)
        if spot is None:
            continue
        _paste(scene.image, patch, *spot, masked=False)
        taken.append((*spot, patch.shape[1], patch.shape[0]))
        scene.faces.append((spot[0] + fx, spot[1] + fy, fw, fh))
    for _ in range(int(rng.integers(1, 4)) if distractors is None else distractors):
        kind, patch, masked = _distractor(rng)
        spot = _place(rng, taken, patch.shape[1], patch.shape[0], width, height)
        if spot is None:
            continue
        _paste(scene.image, patch, *spot, masked=masked)
        taken.append((*spot, patch.shape[1], patch.shape[0]))
        scene.distractors.append((kind, (*spot, patch.shape[1], patch.shape[0])))
    return scene


def matches(found: tuple[int, int, int, int], truth: tuple[int, int, int, int]) -> bool:
    """Whether a detected box is this face: its centre inside the face box widened by a fifth on
    every side, and its size within 0.5..2.2 of the face's. Lenient on purpose: detectors frame
    a face differently (Haar brows to mouth, CenterFace forehead to chin)."""
    fx, fy, fw, fh = found
    tx, ty, tw, th = truth
    cx, cy = fx + fw / 2, fy + fh / 2
    inside = tx - tw / 5 <= cx <= tx + tw * 1.2 and ty - th / 5 <= cy <= ty + th * 1.2
    ratio = ((fw * fh) / max(1, tw * th)) ** 0.5
    return inside and 0.5 <= ratio <= 2.2


@dataclass
class PanClip:
    """A clip panning across a wall with a person's head on the left and orange sleeves on the
    right, as the field case that put six "faces" on a sleeve: where everything is, in canvas
    pixels, and how far each frame is panned."""

    path: Path
    face: tuple[int, int, int, int]
    sleeves: list[tuple[int, int, int, int]]
    offsets: list[int]  # frame index → the canvas x shown at the frame's left edge

    def on_face(self, frame_index: int, box: tuple[int, int, int, int]) -> bool:
        x, y, w, h = box
        return matches((x + self.offsets[frame_index], y, w, h), self.face)

    def on_sleeve(self, frame_index: int, box: tuple[int, int, int, int]) -> bool:
        cx = box[0] + box[2] / 2 + self.offsets[frame_index]
        return any(x <= cx <= x + w for x, _, w, _ in self.sleeves)


def make_pan_clip(path: Path, n_frames: int = 30, size: tuple[int, int] = (640, 360), fps: float = 10.0) -> PanClip:
    from tests.engine.media.synth import write_clip  # noqa: PLC0415

    width, height = size
    wall = np.tile(_data().brick(), (1, 4))[:height, : width * 3]
    canvas = tint(wall, (150, 170, 190), 1.0)
    head, (fx, fy, fw, fh) = astronaut_face_patch()
    scale = 120 / fw
    head = cv2.resize(head, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    hx, hy = 120, 40
    canvas[hy: hy + head.shape[0], hx: hx + head.shape[1]] = head
    face = (hx + int(fx * scale), hy + int(fy * scale), int(fw * scale), int(fh * scale))
    sleeves = []
    for i, seed in enumerate((0, 6, 1)):  # seeds whose cloth the raw cascade takes for faces
        x = width - 20 + i * 420
        canvas[10: height - 10, x: x + 360] = sleeve_patch(np.random.default_rng(seed), 360, height - 20)
        sleeves.append((x, 10, 360, height - 20))
    offsets = [int(round(i * (canvas.shape[1] - width) / (n_frames - 1))) for i in range(n_frames)]
    write_clip(path, (np.ascontiguousarray(canvas[:, o: o + width]) for o in offsets), fps, size)
    return PanClip(path, face, sleeves, offsets)
