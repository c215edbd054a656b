"""The fixed text of a report's "Method and limitations" section, filled in from a run's settings.

It says how frames and faces were chosen, what an overlay is and is not, and that every score
is a model output, not a finding; the same sentences go into every format so a reader of the
JSON sees what a reader of the PDF sees.
"""

from __future__ import annotations

from typing import Any, Mapping

from engine.analysis.aggregate import RULES
from engine.report.runinfo import detector_text

GENERAL = [
    "Scores are outputs of machine-learning models, not findings. A score near 1 means the model "
    "associates the image with the manipulated examples it was trained on; it does not prove manipulation, "
    "and a score near 0 does not prove authenticity.",
    "A model's published accuracy was measured by its authors on their own data. Compression, resizing, "
    "screenshots, unusual lighting and faces unlike the training data can change scores in either direction.",
    "An overlay (attention rollout or occlusion map) shows where a model looked when it produced its score. "
    "It is not proof of manipulation and does not mark manipulated pixels.",
    "Models whose labels do not judge authenticity (for example deepfake-quality graders) are shown for "
    "completeness and never enter a verdict.",
    "Evidence files were opened read-only. Their SHA-256 was recomputed when this report was made and "
    "compared with the value recorded when they were added to the case.",
]

FACE_MODES = {
    "auto": "faces where the detector found them, and the whole frame as well",
    "only": "face crops only; frames without a detected face were not scored",
    "off": "the whole frame only; no face detection",
}


def _object(value: Any) -> Mapping[str, Any]:
    """A stored JSON object, or an empty one when an edited case holds anything else there."""
    return value if isinstance(value, Mapping) else {}


def _pairs(value: Any) -> str:
    return ", ".join(f"{k} = {v}" for k, v in sorted(_object(value).items(), key=lambda kv: str(kv[0])))


def run_method(settings: Mapping[str, Any]) -> list[str]:
    """Sentences describing how one run chose frames and faces and turned scores into verdicts."""
    settings = _object(settings)
    verdict = _object(settings.get("verdict"))
    rule = verdict.get("rule")
    described = RULES[rule].description if isinstance(rule, str) and rule in RULES else "unknown rule"
    param_text = _pairs(verdict.get("params")) or "no parameters"
    threshold, margin = verdict.get("threshold"), verdict.get("margin")
    face_mode = settings.get("face_mode", "auto")
    face_mode = FACE_MODES.get(face_mode, face_mode) if isinstance(face_mode, str) else face_mode
    lines = [
        f"Videos: up to {settings.get('frames_per_clip', '?')} frames per clip, spread evenly over its duration "
        "(frame k of N aimed at time (k + 0.5) × duration / N; each frame is labelled with the index and time "
        "the decoder reports for the frame actually decoded). Images: the whole picture, EXIF orientation applied.",
        f"Regions scored: {face_mode}." + (
            "" if settings.get("face_mode") == "off" else
            f" Face crops are square, {settings.get('face_margin', 1.3)}× the detected face box; faces are linked "
            f"into tracks across frames. Face detector: {detector_text(settings)}."),
        f"Per model: {_tracks(settings.get('face_mode', 'auto'))} scored with the rule '{rule}' ({described}; "
        f"{param_text}); the item takes the score of its most suspicious track.",
        "Ensemble: per region, the weighted mean of the authenticity models' p(manipulated)"
        + (f" (weights {_pairs(verdict.get('weights'))})" if _pairs(verdict.get("weights")) else " (equal weights)")
        + ", then the same rule per track and the most suspicious track.",
        f"Labels: score ≥ {_num(threshold, margin, +1)} → likely manipulated; score ≤ {_num(threshold, margin, -1)} → "
        f"no indication; in between → inconclusive (threshold {threshold}, margin {margin}); no score → not applicable.",
        f"Overlays were {'requested' if settings.get('explain') else 'not requested'} for this run.",
    ]
    return lines


def _tracks(face_mode: Any) -> str:
    """Which tracks a run scored: faces-only has no whole-frame track, faces-off no face track."""
    if face_mode == "only":
        return "each face track is"
    if face_mode == "off":
        return "the whole-frame track is"
    return "each face track, and the whole-frame track, is"


def _num(threshold: Any, margin: Any, sign: int) -> str:
    try:
        return f"{float(threshold) + sign * float(margin or 0):.2f}"
    except (TypeError, ValueError):
        return "?"
