"""`verify` judges every item again: each verdict recomputed from the stored frame results
with the run's own rule, parameters, threshold and exclusions, and each stored p(manipulated)
recomputed from its stored probabilities with the model's recorded label meaning.

Seals (sealcheck.py) prove the rows are what the program stored; this proves they agree with
each other. It also covers runs stored before seals existed, where an edited verdict or a
p_manipulated that contradicts its probabilities is otherwise invisible. The verdict rule is
the engine's own (engine.analysis.verdicts, pure functions over rows), so the check and the
run can never judge by two different rules.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass
from itertools import groupby
from typing import Any, Mapping

from engine.analysis.verdicts import VerdictSettings, compute_verdicts
from engine.case.findings import Findings
from engine.case.records import FrameResult
from engine.errors import EngineError
from engine.vocab import Judges

UNRECORDED = "the run did not record the model's labels"
TOLERANCE = 1e-9  # recomputed from the same stored floats with the same operations: equal up to rounding
PROBABILITY_SUM_TOLERANCE = 1e-6


@dataclass(frozen=True)
class _ModelFacts:
    judges: str
    labels: tuple[str, ...] | None
    activation: str | None
    manipulated: tuple[int, ...]
    sigmoid_means_real: bool

    def expected_p(self, probabilities: Mapping[str, Any]) -> float | None | str:
        """p(manipulated) these probabilities give, None for a model that does not judge
        authenticity, or a sentence saying why it cannot be told."""
        if self.judges != Judges.AUTHENTICITY:
            return None
        if self.labels is None or self.activation is None:
            return UNRECORDED
        raw = [probabilities.get(label) for label in self.labels]
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0 for v in raw) \
                or set(probabilities) != set(self.labels):
            return "its probabilities do not name the model's labels with numbers between 0 and 1"
        values = [float(v) for v in raw]  # type: ignore[arg-type]  # all numbers, checked just above
        if self.activation == "sigmoid":
            return 1.0 - values[0] if self.sigmoid_means_real else values[0]
        if abs(math.fsum(values) - 1.0) > PROBABILITY_SUM_TOLERANCE:
            return "its probabilities do not add up to 1"
        if any(i >= len(values) or i < 0 for i in self.manipulated):
            return "the model's recorded meaning names an output it does not have"
        return math.fsum(values[i] for i in self.manipulated)


@dataclass(frozen=True)
class _RunFacts:
    models: dict[str, _ModelFacts]
    settings: VerdictSettings | None


def _model_facts(record: Mapping[str, Any]) -> _ModelFacts:
    found = record.get("meaning")
    meaning: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    labels = record.get("labels")
    indices = meaning.get("manipulated_indices", ())
    return _ModelFacts(
        judges=str(meaning.get("judges", Judges.AUTHENTICITY)),
        labels=tuple(str(x) for x in labels) if isinstance(labels, list) else None,
        activation=str(record["activation"]) if isinstance(record.get("activation"), str) else None,
        manipulated=tuple(i for i in indices if isinstance(i, int)) if isinstance(indices, list) else (),
        sigmoid_means_real=bool(meaning.get("sigmoid_means_real", False)),
    )


def _runs(conn: sqlite3.Connection, found: Findings) -> dict[int, _RunFacts]:
    runs = {}
    for run_id, models_text, settings_text in conn.execute("SELECT id, models, settings FROM runs ORDER BY id"):
        try:
            models, settings = json.loads(models_text), json.loads(settings_text)
            if not isinstance(models, list) or not all(isinstance(m, dict) and isinstance(m.get("name"), str)
                                                        for m in models) or not isinstance(settings, dict):
                raise ValueError("wrong shape")
            facts = {m["name"]: _model_facts(m) for m in models}
        except (TypeError, ValueError):
            found.add("runs unreadable", f"run {run_id}: its models or settings are not what this program records")
            continue
        try:
            verdict = settings.get("verdict") or {}
            runs[run_id] = _RunFacts(facts, VerdictSettings.from_dict(verdict) if isinstance(verdict, dict) else None)
        except (TypeError, ValueError, AttributeError):
            runs[run_id] = _RunFacts(facts, None)
    return runs


def _row(values: tuple) -> FrameResult | str:
    """A stored result row as the verdict rule reads it, or why it cannot be read."""
    row_id, run_id, evidence_id, model, frame_index, timestamp, track_id, probabilities, p = values
    # The box is not parsed: no verdict depends on it, and its shape is checked in SQL
    # (consistency.JSON_SHAPES) with every other stored JSON value.
    try:
        parsed = json.loads(probabilities) if probabilities is not None else {}
    except (TypeError, ValueError):
        return "its probabilities are not JSON"
    if not isinstance(parsed, dict):
        return "its probabilities have the wrong shape"
    if p is not None and (isinstance(p, bool) or not isinstance(p, (int, float))):
        return "its p_manipulated is not a number"
    return FrameResult(row_id, run_id, evidence_id, model, frame_index, timestamp, track_id, None, parsed, p)


def _check_p(row: FrameResult, facts: _ModelFacts | None, found: Findings) -> None:
    if facts is None:
        return
    expected = facts.expected_p(row.probabilities)
    where = f"result {row.id} (run {row.run_id}, evidence {row.evidence_id}, model {row.model[:60]!r})"
    if expected is UNRECORDED:
        found.note(f"run {row.run_id} did not record the labels of model {row.model[:60]!r}, so its p_manipulated "
                   "values cannot be recomputed from their probabilities")
    elif isinstance(expected, str):
        found.add("results inconsistent", f"{where}: {expected}")
    elif expected is None:
        if row.p_manipulated is not None:
            found.add("results inconsistent", f"{where}: has a p_manipulated, but the model does not judge authenticity")
    elif row.p_manipulated is None or not abs(float(row.p_manipulated) - expected) <= PROBABILITY_SUM_TOLERANCE:
        found.add("results inconsistent", f"{where}: p_manipulated is {row.p_manipulated!r}, but its probabilities "
                  f"give {expected:.6f}")


def _stored_verdicts(conn: sqlite3.Connection) -> dict[tuple, dict[str, tuple]]:
    stored: dict[tuple, dict[str, tuple]] = {}
    for run_id, evidence_id, model, score, label, rule, params, threshold in conn.execute(
            "SELECT run_id, evidence_id, model, score, label, rule, rule_params, threshold FROM verdicts"):
        stored.setdefault((run_id, evidence_id), {})[model] = (score, label, rule, params, threshold)
    return stored


def _judge_again(key: tuple, rows: list[FrameResult], run: _RunFacts | None, stored: Mapping[str, tuple],
                 excluded: set[Any], found: Findings) -> None:
    where = f"run {key[0]}, evidence {key[1]}"
    if run is None or run.settings is None:
        found.add("verdicts not checkable", f"{where}: the run's verdict settings cannot be read, so its verdicts "
                  "cannot be judged again")
        return
    settings = run.settings
    kept = [row for row in rows if row.track_id is None or row.track_id not in excluded]
    judges = {name: facts.judges for name, facts in run.models.items()}
    try:
        again = {v.model: v for v in compute_verdicts(kept, judges, settings, {})}
        params = settings.to_dict()["params"]
    except (EngineError, TypeError, ValueError, ArithmeticError) as exc:
        found.add("verdicts not checkable", f"{where}: the verdicts cannot be judged again ({exc})")
        return
    for model, (score, label, rule, rule_params, threshold) in stored.items():
        verdict = again.get(model)
        label_of = f"{where}, {str(model)[:60]!r}"
        if verdict is None:
            found.add("verdicts inconsistent", f"{label_of}: a verdict for a model the run did not use")
            continue
        same_score = (score is None and verdict.score is None) or (
            score is not None and verdict.score is not None and isinstance(score, (int, float))
            and abs(score - verdict.score) <= TOLERANCE)
        if not same_score or label != verdict.label:
            found.add("verdicts inconsistent", f"{label_of}: stored {label!r} (score {score!r}), but the stored results "
                      f"give '{verdict.label}' (score {verdict.score!r}) by the run's rule")
        try:
            same_rule = rule == settings.rule and json.loads(rule_params or "{}") == params and \
                threshold == settings.threshold
        except (TypeError, ValueError):
            same_rule = False
        if not same_rule:
            found.add("verdicts inconsistent", f"{label_of}: its rule, parameters or threshold differ from the run's")


def recheck_problems(conn: sqlite3.Connection, found: Findings) -> None:
    """Add every stored p_manipulated and verdict that the stored results contradict to `found`."""
    runs = _runs(conn, found)
    stored = _stored_verdicts(conn)
    exclusions: dict[tuple, set[Any]] = {}
    for run_id, evidence_id, track_id in conn.execute("SELECT run_id, evidence_id, track_id FROM track_exclusions"):
        exclusions.setdefault((run_id, evidence_id), set()).add(track_id)
    cursor = conn.execute(
        "SELECT id, run_id, evidence_id, model, frame_index, timestamp, track_id, probabilities, p_manipulated "
        "FROM results ORDER BY run_id, evidence_id, model, frame_index, track_id, id")
    judged = set()
    for key, group in groupby(cursor, key=lambda values: (values[1], values[2])):
        run = runs.get(key[0])
        rows = []
        for values in group:
            row = _row(values)
            if isinstance(row, str):
                found.add("results unreadable", f"result {values[0]} (run {key[0]}, evidence {key[1]}): {row}")
                continue
            _check_p(row, run.models.get(row.model) if run else None, found)
            rows.append(row)
        if key in stored:
            judged.add(key)
            _judge_again(key, rows, run, stored[key], exclusions.get(key, set()), found)
    for key in sorted(set(stored) - judged, key=str):
        _judge_again(key, [], runs.get(key[0]), stored[key], exclusions.get(key, set()), found)
