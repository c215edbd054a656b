"""One stored result row (region × model) as the report's `frames` list and the CSV give it:
the label the model favours, p(manipulated), and the decision the run's threshold makes of it.

A single-logit (sigmoid) model stores one probability, that of its one label ("fake": 0.0367);
taking the largest stored probability as the model's answer would report "fake" for a model
that is 96 % sure of the opposite. So a lone label is the answer only at p ≥ 0.5, and
"not <label>" (with 1 − p) below it. The decision applies the run's threshold and margin to
p(manipulated) with the words the verdicts use, so a frame reads like the item's verdict.
"""

from __future__ import annotations

from typing import Any, Mapping

from engine.analysis.aggregate import verdict_label
from engine.case.records import Evidence, FrameResult, Run
from engine.report.textsafe import is_number


def favoured(probabilities: Mapping[str, float]) -> tuple[str | None, float | None]:
    """(label, probability) the model favours; None, None when it stored no probability."""
    if not probabilities:
        return None, None
    if len(probabilities) == 1:
        ((label, p),) = probabilities.items()
        return (label, p) if p >= 0.5 else (f"not {label}", 1.0 - p)
    return max(probabilities.items(), key=lambda kv: kv[1])


def decision(p_manipulated: float | None, verdict_settings: Mapping[str, Any]) -> str | None:
    """The label the run's threshold (and margin) gives one frame's p(manipulated); None when
    the model judges something else or the run recorded no usable threshold."""
    threshold: Any = verdict_settings.get("threshold")
    margin: Any = verdict_settings.get("margin", 0.0)
    if p_manipulated is None or not is_number(threshold):
        return None
    margin = margin if is_number(margin) and margin >= 0 else 0.0
    return str(verdict_label(p_manipulated, float(threshold), float(margin)))


def frame_row(item: Evidence, run: Run, row: FrameResult) -> dict[str, Any]:
    """A checked result row (rows.py) as the document lists it."""
    verdict_settings = (run.settings or {}).get("verdict") or {}
    label, top = favoured(row.probabilities)
    return {"evidence_id": item.id, "run_id": run.id, "model": row.model, "frame_index": row.frame_index,
            "timestamp": row.timestamp, "track_id": row.track_id, "box": row.box, "probabilities": row.probabilities,
            "p_manipulated": row.p_manipulated, "top_label": label, "top_score": top,
            "decision": decision(row.p_manipulated, verdict_settings),
            "threshold": verdict_settings.get("threshold"), "margin": verdict_settings.get("margin")}
