"""Everything a report says, gathered from an open case into one JSON-ready document.

Every format renders this same document (plus the images it cites by SHA-256), so the HTML,
the PDF, the JSON and the CSV cannot disagree. Evidence hashes come from the verification
made just before, never from memory: an item that changed since import, or whose row differs
from what the audit log recorded when it was added, is flagged here and its frames are not
re-read, since the file is not (or may not be) the one that was scored. When verification
failed the document opens with a banner listing the problems, which every format shows first.
Stored rows are checked for shape first (rows.py), and every string is cut to a bounded
length (textsafe.py), so an edited case can neither crash the export nor blow it up.
Each item shows the runs the report was asked for (runsel.py: its latest by default), each
with the settings it ran with and its history from the audit log (runinfo.py), and the
document opens with a one-row-per-item summary made from those same entries (summary.py).
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any, Mapping, Sequence

from engine.analysis.aggregate import RULES
from engine.analysis.ensemble import authenticity_models, ensemble_regions
from engine.analysis.verdicts import verdict_note
from engine.case import CaseStore, EvidenceCheck, VerifyReport
from engine.case.records import Evidence, FrameResult, Run, Verdict
from engine.errors import ReportError
from engine.report.cards import card_for
from engine.report.chart import frame_chart
from engine.report.forensics import FINDINGS_CAVEAT, kept_map_entries, provenance_entry
from engine.report.framerows import frame_row
from engine.report.method import GENERAL, run_method
from engine.report.overlays import COLOUR_MAP, SCALE_TEXT, colour_scale_png, overlay_finder
from engine.report.rows import Unreadable, clean_result, clean_run, clean_verdict
from engine.report.runinfo import history_text, run_history, run_settings, settings_text
from engine.report.runsel import LATEST, RunChoice, check_runs, choice_text, pick
from engine.report.summary import summary_rows
from engine.report.textsafe import bound, problem_lines
from engine.report.topframes import Images, top_frames
from engine.report.variants import quantization_facts
from engine.util.progress import Progress
from engine.version import APP_NAME, __version__
from engine.vocab import ENSEMBLE, AnnotationKind, VerdictLabel

# 2: a summary first, the latest run per item by default (selection.runs), run settings and
# history, every model's overlay, quantization facts, the favoured label of a sigmoid model.
FORMAT_VERSION = 2


def timezone_text(moment: datetime) -> str:
    offset = moment.strftime("%z")
    name = moment.tzname() or ""
    return f"UTC{offset[:3]}:{offset[3:]}" + (f" ({name})" if name and not name.startswith(("UTC", "+", "-")) else "")


def _verdict(v: Verdict, margin_default: Any) -> dict[str, Any]:
    details = dict(v.details)
    return {
        "model": v.model, "score": v.score, "label": v.label, "rule": v.rule,
        "rule_description": RULES[v.rule].description if v.rule in RULES else None,
        "rule_params": v.rule_params, "threshold": v.threshold, "margin": details.get("margin", margin_default),
        "reason": details.get("reason"), "worst_track": details.get("worst_track"),
        "caution": details.get("caution") if isinstance(details.get("caution"), str) else None,
        "note": verdict_note(details), "details": details,
    }


def _unfinished(store: CaseStore, run: Run, item: Evidence, rows: Sequence[FrameResult],
                verdicts: Sequence[Verdict]) -> str | None:
    """For an item the run stopped in (frames stored under a checkpoint, no verdict yet): what it holds."""
    if verdicts or not rows:
        return None
    pending = [m for e, m in store.pending_items(run.id) if e == item.id]
    if not pending:
        return None
    frames = len({r.frame_index for r in rows})
    return (f"the run stopped before this item was finished: {frames} sampled frame(s) scored so far by "
            f"{', '.join(sorted({r.model for r in rows}))}; no verdict until the run is resumed")


def _chart_series(rows: Sequence[FrameResult], authenticity: Sequence[str],
                  weights: Mapping[str, float]) -> tuple[dict[str, list[tuple[float, float]]], str]:
    """Per authenticity model and (with several) for the ensemble: the most suspicious region's
    score at each sampled frame, over time (or frame index when a time is missing)."""
    use_time = all(r.timestamp is not None for r in rows)

    def x_of(frame_index: int | None, timestamp: float | None) -> float | None:
        x = timestamp if use_time else frame_index
        return None if x is None else float(x)

    per_model: dict[str, dict[float, float]] = {}
    for row in rows:
        x = x_of(row.frame_index, row.timestamp)
        if row.model in authenticity and row.p_manipulated is not None and x is not None:
            line = per_model.setdefault(row.model, {})
            line[x] = max(line.get(x, 0.0), float(row.p_manipulated))
    series = {name: sorted(points.items()) for name, points in per_model.items()}
    if len(authenticity) > 1:
        ensemble: dict[float, float] = {}
        for region in ensemble_regions(rows, authenticity, weights):
            x = x_of(region.frame_index, region.timestamp)
            if x is not None:
                ensemble[x] = max(ensemble.get(x, 0.0), region.score)
        series[ENSEMBLE] = sorted(ensemble.items())
    return series, ("time (s)" if use_time else "frame index")


def select_evidence(store: CaseStore, evidence_ids: Sequence[int], bookmarked_only: bool) -> list[Evidence]:
    """The items a report covers; a ReportError when that is none, since an empty report would
    look like a report on something."""
    items = store.list_evidence()
    if not items:
        raise ReportError("nothing to report: the case holds no evidence yet")
    if evidence_ids:
        known = {e.id for e in items}
        missing = [i for i in evidence_ids if i not in known]
        if missing:
            raise ReportError(f"no evidence item {missing[0]} in this case")
        items = [e for e in items if e.id in set(evidence_ids)]
    if bookmarked_only:
        marked = {a.evidence_id for a in store.annotations(kind=AnnotationKind.BOOKMARK)}
        items = [e for e in items if e.id in marked]
        if not items:
            among = " of those chosen" if evidence_ids else ""
            raise ReportError(f"nothing to report: no evidence item{among} carries a bookmark, and the report "
                              "was asked for bookmarked evidence only")
    return items


ROW_ALTERED = "row altered"
ROW_ALTERED_MESSAGE = ("this evidence row differs from what the audit log recorded when it was added (see the "
                       "verification problems): that the file hashes to the row's value proves nothing")


def _evidence_entry(item: Evidence, check: EvidenceCheck | None, altered: bool) -> dict[str, Any]:
    status = check.status if check else "not checked"
    message = check.message if check else "not checked"
    given = item.path_given if isinstance(item.path_given, str) else str(item.path_given)
    if altered:
        message = ROW_ALTERED_MESSAGE + ("" if status == "ok" else f"; and the file: {message}")
        status = ROW_ALTERED
    return {
        "id": item.id, "name": os.path.basename(given) or given, "path": item.path_given,
        "path_resolved": item.path_resolved, "type": item.media_kind, "format": item.media_format,
        "description": item.media_description, "size": item.size, "sha256_recorded": item.sha256,
        "sha256_now": check.actual_sha256 if check else None, "size_now": check.actual_size if check else None,
        "verification": status, "verification_message": message,
        "changed_since_import": (check.status if check else "not checked") != "ok", "row_altered": altered,
        "added_at": item.added_at, "added_by": item.added_by,
        "metadata": item.metadata, "runs": [], "annotations": {},
    }


def _annotations(store: CaseStore, item: Evidence, frame_times: Mapping[int, float]) -> dict[str, list[dict[str, Any]]]:
    """Notes, tags and bookmarks of one item by kind; each with the time of its frame in the clip
    when a run sampled that frame (None otherwise: the frame was not scored, or it is a still)."""
    return {kind: [{**a.__dict__, "timestamp": None if a.frame_index is None else frame_times.get(a.frame_index)}
                   for a in store.annotations(item.id, kind)] for kind in AnnotationKind}


def _variants(run: Run) -> list[dict[str, Any]]:
    """The quantization facts of each model of the run that is a made variant (INT8)."""
    return [{"model": m.get("name"), **facts} for m in run.models if (facts := quantization_facts(m))]


def _run_models(run: Run, authenticity: Sequence[str]) -> list[str]:
    """The run's models, authenticity models first (they make the verdicts), then the others."""
    names = [str(m.get("name")) for m in run.models]
    return [n for n in names if n in authenticity] + [n for n in names if n not in authenticity]


def _run_section(store: CaseStore, run: Run, item: Evidence, check: EvidenceCheck | None, altered: bool,
                 rows: list[FrameResult], verdicts: list[Verdict], run_errors: list[dict[str, Any]], top_k: int,
                 images: Images, history: list[dict[str, Any]]) -> dict[str, Any]:
    """What one run said about one evidence item: its settings and history, verdicts, errors,
    the frame chart, the top regions. `run`, `rows` and `verdicts` are the checked ones (rows.py)."""
    settings = run.settings or {}
    verdict_settings = settings.get("verdict") or {}
    weights = verdict_settings.get("weights") or {}
    authenticity = authenticity_models(run.models)
    outcome = next((v.details.get("outcome") for v in verdicts if v.details.get("outcome")), None)
    summary = run_settings(settings, outcome.get("detector") if isinstance(outcome, dict) else None)
    section: dict[str, Any] = {
        "run_id": run.id, "run_status": run.status, "settings": summary, "settings_text": settings_text(summary),
        "history": history, "history_text": history_text(history), "variants": _variants(run),
        "verdicts": [_verdict(v, verdict_settings.get("margin")) for v in verdicts],
        "errors": run_errors,
        "not_applicable": [{"model": v.model, "reason": v.details.get("reason") or "no score"}
                           for v in verdicts if v.label == VerdictLabel.NOT_APPLICABLE],
        "outcome": outcome, "chart": None, "top_frames": [], "top_frames_note": None,
        "unfinished": _unfinished(store, run, item, rows, verdicts),
    }
    if item.media_kind == "video" and rows:
        series, x_label = _chart_series(rows, authenticity, weights)
        if any(series.values()):
            png = frame_chart(series, verdict_settings.get("threshold"), x_label)
            section["chart"] = {"image": images.add(png, "image/png"), "x": x_label,
                                "series": {name: [list(p) for p in pts] for name, pts in series.items()}}
    if (check.status if check else "not checked") != "ok":
        section["top_frames_note"] = ("frames not shown: the evidence file no longer matches its recorded "
                                      "SHA-256, so it is not the file that was scored")
    elif altered:
        section["top_frames_note"] = ("frames not shown: this evidence row differs from what the audit log recorded "
                                      "when it was added, so the file it names may not be the file that was scored")
    elif not authenticity:
        section["top_frames_note"] = "no model of this run judges authenticity; nothing to rank"
    elif rows:
        path = check.path if check else item.path_resolved
        shown, notes = top_frames(path, item.media_kind, rows, authenticity, weights, top_k,
                                  overlay_finder(store, run.id, item.id), images, _run_models(run, authenticity))
        section["top_frames"] = shown
        section["top_frames_note"] = "; ".join(notes) or None
    return section


def _models_used(runs: Sequence[Run], used_runs: Sequence[int]) -> list[dict[str, Any]]:
    models: dict[tuple[str, str], dict[str, Any]] = {}
    for run in runs:
        for m in run.models:
            key = (m.get("name"), m.get("sha256"))
            facts = quantization_facts(m)
            entry = models.setdefault(key, {**m, "judges": (m.get("meaning") or {}).get("judges"),
                                            "card": card_for(m), "runs": [],
                                            "quantization_text": facts["text"] if facts else None,
                                            "quantization_forced": facts["forced"] if facts else False})
            entry["runs"].append(run.id)
    return [m for m in models.values() if set(m["runs"]) & set(used_runs)]


def _run_entry(r: Run, history: list[dict[str, Any]]) -> dict[str, Any]:
    summary = run_settings(r.settings or {})
    return {"id": r.id, "status": r.status, "started_at": r.started_at, "finished_at": r.finished_at,
            "started_by": r.started_by, "app_version": r.app_version, "provider": r.provider, "settings": r.settings,
            "items_total": r.items_total, "items_done": r.items_done, "items_failed": r.items_failed,
            "models": [m.get("name") for m in r.models], "method": run_method(r.settings or {}),
            "settings_summary": summary, "settings_text": settings_text(summary), "history": history,
            "history_text": history_text(history), "variants": _variants(r)}


def _audit_section(store: CaseStore, verification: VerifyReport) -> dict[str, Any]:
    audit_rows = store.audit_entries()
    return {"chain_ok": not verification.audit_problems, "problems": list(verification.audit_problems),
            "rows": len(audit_rows), "head": audit_rows[-1].row_hash if audit_rows else None,
            "entries": [{"seq": a.seq, "time": a.time, "actor": a.actor, "action": a.action,
                         "details": a.details, "row_hash": a.row_hash} for a in audit_rows]}


def _banner(verification: VerifyReport) -> dict[str, Any] | None:
    """What every format shows first when verification failed: the problems, the first
    PROBLEMS_SHOWN of them and how many more (the document's `verification` has them all)."""
    if verification.ok:
        return None
    problems = list(verification.problems)
    return {"title": "VERIFICATION FAILED", "count": len(problems), "problems": problem_lines(problems),
            "text": (f"Verification failed when this report was made: {len(problems)} problem(s). What this report "
                     "says about the evidence cannot be relied on until each one is explained.")}


class _Gathering:
    """What gathering the items collects on the way: the result rows and errors of the runs
    shown, each run's history, and the rows found unreadable."""

    def __init__(self, store: CaseStore, runs: Sequence[Run], choice: RunChoice, top_k: int, images: Images,
                 bad: Unreadable) -> None:
        self.store, self.runs, self.choice, self.top_k, self.images, self.bad = store, runs, choice, top_k, images, bad
        entries = store.audit_entries()
        self.histories = {run.id: run_history(entries, run.id) for run in runs}
        self.frames: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []

    def item(self, item: Evidence, check: EvidenceCheck | None, altered: bool) -> dict[str, Any]:
        """One item's entry with the runs the choice shows; their rows and errors are kept on the way."""
        store, bad = self.store, self.bad
        entry = _evidence_entry(item, check, altered)
        frame_times: dict[int, float] = {}
        found: dict[int, tuple[Run, list[Verdict], list[FrameResult], list[dict[str, Any]]]] = {}
        for run in self.runs:
            verdicts = [v for v in (clean_verdict(v, bad) for v in store.verdicts(run.id, item.id)) if v is not None]
            rows = [r for r in (clean_result(r, bad) for r in store.results(run.id, item.id)) if r is not None]
            run_errors = [e.__dict__ for e in store.item_errors(run.id) if e.evidence_id == item.id]
            if verdicts or rows or run_errors:
                found[run.id] = (run, verdicts, rows, run_errors)
            # Bookmarks get the time of their frame from any run that sampled it, shown or not.
            frame_times.update((r.frame_index, r.timestamp) for r in rows
                               if r.frame_index is not None and r.timestamp is not None)
        for run_id in pick(self.choice, list(found)):
            run, verdicts, rows, run_errors = found[run_id]
            entry["runs"].append(_run_section(store, run, item, check, altered, rows, verdicts, run_errors,
                                              self.top_k, self.images, self.histories.get(run.id, [])))
            self.errors.extend(run_errors)
            self.frames.extend(frame_row(item, run, row) for row in rows)
        entry["annotations"] = _annotations(store, item, frame_times)
        entry["provenance"] = provenance_entry(item)
        entry["kept_maps"] = kept_map_entries(store, item, self.images, bad)
        return entry


def build_document(store: CaseStore, verification: VerifyReport, evidence_ids: Sequence[int] = (),
                   bookmarked_only: bool = False, top_k: int = 3, report_format: str = "json",
                   images: Images | None = None, created: datetime | None = None, runs: RunChoice | Sequence[int] = LATEST,
                   progress: Progress | None = None) -> dict[str, Any]:
    """The report as one JSON-ready dict, every string bounded; rendered images go into `images`.
    `runs` says which runs each item shows (runsel.py); `progress` hears of each item gathered."""
    images = images if images is not None else Images()
    created = created or datetime.now().astimezone()
    info = store.info()
    items = select_evidence(store, evidence_ids, bookmarked_only)
    checks = {c.evidence_id: c for c in verification.evidence}
    altered = set(verification.suspect_evidence)
    bad = Unreadable()
    all_runs = [clean_run(r, bad) for r in store.list_runs()]
    choice = check_runs(runs, [r.id for r in all_runs])
    gathering = _Gathering(store, all_runs, choice, top_k, images, bad)
    evidence_out = []
    for index, item in enumerate(items):
        if progress is not None:
            progress(index, len(items), os.path.basename(str(item.path_given)))
        evidence_out.append(gathering.item(item, checks.get(item.id), item.id in altered))
    used_runs = sorted({s["run_id"] for e in evidence_out for s in e["runs"]})
    audit = _audit_section(store, verification)
    overlays_shown = any(f["overlays"] for e in evidence_out for s in e["runs"] for f in s["top_frames"])
    return bound({
        "banner": _banner(verification),
        "report": {
            "format_version": FORMAT_VERSION, "format": report_format, "created_at": created.isoformat(),
            "time_zone": timezone_text(created),
            "generator": {"app": APP_NAME, "version": __version__},
            "selection": {"evidence_ids": sorted(e.id for e in items) if evidence_ids else None,
                          "bookmarked_only": bookmarked_only, "top_k": top_k,
                          "runs": list(choice) if isinstance(choice, tuple) else choice,
                          "runs_text": choice_text(choice)},
        },
        "case": {"uid": info.uid, "title": info.title, "number": info.number, "examiner": info.examiner,
                 "organisation": info.organisation, "created_at": info.created_at, "updated_at": info.updated_at,
                 "app_version": info.app_version, "schema_version": info.schema_version, "path": store.path},
        "verification": {"ok": verification.ok, "checked_at": verification.checked_at,
                         "integrity": list(verification.integrity), "problems": verification.problems,
                         "evidence_changed": [e["id"] for e in evidence_out if e["changed_since_import"]],
                         "row_altered": [e["id"] for e in evidence_out if e["row_altered"]]},
        "unreadable": bad.rows,
        "summary": summary_rows(evidence_out),
        "evidence": evidence_out,
        "runs": [_run_entry(r, gathering.histories.get(r.id, [])) for r in all_runs if r.id in used_runs],
        "models": _models_used(all_runs, used_runs),
        "frames": gathering.frames,
        "errors": gathering.errors,
        "method": {"general": GENERAL, "provenance": FINDINGS_CAVEAT},
        "overlay_scale": ({"image": images.add(colour_scale_png(), "image/png"), "colour_map": COLOUR_MAP,
                           "text": SCALE_TEXT} if overlays_shown else None),
        "audit": audit,
        "images": {digest: {"mime": mime, "bytes": len(data)} for digest, (mime, data) in images.data.items()},
    })
