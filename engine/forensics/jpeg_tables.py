"""libjpeg's standard quantisation tables and what a file's own tables say against them.

The IJG library (libjpeg, libjpeg-turbo, mozjpeg's default) writes the tables of the JPEG
standard's Annex K scaled by one quality setting; Pillow, OpenCV, GIMP, browsers and most
phone apps write exactly those. Camera firmware and some editors (Photoshop among them)
write their own. So an exact match says "written by libjpeg-style software at quality Q",
and the nearest quality of a custom table is only an equivalent, not a setting anyone chose.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from engine.forensics.records import QuantTable

LUMINANCE = (16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
             14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
             49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99)
CHROMINANCE = (17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
               47, 66, 99, 99, 99, 99, 99, 99, *([99] * 32))


def scaled(base: tuple[int, ...], quality: int, baseline: bool = True) -> tuple[int, ...]:
    """libjpeg's jpeg_quality_scaling + jpeg_add_quant_table for one quality (1..100)."""
    quality = min(100, max(1, quality))
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    top = 255 if baseline else 32767
    return tuple(min(top, max(1, (step * scale + 50) // 100)) for step in base)


@lru_cache(maxsize=4)
def _all_scaled(base: tuple[int, ...], baseline: bool) -> np.ndarray:
    table = np.array([scaled(base, q, baseline) for q in range(1, 101)], dtype=np.int32)
    table.setflags(write=False)
    return table


def describe_table(table_id: int, values: tuple[int, ...], luminance: bool, precision: int = 8) -> QuantTable:
    """The table with its exact libjpeg quality (if any) and its nearest libjpeg quality."""
    base = LUMINANCE if luminance else CHROMINANCE
    steps = np.asarray(values, dtype=np.int32)
    candidates = _all_scaled(base, precision == 8)
    deviation = np.abs(candidates - steps[None, :]).mean(axis=1)
    nearest = int(np.argmin(deviation))
    exact = np.flatnonzero(deviation == 0)
    # Qualities 98..100 can share a table (all ones at 100); the highest one that matches is named.
    return QuantTable(table_id, tuple(int(v) for v in values), int(exact[-1]) + 1 if exact.size else None,
                      nearest + 1, round(float(deviation[nearest]), 2))


def quality_from_steps(steps: dict[int, int]) -> int | None:
    """The libjpeg luminance quality whose steps at these natural-order positions fit best."""
    if not steps:
        return None
    positions = np.array(list(steps), dtype=np.int64)
    wanted = np.array(list(steps.values()), dtype=np.int32)
    candidates = _all_scaled(LUMINANCE, True)[:, positions]
    return int(np.argmin(np.abs(candidates - wanted[None, :]).sum(axis=1))) + 1
