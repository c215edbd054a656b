"""`Overlay`: one explanation heatmap with everything needed to redraw, store and cite it.

An overlay keeps the small map on the model-input grid (a patch grid or an occlusion map),
the region it explains as a box in frame coordinates, the preprocessing recipe that maps the
grid back onto that region, how it was made (method and parameters) and which model made it
(name and SHA-256). It always carries the caveat that it shows where the model looked, not
proof of manipulation. The stored payload is a deterministic NPZ (fixed zip timestamps), so
the same overlay always has the same SHA-256; `blend` and `region_rgba` draw it for reports and viewers.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping

import numpy as np

from engine.errors import ModelError
from engine.explain.colormap import DEFAULT_ALPHA, blend_overlay, colorize_rgba
from engine.explain.geometry import Box, as_box, heatmap_to_region
from engine.util.hashing import sha256_bytes
from engine.models.preprocess import PreprocessRecipe

CAVEAT = "Shows where the model looked, not proof of manipulation."
ROLLOUT = "attention-rollout"
OCCLUSION = "occlusion"
METHODS = (ROLLOUT, OCCLUSION)
PAYLOAD_FORMAT = "dfw-overlay-1"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


@dataclass(frozen=True, eq=False)
class Overlay:
    """A heatmap on the model-input grid, placed by `box` (x, y, w, h) in the frame."""

    method: str  # "attention-rollout" | "occlusion"
    model: str
    model_sha256: str
    grid: np.ndarray  # float32, values in [0, 1], covers the model input uniformly
    box: Box
    recipe: PreprocessRecipe
    frame_size: tuple[int, int] | None = None  # (width, height) of the frame
    params: Mapping[str, Any] = field(default_factory=dict)
    caveat: str = CAVEAT

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ModelError(f"unknown overlay method {self.method!r}: {', '.join(METHODS)}")
        grid = np.array(self.grid, dtype=np.float32, copy=True)
        if grid.ndim != 2 or grid.size == 0:
            raise ModelError(f"an overlay grid is 2-D; got shape {grid.shape}")
        grid.setflags(write=False)
        object.__setattr__(self, "grid", grid)
        object.__setattr__(self, "box", as_box(self.box))
        object.__setattr__(self, "params", dict(self.params))

    def region_map(self, interpolation: str = "linear", max_side: int | None = None) -> np.ndarray:
        """The map at region resolution (box h, box w), or scaled down so its longer side is at
        most `max_side` (a viewer scales it back up); NaN where the model did not see."""
        width, height = self.box[2], self.box[3]
        if max_side is not None and max(width, height) > max_side:
            scale = max_side / max(width, height)
            width, height = max(1, round(width * scale)), max(1, round(height * scale))
        return heatmap_to_region(self.grid, self.recipe, (width, height), interpolation)

    def blend(self, frame_rgb: np.ndarray, alpha: float = DEFAULT_ALPHA) -> np.ndarray:
        """The frame (uint8 RGB) with this overlay drawn over its region."""
        return blend_overlay(frame_rgb, self.region_map(), self.box, alpha)

    def meta(self) -> dict[str, Any]:
        """JSON-safe description: what the case records beside the payload."""
        return {
            "format": PAYLOAD_FORMAT,
            "method": self.method,
            "model": self.model,
            "model_sha256": self.model_sha256,
            "box": list(self.box),
            "frame_size": list(self.frame_size) if self.frame_size else None,
            "grid_shape": list(self.grid.shape),
            "params": self.params,
            "preprocess": self.recipe.to_dict(),
            "caveat": self.caveat,
        }

    def to_npz_bytes(self) -> bytes:
        """Deterministic NPZ with `grid` (float32) and `meta` (JSON text)."""
        meta = json.dumps(self.meta(), sort_keys=True, default=str)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, array in (("grid.npy", self.grid), ("meta.npy", np.array(meta))):
                info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, _npy_bytes(array))
        return buffer.getvalue()

    @cached_property
    def payload(self) -> bytes:
        return self.to_npz_bytes()

    @property
    def sha256(self) -> str:
        """SHA-256 of the NPZ payload (what the case store records)."""
        return sha256_bytes(self.payload)

    def region_rgba(self, max_side: int | None = None) -> np.ndarray:
        """The coloured map over its region as uint8 RGBA (box h, box w, 4), transparent where the
        model did not see: what a viewer lays over the frame at `box`. With `max_side`, at most
        that many pixels on the longer side (the map is smooth; a viewer scales it up)."""
        return colorize_rgba(self.region_map(max_side=max_side))

    def case_fields(self) -> dict[str, Any]:
        """Keyword arguments for CaseStore.add_overlay(run_id, evidence_id, frame_index, **fields)."""
        return {"model": self.model, "method": self.method, "payload": self.payload, "meta": self.meta()}

    @classmethod
    def from_npz_bytes(cls, data: bytes) -> "Overlay":
        """Read a stored payload back; ModelError when it is not an overlay."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as archive:
                grid = archive["grid"]
                meta = json.loads(str(archive["meta"]))
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise ModelError(f"not a stored overlay: {str(exc)[:120]}") from exc
        if not isinstance(meta, dict) or meta.get("format") != PAYLOAD_FORMAT:
            raise ModelError("not a stored overlay (unknown format)")
        return cls(
            method=meta["method"], model=meta["model"], model_sha256=meta["model_sha256"], grid=grid,
            box=tuple(meta["box"]), recipe=PreprocessRecipe.from_dict(meta["preprocess"]),
            frame_size=tuple(meta["frame_size"]) if meta.get("frame_size") else None,
            params=meta.get("params") or {}, caveat=meta.get("caveat", CAVEAT),
        )
