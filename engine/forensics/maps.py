"""Forensic maps of a picture: error level, noise level, noise residual, frequency spectrum.

`forensic_map(rgb, kind, **params)` checks the parameters against each kind's table (a
wrong name or an out-of-range value is a one-line SettingsError), computes the map, and
returns a frozen ForensicMap: the values (float32 in 0..1), the same coloured for display
(uint8 RGB, inferno: black low → yellow high), every parameter used (defaults included), a
legend, the figures behind it, and one statement of what the map can and cannot show.
`MapCache` keeps recent maps in process, keyed by evidence hash, frame, kind and parameters.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.errors import SettingsError
from engine.explain.colormap import colour_table
from engine.forensics.ela import STATEMENT as ELA_STATEMENT
from engine.forensics.ela import ela_map
from engine.forensics.noise_map import (
    LEVEL_STATEMENT,
    RESIDUAL_STATEMENT,
    grey,
    noise_level_map,
    residual_map,
)
from engine.forensics.spectrum import STATEMENT as SPECTRUM_STATEMENT
from engine.forensics.spectrum import SpectrumPeak, spectrum_map

ParamValue = int | float | str
# kind → parameter → (type, lowest, highest or choices, default)
PARAMETERS: dict[str, dict[str, tuple[type, Any, Any, ParamValue]]] = {
    "ela": {"quality": (int, 1, 100, 90), "ceiling": (float, 0.0, 255.0, 0.0)},
    "noise": {"block": (int, 4, 256, 16)},
    "residual": {},
    "spectrum": {"tile": (int, 32, 1024, 256), "source": (str, None, ("gradient", "image"), "gradient")},
}
KINDS = tuple(PARAMETERS)
TITLES = {"ela": "Error level analysis (ELA)", "noise": "Noise level", "residual": "Noise residual",
          "spectrum": "Frequency spectrum"}
COLOUR_MAP = "inferno"


@dataclass(frozen=True)
class ForensicMap:
    kind: str
    params: dict[str, ParamValue]
    values: np.ndarray = field(repr=False)  # float32 (h, w) in 0..1
    rgb: np.ndarray = field(repr=False)  # uint8 (h, w, 3), ready to show
    aligned: bool  # True: one value per picture pixel (can be laid over it); False: frequency space
    legend: str
    statement: str
    figures: dict[str, float]
    peaks: tuple[SpectrumPeak, ...] = ()

    def png_bytes(self) -> bytes:
        """The coloured map as a PNG file's bytes (lossless, so the colours are exactly these)."""
        import cv2  # noqa: PLC0415

        ok, encoded = cv2.imencode(".png", cv2.cvtColor(self.rgb, cv2.COLOR_RGB2BGR))
        if not ok:
            raise SettingsError("the map could not be encoded as PNG")
        return encoded.tobytes()

    def describe(self) -> dict[str, Any]:
        """Everything but the pixels, JSON-ready."""
        return {"kind": self.kind, "params": dict(self.params), "aligned": self.aligned, "legend": self.legend,
                "statement": self.statement, "figures": dict(self.figures), "size": list(self.values.shape[::-1]),
                "peaks": [{"fx": p.fx, "fy": p.fy, "ratio": p.ratio, "note": p.note} for p in self.peaks]}


def checked_params(kind: str, given: dict[str, Any]) -> dict[str, ParamValue]:
    """Every parameter of `kind`, given or default, checked; SettingsError otherwise."""
    if kind not in PARAMETERS:
        raise SettingsError(f"unknown map kind {kind!r}: one of {', '.join(KINDS)}")
    table = PARAMETERS[kind]
    unknown = sorted(set(given) - set(table))
    if unknown:
        allowed = ", ".join(table) or "none"
        raise SettingsError(f"map {kind!r} takes no parameter {', '.join(unknown)} (it takes: {allowed})")
    out: dict[str, ParamValue] = {}
    for name, (kind_type, low, high, default) in table.items():
        value = given.get(name, default)
        if value is None:
            value = default
        out[name] = _one(kind, name, value, kind_type, low, high)
    return out


def _one(kind: str, name: str, value: Any, kind_type: type, low: Any, high: Any) -> ParamValue:
    if kind_type is str:
        if value not in high:
            raise SettingsError(f"map {kind!r}: {name} must be one of {', '.join(high)}, not {str(value)[:40]!r}")
        return str(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind_type is int and value != int(value)):
        raise SettingsError(f"map {kind!r}: {name} must be {'a whole number' if kind_type is int else 'a number'}")
    number: int | float = int(value) if kind_type is int else float(value)
    if not low <= number <= high:
        raise SettingsError(f"map {kind!r}: {name} must be between {low} and {high}, not {number}")
    return number


def colourise(values: np.ndarray) -> np.ndarray:
    levels = np.rint(np.clip(values, 0.0, 1.0) * 255.0).astype(np.uint8)
    return np.ascontiguousarray(colour_table(COLOUR_MAP)[levels])


def forensic_map(rgb: np.ndarray, kind: str, **params: Any) -> ForensicMap:
    """One map of a uint8 RGB picture (H, W, 3)."""
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise SettingsError("a forensic map needs a uint8 RGB picture of shape (H, W, 3)")
    used = checked_params(kind, params)
    picture = np.ascontiguousarray(rgb)
    peaks: tuple[SpectrumPeak, ...] = ()
    if kind == "ela":
        values, figures = ela_map(picture, int(used["quality"]), float(used["ceiling"]))
        legend = (f"error after recompression at JPEG quality {used['quality']}: black none, yellow "
                  f"≥ {figures['ceiling']:.0f} of 255 levels")
        statement, aligned = ELA_STATEMENT, True
    elif kind == "noise":
        values, figures = noise_level_map(picture, int(used["block"]))
        legend = (f"noise σ per {used['block']}×{used['block']} block: black 0, yellow "
                  f"≥ {figures['ceiling_sigma']:.2f} grey levels (median {figures['median_sigma']:.2f})")
        statement, aligned = LEVEL_STATEMENT, True
    elif kind == "residual":
        values, figures = residual_map(picture)
        legend = f"|noise residual|: black 0, yellow ≥ {figures['ceiling']:.1f} grey levels"
        statement, aligned = RESIDUAL_STATEMENT, True
    else:
        try:
            values, figures, found = spectrum_map(grey(picture), int(used["tile"]), str(used["source"]))
        except ValueError as exc:
            raise SettingsError(f"map 'spectrum': {exc}; choose a smaller tile") from None
        peaks = tuple(found)
        best = f"strongest off-grid peak {figures['peak_score']:.0f}× its surroundings" if figures["peak_score"] else \
            "no off-grid peak 20× above its surroundings"
        legend = (f"log power of the {used['source']} spectrum over {figures['tiles']:.0f} tiles of {used['tile']} px, "
                  f"zero frequency at the centre, ±0.5 cycles/pixel at the edges; {best}")
        statement, aligned = SPECTRUM_STATEMENT, False
    values.setflags(write=False)
    colours = colourise(values)
    colours.setflags(write=False)
    return ForensicMap(kind, used, values, colours, aligned, legend, statement, figures, peaks)


class MapCache:
    """Recent maps, keyed by (evidence SHA-256, frame index, kind, parameters), within a byte budget."""

    def __init__(self, budget_bytes: int = 512 * 1024 * 1024) -> None:
        self._budget = budget_bytes
        self._maps: OrderedDict[tuple[Any, ...], ForensicMap] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(sha256: str, frame_index: int, kind: str, params: dict[str, ParamValue]) -> tuple[Any, ...]:
        return (sha256, frame_index, kind, tuple(sorted(params.items())))

    def get(self, key: tuple[Any, ...]) -> ForensicMap | None:
        with self._lock:
            found = self._maps.get(key)
            if found is not None:
                self._maps.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], value: ForensicMap) -> None:
        with self._lock:
            self._maps[key] = value
            self._maps.move_to_end(key)
            while len(self._maps) > 1 and self._bytes() > self._budget:
                self._maps.popitem(last=False)

    def _bytes(self) -> int:
        return sum(m.values.nbytes + m.rgb.nbytes for m in self._maps.values())

    def __len__(self) -> int:
        return len(self._maps)
