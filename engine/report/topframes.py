"""The k most suspicious regions of an evidence item, re-read from the file and drawn for print.

Regions are ranked by the ensemble's per-region score (the weighted mean of the authenticity
models, as the verdicts use it) or, with one authenticity model, by that model's score. Each
chosen region's frame is decoded again from the evidence file (opened read-only) only when the
file still has the hash the case recorded, so a picture in the report is always the picture
that was scored. Images are JPEG thumbnails small enough for a printed page; each model's
overlay of the region is drawn beside them, larger than the crop, since that is what is studied.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from PIL import Image, ImageDraw

from engine.analysis.ensemble import ScoredRegion, ensemble_regions
from engine.errors import EngineError
from engine.explain.overlay import box_problem
from engine.report.textsafe import is_number
from engine.util.hashing import sha256_bytes
from engine.vocab import ENSEMBLE

FRAME_WIDTH = 480
CROP_SIZE = 220
# Overlays are what a reader studies, so they are drawn larger than the crop they explain.
OVERLAY_SIZE = 360
OVERLAY_FRAME_WIDTH = 640
JPEG_QUALITY = 85


@dataclass
class Images:
    """Rendered images by SHA-256, so each is embedded once however often it is cited."""

    data: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # sha → (mime, bytes)

    def add(self, payload: bytes, mime: str) -> str:
        digest = sha256_bytes(payload)
        self.data[digest] = (mime, payload)
        return digest


def rank_regions(rows: Sequence[ScoredRegion], authenticity: Sequence[str],
                 weights: Mapping[str, float], k: int) -> tuple[list[dict[str, Any]], str | None]:
    """The k highest-scoring regions (frame, track) by ensemble score, and the name of what ranked them."""
    if not authenticity:
        return [], None
    regions = ensemble_regions(rows, authenticity, weights)
    regions.sort(key=lambda r: (-r.score, r.frame_index or 0, -1 if r.track_id is None else r.track_id))
    by = ENSEMBLE if len(authenticity) > 1 else authenticity[0]
    return [{"frame_index": r.frame_index, "timestamp": r.timestamp, "track_id": r.track_id, "box": r.box,
             "scores": dict(r.scores), "score": r.score} for r in regions[:k]], by


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return buffer.getvalue()


def _fit(image: Image.Image, max_w: int, max_h: int, upscale: bool = False) -> Image.Image:
    scale = min(max_w / image.width, max_h / image.height)
    if scale >= 1 and not upscale:
        return image
    return image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.LANCZOS)


def _clip_box(box: Any, width: int, height: int) -> tuple[int, int, int, int] | None:
    if not (isinstance(box, (list, tuple)) and len(box) == 4 and all(is_number(v) for v in box)):
        return None  # not a box (the report's row check lists such rows): the whole frame
    x, y, w, h = (int(v) for v in box)
    x0, y0, x1, y1 = max(0, x), max(0, y), min(width, x + w), min(height, y + h)
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def render_region(frame_rgb: np.ndarray, region: Mapping[str, Any], overlays: Sequence[Any],
                  images: Images) -> dict[str, Any]:
    """JPEG thumbnails of one region: the frame with its box, the crop, and each overlay drawn
    on the crop (or on the whole frame, for a whole-frame region), in the order given."""
    height, width = frame_rgb.shape[:2]
    picture = Image.fromarray(frame_rgb, "RGB")
    box = _clip_box(region["box"] or (0, 0, width, height), width, height)
    whole = box is None or box == (0, 0, width, height)
    framed = picture.copy()
    if box is not None and not whole:
        line = max(2, round(max(width, height) / 240))
        ImageDraw.Draw(framed).rectangle(box, outline=(255, 40, 40), width=line)
    out: dict[str, Any] = {"frame": images.add(_jpeg(_fit(framed, FRAME_WIDTH, FRAME_WIDTH * 2)), "image/jpeg"),
                           "crop": None, "overlays": []}
    if not whole:
        out["crop"] = images.add(_jpeg(_fit(picture.crop(box), CROP_SIZE, CROP_SIZE, upscale=True)), "image/jpeg")
    for overlay in overlays:
        blended = Image.fromarray(overlay.blend(frame_rgb), "RGB")
        shown = blended if whole else blended.crop(box)
        limit = OVERLAY_FRAME_WIDTH if whole else OVERLAY_SIZE
        out["overlays"].append(images.add(_jpeg(_fit(shown, limit, limit * 2, upscale=not whole)), "image/jpeg"))
    out["overlay"] = out["overlays"][0] if out["overlays"] else None  # the first, as format 1 had it
    return out


def _frame_of(evidence_path: str, media_kind: str | None, frame_index: Any, cache: dict[str, np.ndarray]) -> np.ndarray:
    """The region's frame as uint8 RGB, decoded again from the evidence file."""
    if media_kind == "video":
        from engine.media.frames import read_frame

        if not isinstance(frame_index, int) or isinstance(frame_index, bool) or frame_index < 0:
            raise EngineError(f"no frame index recorded ({frame_index!r:.40})")
        return np.ascontiguousarray(read_frame(evidence_path, frame_index)[:, :, ::-1])
    if "image" not in cache:
        from engine.media.image import load_image

        cache["image"] = np.asarray(load_image(evidence_path).rgb)
    return cache["image"]


def _checked_overlay(overlay: Any, info: dict | None, frame: np.ndarray) -> tuple[Any, dict | None, str | None]:
    """The overlay when it can be drawn on this frame; else None, its info with the reason, and
    the sentence the report prints ("overlay N not shown: …")."""
    reason = info.get("error") if info else None
    if overlay is not None and reason is None:
        height, width = frame.shape[:2]
        reason = box_problem(list(overlay.box), (width, height))
    if reason is None:
        return overlay, info, None
    info = {**(info or {}), "error": reason}
    return None, info, f"overlay {info.get('id', '?')} not shown: {reason}"


def _region_pictures(frame: np.ndarray, region: Mapping[str, Any], found: Sequence[tuple[Any, dict[str, Any]]],
                     images: Images, notes: list[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The region's images and one info per overlay (its picture's digest under "image", or
    its "error"), with a note for each overlay that cannot be drawn."""
    drawable, infos = [], []
    for found_overlay, found_info in found:
        overlay, info, refused = _checked_overlay(found_overlay, found_info, frame)
        if refused:
            notes.append(refused)
        if overlay is not None:
            drawable.append(overlay)
        infos.append({**(info or {}), "image": None, "drawn": overlay is not None})
    pictures = render_region(frame, region, drawable, images)
    drawn = iter(pictures["overlays"])
    for info in infos:
        if info.pop("drawn"):
            info["image"] = next(drawn)
    return pictures, infos


def top_frames(evidence_path: str, media_kind: str | None, rows: Sequence[ScoredRegion],
               authenticity: Sequence[str], weights: Mapping[str, float], k: int,
               find_overlays: Callable[[Mapping[str, Any], Sequence[str]], list[tuple[Any, dict[str, Any]]]],
               images: Images, models: Sequence[str] = ()) -> tuple[list[dict[str, Any]], list[str]]:
    """Entries for the k most suspicious regions, with image references (the overlay of every
    model in `models` that has one), and notes on what failed."""
    chosen, ranked_by = rank_regions(rows, authenticity, weights, k)
    notes: list[str] = []
    entries: list[dict[str, Any]] = []
    cache: dict[str, np.ndarray] = {}
    for rank, region in enumerate(chosen, start=1):
        entry = {"rank": rank, "frame_index": region["frame_index"], "timestamp": region["timestamp"],
                 "track_id": region["track_id"], "box": region["box"], "score": region["score"],
                 "scores": region["scores"], "ranked_by": ranked_by, "overlay": None, "overlays": [],
                 "images": {"frame": None, "crop": None, "overlay": None, "overlays": []}}
        try:
            frame = _frame_of(evidence_path, media_kind, region["frame_index"], cache)
            found = find_overlays(region, list(models) or list(authenticity))
            entry["images"], entry["overlays"] = _region_pictures(frame, region, found, images, notes)
            entry["overlay"] = entry["overlays"][0] if entry["overlays"] else None  # the first, as format 1 had it
        except EngineError as exc:
            notes.append(f"frame {region['frame_index']}: cannot be shown: {exc}")
        entries.append(entry)
    return entries, notes
