"""The per-frame chart of a video: p(manipulated) over time per model and for the ensemble, drawn with Pillow.

Each point is the highest score among the regions (whole frame, face tracks) of that frame, so
the line follows the most suspicious thing on screen, the quantity verdicts are built from.
The threshold is a dashed line. The text uses the Bitstream Vera font that ships with reportlab
(always installed with this program), so labels look the same on every machine.
"""

from __future__ import annotations

import io
import math
import os
from functools import lru_cache
from typing import Mapping, Sequence

from PIL import Image, ImageDraw, ImageFont

from engine.vocab import ENSEMBLE

# Colour-blind-safe (Okabe-Ito) colours for models; the ensemble is drawn in black.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]
THRESHOLD_COLOUR = "#C00000"


def font_path(bold: bool = False) -> str | None:
    """reportlab's Vera TTF (Latin-1 and more), or None when it is missing."""
    try:
        import reportlab
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(reportlab.__file__), "fonts", "VeraBd.ttf" if bold else "Vera.ttf")
    return path if os.path.exists(path) else None


@lru_cache(maxsize=8)
def _font(size: int, bold: bool = False) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    path = font_path(bold)
    if path:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


Series = Sequence[tuple[float, float]]  # (x, p) in x order


def frame_chart(series: Mapping[str, Series], threshold: float | None, x_label: str = "time (s)",
                ensemble: str = ENSEMBLE, size: tuple[int, int] = (1200, 420)) -> bytes:
    """PNG bytes of the chart; `series` maps a line's name to its (x, p) points."""
    width, height = size
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    small, normal = _font(20), _font(22)
    left, right, top, bottom = 90, 30, 70, 75
    plot_w, plot_h = width - left - right, height - top - bottom
    xs = [x for points in series.values() for x, _ in points]
    x0, x1 = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if x1 - x0 < 1e-9:
        x0, x1 = x0 - 0.5, x1 + 0.5

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * plot_w

    def py(p: float) -> float:
        return top + (1.0 - max(0.0, min(1.0, p))) * plot_h

    # Axes, grid and tick labels.
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = py(tick)
        draw.line([(left, y), (left + plot_w, y)], fill="#DDDDDD", width=1)
        draw.text((left - 10, y), f"{tick:.2f}", fill="black", font=small, anchor="rm")
    for tick in _ticks(x0, x1):
        x = px(tick)
        draw.line([(x, top + plot_h), (x, top + plot_h + 6)], fill="black", width=2)
        draw.text((x, top + plot_h + 10), _fmt(tick), fill="black", font=small, anchor="mt")
    draw.rectangle([left, top, left + plot_w, top + plot_h], outline="black", width=2)
    draw.text((left + plot_w / 2, height - 8), x_label, fill="black", font=normal, anchor="md")
    label = Image.new("RGBA", (plot_h, 30), (255, 255, 255, 0))
    ImageDraw.Draw(label).text((plot_h / 2, 15), "p(manipulated)", fill="black", font=normal, anchor="mm")
    image.paste(label.rotate(90, expand=True), (4, top), label.rotate(90, expand=True))

    if threshold is not None:
        y = py(threshold)
        for start in range(left, left + plot_w, 16):
            draw.line([(start, y), (min(start + 9, left + plot_w), y)], fill=THRESHOLD_COLOUR, width=3)

    # Lines, ensemble last so it is on top; legend along the top edge.
    names = [n for n in series if n != ensemble] + ([ensemble] if ensemble in series else [])
    legend_x = left
    for index, name in enumerate(names):
        colour = "black" if name == ensemble else PALETTE[index % len(PALETTE)]
        points = [(px(x), py(p)) for x, p in series[name]]
        line_width = 4 if name == ensemble else 3
        if len(points) > 1:
            draw.line(points, fill=colour, width=line_width, joint="curve")
        for cx, cy in points:
            r = 5 if name == ensemble else 4
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
        draw.line([(legend_x, 28), (legend_x + 30, 28)], fill=colour, width=line_width)
        text = name if len(name) <= 40 else name[:39] + "…"
        draw.text((legend_x + 38, 28), text, fill="black", font=small, anchor="lm")
        legend_x += 38 + int(draw.textlength(text, font=small)) + 30
    if threshold is not None:
        draw.line([(legend_x, 28), (legend_x + 30, 28)], fill=THRESHOLD_COLOUR, width=3)
        draw.text((legend_x + 38, 28), f"threshold {threshold:g}", fill="black", font=small, anchor="lm")

    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


MAX_TICKS = 12


def _ticks(x0: float, x1: float) -> list[float]:
    """Round tick positions from x0 to x1, never more than MAX_TICKS (a span of 1e300 seconds
    in an edited case must not mean 1e296 ticks)."""
    span = x1 - x0
    if not (math.isfinite(x0) and math.isfinite(x1) and math.isfinite(span)) or span <= 0:
        return []
    step = 1.0
    for candidate in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 3600):
        step = candidate
        if span / candidate <= 10:
            break
    if span / step > 10:
        step = 10.0 ** math.ceil(math.log10(span / 10))
    first = math.ceil(x0 / step - 1e-9) * step
    out: list[float] = []
    for i in range(MAX_TICKS):
        x = first + i * step
        if x > x1 + 1e-9 * max(1.0, abs(x1)):
            break
        out.append(round(x, 6))
    return out


def _fmt(value: float) -> str:
    return f"{value:g}"
