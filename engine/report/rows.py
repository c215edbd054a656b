"""Stored rows as a report reads them: each checked for the shape this program writes.

SQLite keeps any value in any column, and JSON columns hold whatever JSON an editor typed:
a run's models as an object, probabilities as a list, a box of two numbers, a word for a
frame index. The report computes charts, rankings and verdict tables from these rows, so a
row of the wrong shape is left out of every computation and listed in the report as
unreadable (table, row, field, what is wrong) rather than crashing the export or vanishing.
Runs are kept (their id ties results together) with the unusable parts dropped and listed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

from engine.case.records import FrameResult, Run, Verdict
from engine.report.textsafe import is_number, problem_lines

MAX_LABELS = 4096  # class labels of one result: ImageNet has 1,000; a deepfake detector two or three
MAX_INDEX = 10**9  # a frame index or track id; no clip this program decodes has a billion frames
MAX_SECONDS = 10**7  # a time in a clip (115 days)
MAX_COORD = 100_000  # a box coordinate in frame pixels, as for overlays (engine/explain/overlay.py)
SHOWN_VALUE_CHARS = 120  # of the offending value, in the unreadable-row list


@dataclass
class Unreadable:
    """The rows a report left out, in the order it met them."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, table: str, row_id: Any, field_name: str, problem: str, value: Any = None) -> None:
        shown = repr(value)
        if len(shown) > SHOWN_VALUE_CHARS:
            shown = shown[:SHOWN_VALUE_CHARS] + "…"
        self.rows.append({"table": table, "id": row_id, "field": field_name, "problem": problem, "value": shown})

    @staticmethod
    def sentence(row: Mapping[str, Any]) -> str:
        return f"{row['table']} row {row['id']}: {row['field']} {row['problem']} (stored: {row['value']})"


def unreadable_lines(document: Mapping[str, Any]) -> list[str]:
    """A report document's unreadable rows as sentences: the first PROBLEMS_SHOWN, then how many more."""
    return problem_lines([Unreadable.sentence(row) for row in document.get("unreadable") or []])


def _index(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_INDEX)


def _seconds(value: Any) -> bool:
    return value is None or (is_number(value) and abs(value) <= MAX_SECONDS)


def _probability(value: Any) -> bool:
    return is_number(value) and 0.0 <= value <= 1.0


def box_problem(box: Any) -> str | None:
    """None for None or 4 finite numbers (x, y, w, h) of a sane size; otherwise what is wrong."""
    if box is None:
        return None
    if not isinstance(box, (list, tuple)) or len(box) != 4 or not all(is_number(v) for v in box):
        return "is not 4 numbers (x, y, w, h)"
    if any(abs(v) > MAX_COORD for v in box) or box[2] <= 0 or box[3] <= 0:
        return f"is outside ±{MAX_COORD:,} pixels or has no size"
    return None


def clean_result(row: FrameResult, bad: Unreadable) -> FrameResult | None:
    """The row when every field has the shape the pipeline writes; else None, listed in `bad`."""
    checks: list[tuple[str, Any, bool, str]] = [
        ("model", row.model, isinstance(row.model, str), "is not text"),
        ("frame_index", row.frame_index, _index(row.frame_index), "is not a whole number from 0"),
        ("track_id", row.track_id, _index(row.track_id), "is not a whole number from 0"),
        ("timestamp", row.timestamp, _seconds(row.timestamp), "is not a time in seconds"),
        ("p_manipulated", row.p_manipulated, row.p_manipulated is None or _probability(row.p_manipulated),
         "is not a probability"),
    ]
    probabilities = row.probabilities
    good = (isinstance(probabilities, dict) and len(probabilities) <= MAX_LABELS
            and all(isinstance(k, str) and _probability(v) for k, v in probabilities.items()))
    checks.append(("probabilities", probabilities, good, "is not an object of label: probability"))
    for name, value, ok, problem in checks:
        if not ok:
            bad.add("results", row.id, name, problem, value)
            return None
    box_wrong = box_problem(row.box)
    if box_wrong:
        bad.add("results", row.id, "box", box_wrong, row.box)
        return None
    return row


def _verdict_problem(v: Verdict) -> tuple[str, Any, str] | None:
    details = v.details
    checks: list[tuple[str, Any, bool, str]] = [
        ("model", v.model, isinstance(v.model, str), "is not text"),
        ("label", v.label, isinstance(v.label, str), "is not text"),
        ("score", v.score, v.score is None or _probability(v.score), "is not a probability"),
        ("threshold", v.threshold, v.threshold is None or is_number(v.threshold), "is not a number"),
        ("rule", v.rule, v.rule is None or isinstance(v.rule, str), "is not text"),
        ("rule_params", v.rule_params, isinstance(v.rule_params, dict), "is not an object"),
        ("details", details, isinstance(details, dict), "is not an object"),
    ]
    for name, value, ok, problem in checks:
        if not ok:
            return name, value, problem
    outcome = details.get("outcome")
    if outcome is not None and not (isinstance(outcome, dict) and isinstance(outcome.get("notes") or [], list)):
        return "details.outcome", outcome, "is not an object with a list of notes"
    margin = details.get("margin")
    if margin is not None and not is_number(margin):
        return "details.margin", margin, "is not a number"
    return None


def clean_verdict(v: Verdict, bad: Unreadable) -> Verdict | None:
    found = _verdict_problem(v)
    if found is None:
        return v
    name, value, problem = found
    model = str(v.model)
    model = model if len(model) <= 60 else model[:60] + "…"
    bad.add("verdicts", f"(run {v.run_id}, evidence {v.evidence_id}, model {model!r})", name, problem, value)
    return None


def _model_entry_problem(m: Any) -> str | None:
    if not isinstance(m, dict):
        return "is not an object"
    if not isinstance(m.get("name"), str):
        return "has no name in text"
    if m.get("sha256") is not None and not isinstance(m.get("sha256"), str):
        return "has a SHA-256 that is not text"
    if m.get("meaning") is not None and not isinstance(m.get("meaning"), dict):
        return "has a meaning that is not an object"
    labels = m.get("labels")
    if labels is not None and not (isinstance(labels, list) and all(isinstance(x, str) for x in labels)):
        return "has labels that are not a list of text"
    return None


def _clean_settings(run: Run, bad: Unreadable) -> dict[str, Any]:
    settings = run.settings
    if settings is None:
        return {}
    if not isinstance(settings, dict):
        bad.add("runs", run.id, "settings", "is not an object", settings)
        return {}
    verdict = settings.get("verdict")
    if verdict is None:
        return settings
    if not isinstance(verdict, dict):
        bad.add("runs", run.id, "settings.verdict", "is not an object", verdict)
        return {**settings, "verdict": {}}
    verdict = dict(verdict)
    weights = verdict.get("weights")
    if weights is not None and not (isinstance(weights, dict) and all(
            isinstance(k, str) and is_number(w) and w >= 0 for k, w in weights.items())):
        bad.add("runs", run.id, "settings.verdict.weights", "is not an object of model: weight", weights)
        verdict.pop("weights")
    for name in ("threshold", "margin"):
        if verdict.get(name) is not None and not is_number(verdict[name]):
            bad.add("runs", run.id, f"settings.verdict.{name}", "is not a number", verdict[name])
            verdict.pop(name)
    for name in ("params",):
        if verdict.get(name) is not None and not isinstance(verdict[name], dict):
            bad.add("runs", run.id, f"settings.verdict.{name}", "is not an object", verdict[name])
            verdict.pop(name)
    return {**settings, "verdict": verdict}


def clean_run(run: Run, bad: Unreadable) -> Run:
    """The run with its unusable parts (models that are not model records, settings that are
    not settings) dropped and listed in `bad`; the run itself stays."""
    models: list[dict[str, Any]] = []
    if not isinstance(run.models, list):
        bad.add("runs", run.id, "models", "is not a list", run.models)
    else:
        for index, m in enumerate(run.models):
            problem = _model_entry_problem(m)
            if problem:
                bad.add("runs", run.id, f"models[{index}]", problem, m)
            else:
                models.append(m)
    return dataclasses.replace(run, models=models, settings=_clean_settings(run, bad))


def overlay_meta_box(meta: Any) -> tuple[list[float] | None, str | None]:
    """The box an overlay record declares (None for none) and what is wrong with its meta."""
    if not isinstance(meta, dict):
        return None, "its description (meta) is not an object"
    box = meta.get("box")
    problem = box_problem(box)
    if problem:
        return None, f"its recorded box {problem}"
    return (list(box) if box is not None else None), None
