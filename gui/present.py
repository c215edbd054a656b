"""How engine records read in the window: sizes, durations, media facts, verdict chips.

Pure functions of API records, shared by the table, the details panel and the dialogs, so
one item reads the same everywhere. No widgets here.
"""

from __future__ import annotations

import math
from typing import Any

from engine.api import EvidenceStatus, EvidenceSummary, Verdict, VerdictLabel

# The chip a verdict shows, and its colour (background, text): readable on light and dark palettes.
CHIP_COLOURS = {
    VerdictLabel.LIKELY_MANIPULATED: ("#c62828", "#ffffff"),
    VerdictLabel.INCONCLUSIVE: ("#f9a825", "#1a1a1a"),
    VerdictLabel.NO_INDICATION: ("#2e7d32", "#ffffff"),
    VerdictLabel.NOT_APPLICABLE: ("#757575", "#ffffff"),
    "error": ("#6a1b9a", "#ffffff"),
    "not analysed": ("", ""),  # outlined only: nothing to say yet
}
STATUS_TEXT = {
    EvidenceStatus.NOT_ANALYSED: "not analysed", EvidenceStatus.PENDING: "running",
    EvidenceStatus.INTERRUPTED: "interrupted", EvidenceStatus.ANALYSED: "analysed",
    EvidenceStatus.PARTLY_FAILED: "partly failed", EvidenceStatus.FAILED: "failed",
}


def human_size(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} bytes"


def clock(seconds: float | None) -> str:
    """hh:mm:ss.mmm (the form the viewer and the timeline use)."""
    if seconds is None or not math.isfinite(seconds):
        return ""
    millis = int(round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"


def when(iso: str | None) -> str:
    """An ISO time as "2026-12-02 03:31:08 UTC+00:00": to the second, with its zone."""
    if not iso:
        return ""
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    zone = moment.strftime("%z")
    return moment.strftime("%Y-%m-%d %H:%M:%S") + (f" UTC{zone[:3]}:{zone[3:]}" if zone else "")


def media_facts(metadata: dict[str, Any]) -> str:
    """"640×480" for an image; "00:00:02.000 · 640×360 · 10 fps" for a clip."""
    video = metadata.get("video")
    if isinstance(video, dict):
        parts = [clock(video.get("duration_s")) if isinstance(video.get("duration_s"), (int, float)) else ""]
        if video.get("width") and video.get("height"):
            parts.append(f"{video['width']}×{video['height']}")
        if isinstance(video.get("fps"), (int, float)) and video["fps"] > 0:
            parts.append(f"{video['fps']:g} fps")
        return " · ".join(p for p in parts if p)
    image = metadata.get("image")
    if isinstance(image, dict) and image.get("width") and image.get("height"):
        return f"{image['width']}×{image['height']}"
    return ""


def score_text(score: float | None) -> str:
    return "" if score is None else f"{score:.3f}"


def chip(summary: EvidenceSummary) -> str:
    """The verdict chip of a table row: the headline verdict's label, or what stands instead."""
    headline = summary.headline
    if headline is not None:
        return headline.label
    if summary.status in (EvidenceStatus.FAILED, EvidenceStatus.PARTLY_FAILED) or summary.errors:
        return "error"
    return "not analysed"


def verdict_line(verdict: Verdict) -> str:
    """"ensemble: likely manipulated (0.812; topk_mean k=3, threshold 0.5 ± 0.1)"."""
    if verdict.label == VerdictLabel.NOT_APPLICABLE:
        return f"{verdict.model}: {verdict.label}"
    params = " ".join(f"{k}={v}" for k, v in sorted(verdict.rule_params.items()))
    margin = verdict.details.get("margin")
    threshold = "" if verdict.threshold is None else f"threshold {verdict.threshold:g}" + (
        f" ± {margin:g}" if isinstance(margin, (int, float)) and margin else "")
    how = "; ".join(p for p in (f"{verdict.rule} {params}".strip() if verdict.rule else "", threshold) if p)
    score = "" if verdict.score is None else f"{verdict.score:.3f}"
    inside = "; ".join(p for p in (score, how) if p)
    return f"{verdict.model}: {verdict.label}" + (f" ({inside})" if inside else "")
