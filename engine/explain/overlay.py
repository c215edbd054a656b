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
import math
import zipfile
import zlib
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
        """Read a stored payload back; ModelError when it is not an overlay this program could
        have written. Sizes are checked before anything is decoded (a case file can be edited
        to declare a 16000×16000 grid in a few bytes of deflated zeros): the array headers,
        the archive's declared member sizes, the grid's side, the box and the frame size."""
        if bytes(data[:8]) == _PNG_MAGIC:
            raise ModelError(f"not a stored overlay: {_png_size_text(bytes(data[:24]))}, and overlays are stored as NPZ")
        if bytes(data[:4]) != b"PK\x03\x04":
            raise ModelError("not a stored overlay (not an NPZ archive)")
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                grid = _read_member(archive, "grid.npy", _grid_header_problem)
                meta = json.loads(str(_read_member(archive, "meta.npy", _meta_header_problem)))
        except ModelError:
            raise
        except (OSError, ValueError, KeyError, EOFError, RuntimeError, NotImplementedError, zipfile.BadZipFile,
                zlib.error, MemoryError) as exc:
            raise ModelError(f"not a stored overlay: {str(exc)[:120] or type(exc).__name__}") from exc
        problem = meta_problem(meta)
        if problem:
            raise ModelError(f"not a stored overlay: {problem}")
        try:
            return cls(
                method=meta["method"], model=meta["model"], model_sha256=meta["model_sha256"], grid=grid,
                box=tuple(meta["box"]), recipe=PreprocessRecipe.from_dict(meta["preprocess"]),
                frame_size=tuple(meta["frame_size"]) if meta.get("frame_size") else None,
                params=meta.get("params") or {}, caveat=meta.get("caveat", CAVEAT),
            )
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise ModelError(f"not a stored overlay: its description does not fit ({str(exc)[:120]})") from exc


_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# A patch grid is 14 to 64 cells a side, an occlusion map fewer; more is not an overlay this
# program made, and 1024² float32 cells (4 MiB) is as much as a report or a viewer should decode.
MAX_GRID_SIDE = 1024
# Box and frame sizes in pixels: beyond any photo or video frame this program decodes.
MAX_FRAME_SIDE = 100_000
MAX_META_CHARS = 1 << 20  # the JSON description; a real one is under 1 KiB
_EDGE_SLACK = 2  # pixels a box may overhang its frame by (rounding of a clipped face crop)


def _png_size_text(head: bytes) -> str:
    if len(head) >= 24 and head[12:16] == b"IHDR":
        return f"a PNG image of {int.from_bytes(head[16:20], 'big'):,}×{int.from_bytes(head[20:24], 'big'):,} pixels"
    return "a PNG image"


def _grid_header_problem(shape: tuple[int, ...], dtype: np.dtype) -> str | None:
    if dtype.kind not in "fiu" or dtype.itemsize > 8:
        return f"its grid holds {dtype} values, not numbers"
    if len(shape) != 2 or not all(1 <= side <= MAX_GRID_SIDE for side in shape):
        return (f"its grid is {'×'.join(f'{side:,}' for side in shape) or 'a single value'} cells; "
                f"an overlay grid is 2-D with at most {MAX_GRID_SIDE:,} cells a side")
    return None


def _meta_header_problem(shape: tuple[int, ...], dtype: np.dtype) -> str | None:
    if shape != () or dtype.kind != "U" or dtype.itemsize > 4 * MAX_META_CHARS:
        return f"its description is not one text of at most {MAX_META_CHARS:,} characters"
    return None


def _read_member(archive: zipfile.ZipFile, name: str, check: Any) -> np.ndarray:
    """One .npy member, its header checked by `check(shape, dtype)` before any data is read;
    never more bytes than the header announces (the archive's own sizes are checked too)."""
    info = archive.getinfo(name)
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise ModelError(f"not a stored overlay: {name} has an unknown array format {version}")
        problem = check(tuple(shape), dtype)
        if problem:
            raise ModelError(f"not a stored overlay: {problem}")
        expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        header = member.tell() if member.seekable() else 0
        if info.file_size - header != expected:
            raise ModelError(f"not a stored overlay: {name} holds {info.file_size:,} bytes, its header announces "
                             f"{expected:,} of data")
        raw = member.read(expected + 1)
    if len(raw) != expected:
        raise ModelError(f"not a stored overlay: {name} is truncated")
    array = np.frombuffer(raw, dtype=dtype)
    return array.reshape(shape, order="F" if fortran else "C")


def _sizes(value: Any, count: int) -> bool:
    return (isinstance(value, (list, tuple)) and len(value) == count
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value))


def box_problem(box: Any, frame_size: Any = None) -> str | None:
    """What is wrong with an overlay's box (x, y, w, h) for a frame of `frame_size` (width,
    height; None when unknown), or None: four finite numbers, a positive size, within
    ±MAX_FRAME_SIDE pixels, and inside the frame when its size is known."""
    if not _sizes(box, 4):
        return "its box is not 4 finite numbers (x, y, w, h)"
    x, y, w, h = box
    if w < 1 or h < 1 or max(abs(x), abs(y), w, h, abs(x + w), abs(y + h)) > MAX_FRAME_SIDE:
        return f"its box ({x:g}, {y:g}, {w:g}, {h:g}) is empty or beyond {MAX_FRAME_SIDE:,} pixels"
    if frame_size is not None:
        width, height = frame_size
        if x < -_EDGE_SLACK or y < -_EDGE_SLACK or x + w > width + _EDGE_SLACK or y + h > height + _EDGE_SLACK:
            return f"its box ({x:g}, {y:g}, {w:g}, {h:g}) lies outside the {width:g}×{height:g} frame"
    return None


def declared_size_problem(meta: Any) -> str | None:
    """What is wrong with the sizes an overlay's description declares (grid shape, frame size,
    box; each checked when present), or None. Used on the description a case keeps beside the
    payload, before the payload is even read."""
    if not isinstance(meta, dict):
        return "its description is not an object"
    frame_size = meta.get("frame_size")
    if frame_size is not None and not (_sizes(frame_size, 2) and all(1 <= v <= MAX_FRAME_SIDE for v in frame_size)):
        return f"its frame size is not 2 numbers from 1 to {MAX_FRAME_SIDE:,}"
    shape = meta.get("grid_shape")
    if shape is not None and not (_sizes(shape, 2) and all(1 <= v <= MAX_GRID_SIDE for v in shape)):
        return f"its grid is declared as {shape!r:.60}; an overlay grid has at most {MAX_GRID_SIDE:,} cells a side"
    return None if meta.get("box") is None else box_problem(meta["box"], frame_size)


def meta_problem(meta: Any) -> str | None:
    """What is wrong with the description inside an overlay's payload before anything is drawn
    from it, or None."""
    if not isinstance(meta, dict) or meta.get("format") != PAYLOAD_FORMAT:
        return "unknown format"
    for name in ("method", "model", "model_sha256"):
        if not isinstance(meta.get(name), str):
            return f"its {name} is not text"
    if not isinstance(meta.get("preprocess"), dict):
        return "its preprocessing is not an object"
    if meta.get("params") is not None and not isinstance(meta.get("params"), dict):
        return "its parameters are not an object"
    if not isinstance(meta.get("caveat", CAVEAT), str):
        return "its caveat is not text"
    if meta.get("box") is None:
        return "it has no box"
    return declared_size_problem(meta)
