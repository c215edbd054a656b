"""Log-magnitude frequency spectrum, averaged over tiles, with a periodic-peak score.

Upsampling by a factor k (an image resized up, or a generator's upsampling layers) leaves a
pattern that repeats every k pixels in the picture's local differences: nearest-neighbour
doubling makes every other column difference zero, interpolation every other second
difference. The spectrum of the gradient magnitude |∂x| + |∂y| therefore has sharp peaks at
multiples of 1/k cycles per pixel, where a camera picture's spectrum is smooth (Kirchner
and Popescu–Farid reason the same way about resampling). Power spectra of up to MAX_TILES
Hann-windowed tiles are averaged (Welch's method) so that the picture's content averages
out and periodic structure stays. A peak's score is its power over the median power around it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MAX_TILES = 64
PEAK_RATIO = 20.0  # a point 20× above its neighbourhood: camera pictures stay below about 4×
MAX_PEAKS = 6
STATEMENT = ("Spectrum of the local gradient magnitude averaged over tiles (centre = zero frequency; 'image' source: "
             "of the picture itself). Bright isolated points away from the centre are periodic structure: upsampling "
             "by k (a resize, a generator's upsampling layers) puts peaks at multiples of 1/k cycles per pixel, JPEG's "
             "8×8 blocks at multiples of 1/8. It cannot say which of these made a peak, and no peak does not make a "
             "picture camera-original: downscaling, strong compression and filtering remove them.")


@dataclass(frozen=True)
class SpectrumPeak:
    fx: float  # cycles per pixel, −0.5..0.5 (horizontal)
    fy: float  # cycles per pixel, −0.5..0.5 (vertical)
    ratio: float  # power over the median power of the neighbourhood
    note: str  # "on the JPEG 8×8 grid", "period 2 pixels", ...


def _signal(grey: np.ndarray, source: str) -> np.ndarray:
    if source == "image":
        return grey
    dx = cv2.absdiff(grey[:-1, 1:], grey[:-1, :-1])
    dy = cv2.absdiff(grey[1:, :-1], grey[:-1, :-1])
    return cv2.add(dx, dy)


def _tiles(signal: np.ndarray, tile: int) -> np.ndarray:
    rows, cols = signal.shape[0] // tile, signal.shape[1] // tile
    if rows == 0 or cols == 0:
        raise ValueError(f"the picture is smaller than one {tile}×{tile} tile")
    ys = np.linspace(0, rows - 1, min(rows, int(np.ceil(np.sqrt(MAX_TILES * rows / cols))))).round().astype(int)
    xs = np.linspace(0, cols - 1, min(cols, max(1, MAX_TILES // len(ys)))).round().astype(int)
    picked = [signal[y * tile:(y + 1) * tile, x * tile:(x + 1) * tile] for y in np.unique(ys) for x in np.unique(xs)]
    return np.stack(picked).astype(np.float32)


def power_spectrum(grey: np.ndarray, tile: int, source: str) -> tuple[np.ndarray, int]:
    """(tile, tile) mean power spectrum with zero frequency at the centre, and the tile count."""
    tiles = _tiles(_signal(grey, source), tile)
    tiles -= tiles.mean(axis=(1, 2), keepdims=True)
    window = np.outer(np.hanning(tile), np.hanning(tile)).astype(np.float32)
    power = np.zeros((tile, tile), dtype=np.float64)
    for start in range(0, len(tiles), 8):  # bounded working memory per batch of tiles
        batch = np.fft.fft2(tiles[start:start + 8] * window)
        power += (batch.real ** 2 + batch.imag ** 2).sum(axis=0)
    return np.fft.fftshift(power / len(tiles)), len(tiles)


def _wrapped(values: np.ndarray, reach: int) -> np.ndarray:
    return cv2.copyMakeBorder(values, reach, reach, reach, reach, cv2.BORDER_WRAP)


def _local_median(log_power: np.ndarray, size: int = 9) -> np.ndarray:
    """Median over a size × size neighbourhood (wrapping, as the spectrum does), via OpenCV's
    8-bit median filter on levels 1/255 of the range apart: fine enough for a 20× threshold."""
    low, high = float(log_power.min()), float(log_power.max())
    span = max(high - low, 1e-9)
    levels = np.rint((log_power - low) / span * 255).astype(np.uint8)
    reach = size // 2
    median = cv2.medianBlur(_wrapped(levels, reach), size)[reach:-reach, reach:-reach]
    return median.astype(np.float64) / 255 * span + low


def _eighths(f: float, tile: int) -> int | None:
    """k when f is k/8 cycles per pixel (within a bin and a half), else None."""
    k = round(f * 8)
    return abs(k) if abs(f - k / 8) <= 1.5 / tile else None


def _label(fx: float, fy: float, tile: int, grid: bool) -> str:
    periods = [round(1 / abs(f)) for f in (fx, fy) if abs(f) > 1.5 / tile]
    period = f"period {' × '.join(str(p) for p in periods)} pixels" if periods else ""
    if grid and _eighths(fx, tile) is not None and _eighths(fy, tile) is not None:
        return "on the 8×8 JPEG grid" + (f" ({period})" if period else "")
    return period


def _candidates(power: np.ndarray) -> list[tuple[int, int, float]]:
    """(row, column, log10 prominence) of local maxima standing PEAK_RATIO above their surroundings."""
    tile = power.shape[0]
    log_power = np.log10(power + 1e-12)
    prominence = (log_power - _local_median(log_power)).astype(np.float32)  # compared in float32 below
    offsets = np.arange(tile) - tile // 2
    low = np.abs(offsets) < max(2, tile // 32)
    prominence[np.ix_(low, low)] = 0.0  # the picture's own low frequencies
    neighbourhood = cv2.dilate(_wrapped(prominence, 1), np.ones((3, 3), np.uint8))[1:-1, 1:-1]
    local_max = prominence >= neighbourhood
    found = np.argwhere(local_max & (prominence >= np.log10(PEAK_RATIO)))
    ranked = sorted(((int(y), int(x), float(prominence[y, x])) for y, x in found), key=lambda c: -c[2])
    kept: list[tuple[int, int, float]] = []
    taken: set[tuple[int, int]] = set()
    centre = tile // 2
    for y, x, score in ranked:
        mirror = ((2 * centre - y) % tile, (2 * centre - x) % tile)  # a real signal's spectrum is symmetric
        if (y, x) in taken or mirror in taken:
            continue
        taken.add((y, x))
        kept.append((y, x, score))
    return kept


def find_peaks(power: np.ndarray) -> list[SpectrumPeak]:
    tile = power.shape[0]
    centre = tile // 2
    raw = [((x - centre) / tile, (y - centre) / tile, 10 ** score) for y, x, score in _candidates(power)]
    # JPEG's blocks put peaks at k/8; an odd k (1/8, 3/8) is the grid's signature, since an even
    # one (1/4, 1/2) is also where 4× and 2× upsampling put theirs.
    odd = [r for fx, fy, r in raw if any((_eighths(f, tile) or 0) % 2 == 1 for f in (fx, fy))]
    grid_strength = max(odd, default=0.0)
    peaks = []
    for fx, fy, ratio in raw[:MAX_PEAKS]:
        explained = grid_strength > 0 and ratio <= 10 * grid_strength
        peaks.append(SpectrumPeak(round(float(fx), 4), round(float(fy), 4), round(float(ratio), 1),
                                  _label(fx, fy, tile, explained)))
    return peaks


def spectrum_map(grey: np.ndarray, tile: int, source: str) -> tuple[np.ndarray, dict[str, float], list[SpectrumPeak]]:
    power, count = power_spectrum(grey, tile, source)
    log_power = np.log10(power + 1e-12)
    low, high = np.percentile(log_power, [1.0, 99.9])
    values = np.clip((log_power - low) / max(high - low, 1e-6), 0.0, 1.0).astype(np.float32)
    peaks = find_peaks(power)
    off_grid = [p.ratio for p in peaks if not p.note.startswith("on the 8×8")]
    figures = {"peak_score": max(off_grid, default=0.0), "strongest_peak": max((p.ratio for p in peaks), default=0.0),
               "tiles": float(count)}
    return values, figures, peaks
