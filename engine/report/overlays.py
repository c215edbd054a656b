"""The overlays a report draws on a region: every model's that the run stored for it, each named
with its method, and the colour scale they are drawn in.

A run with several models stores an overlay per model, and the models often look at different
places; showing only the first model's would let a reader take one model's attention for the
ensemble's. Each overlay is found by model, frame and box (a face track's overlay is never
drawn on the whole frame), decoded with the size checks of engine/explain/overlay.py, and a
refused one comes back with the reason the report prints ("overlay N not shown: …").
"""

from __future__ import annotations

import io
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from PIL import Image

from engine.case import CaseStore
from engine.errors import EngineError
from engine.explain.colormap import colour_table
from engine.explain.overlay import OCCLUSION, ROLLOUT, Overlay, declared_size_problem
from engine.report.rows import overlay_meta_box

METHOD_NAMES = {ROLLOUT: "attention rollout", OCCLUSION: "occlusion"}
METHOD_MEANINGS = {
    ROLLOUT: "how much of the model's attention flowed from each part of the picture to its decision",
    OCCLUSION: "how much the score dropped when each part of the picture was hidden",
}
SCALE_TEXT = ("Colour scale (inferno): dark = 0, least; bright yellow = 1, most. Each map is scaled to its own "
              "range, so colours compare places within one map, not one model with another.")
COLOUR_MAP = "inferno"

FoundOverlay = tuple[Any, dict[str, Any]]  # (Overlay or None when refused, its info)
OverlayFinder = Callable[[Mapping[str, Any], Sequence[str]], list[FoundOverlay]]


def method_name(method: Any) -> str:
    """An overlay method for people; one this program never writes is shown as stored."""
    return METHOD_NAMES.get(method, str(method)) if isinstance(method, str) else str(method)


def method_meaning(method: Any) -> str | None:
    return METHOD_MEANINGS.get(method) if isinstance(method, str) else None


def colour_scale_png(width: int = 512, height: int = 20) -> bytes:
    """The colour table the overlays are drawn with, as a horizontal bar from 0 to 1."""
    table = colour_table(COLOUR_MAP)
    ramp = table[np.linspace(0, 255, width).astype(np.uint8)]
    bar = np.repeat(ramp[None, :, :], height, axis=0)
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(bar), "RGB").save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _box_matches(declared: list[float] | None, region: Mapping[str, Any]) -> bool:
    box = region.get("box")
    if declared is None or box is None:
        return True  # nothing to compare (a description without a box): model and frame decide
    return declared == list(box)


def overlay_finder(store: CaseStore, run_id: int, evidence_id: int) -> OverlayFinder:
    """A function giving, for one region and the run's models in order, each model's stored
    overlay of that region, decoded, or None with the reason it was refused."""
    listed = store.overlays(run_id, evidence_id)

    def info_of(record: Any, model: str) -> dict[str, Any]:
        meta = record.meta if isinstance(record.meta, dict) else {}
        return {"id": record.id, "model": model, "method": record.method, "method_name": method_name(record.method),
                "meaning": method_meaning(record.method), "sha256": record.sha256, "caveat": meta.get("caveat")}

    def one(region: Mapping[str, Any], model: str) -> FoundOverlay | None:
        refused: FoundOverlay | None = None
        for record in listed:
            if record.model != model or record.frame_index != region["frame_index"]:
                continue
            box, problem = overlay_meta_box(record.meta)
            problem = problem or declared_size_problem(record.meta)
            if problem:  # said unless a sound overlay of this region turns up
                refused = refused or (None, {**info_of(record, model), "error": problem})
                continue
            if not _box_matches(box, region):
                continue
            try:
                return Overlay.from_npz_bytes(store.get_overlay(record.id)), info_of(record, model)
            except EngineError as exc:
                return None, {**info_of(record, model), "error": str(exc)}
        return refused

    def find(region: Mapping[str, Any], models: Sequence[str]) -> list[FoundOverlay]:
        return [found for found in (one(region, model) for model in models) if found is not None]

    return find
