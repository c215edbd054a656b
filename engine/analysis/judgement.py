"""Storing an item's verdicts, and judging it again when the examiner excludes a face track.

`store_verdicts` is what a run does when every model is done with an item: compute the
verdicts from the frame results the case holds, leaving out the face tracks an examiner
marked "not a face", and record them. `recompute_verdicts` does the same later, from the
run's own record (its models, its rule, its threshold), after an exclusion changes; the
audit log keeps the verdicts before and after.
"""

from __future__ import annotations

from typing import Any, Mapping

from engine.analysis.verdicts import VerdictRecord, VerdictSettings, compute_verdicts
from engine.case.store import CaseStore
from engine.vocab import ENSEMBLE, Judges

# What a run's verdict details carry about decoding, kept when an item is judged again.
_CONTEXT_KEYS = ("outcome", "face_mode", "empty_reason")


def store_verdicts(store: CaseStore, run_id: int, evidence_id: int, judges: Mapping[str, str],
                   settings: VerdictSettings, context: Mapping[str, Any]) -> list[VerdictRecord]:
    excluded = store.excluded_tracks(run_id, evidence_id)
    rows = [r for r in store.results(run_id, evidence_id) if r.track_id is None or r.track_id not in excluded]
    if excluded:
        context = {**context, "excluded_tracks": {str(track): reason for track, reason in excluded.items()}}
    verdicts = compute_verdicts(rows, judges, settings, context)
    params = settings.to_dict()["params"]
    store.set_verdicts(run_id, evidence_id, [
        {"model": v.model, "score": v.score, "rule": settings.rule, "rule_params": params,
         "threshold": settings.threshold, "label": v.label, "details": {**v.details, "margin": settings.margin}}
        for v in verdicts])
    return verdicts


def recompute_verdicts(store: CaseStore, run_id: int, evidence_id: int) -> list[VerdictRecord]:
    """Judge one item of a finished run again with its current exclusions; audited with before and after."""
    run = store.get_run(run_id)
    judges = {str(m.get("name")): str((m.get("meaning") or {}).get("judges", Judges.AUTHENTICITY))
              for m in run.models}
    settings = VerdictSettings.from_dict((run.settings or {}).get("verdict") or {})
    before = store.verdicts(run_id, evidence_id)
    lead = next((v for v in before if v.model == ENSEMBLE), before[0] if before else None)
    context = {key: lead.details[key] for key in _CONTEXT_KEYS if lead is not None and key in lead.details}
    with store.transaction():
        after = store_verdicts(store, run_id, evidence_id, judges, settings, context)
        store.log("verdicts recomputed", {
            "run_id": run_id, "evidence_id": evidence_id,
            "excluded_tracks": sorted(store.excluded_tracks(run_id, evidence_id)),
            "before": {v.model: [v.score, v.label] for v in before},
            "after": {v.model: [v.score, v.label] for v in after},
        })
    return after
