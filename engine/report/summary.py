"""The table every report opens with: one row per evidence item with the verdicts of its latest
run shown, the settings that run used, and how the examiner triaged it (bookmarks by status).

It is made from the document's own evidence entries, after they are gathered, so the summary
cannot say something the item's section does not. An item with no run shown says so; one
whose file changed since import carries its verification status, which the formats print in
red beside the verdicts they should no longer be read without.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from engine.report.forensics import counts_text
from engine.vocab import ENSEMBLE, AnnotationKind, BookmarkStatus, VerdictLabel

STATUSES = (BookmarkStatus.OK, BookmarkStatus.CHECK, BookmarkStatus.WARNING)


def anchor(evidence_id: Any) -> str:
    """The HTML id of an item's section (the summary and the contents link to it)."""
    text = str(evidence_id)
    return f"evidence-{text}" if text.isdigit() else "evidence-" + "".join(c if c.isalnum() else "-" for c in text)[:40]


def bookmark_counts(annotations: Mapping[str, Any]) -> dict[str, int]:
    """Bookmarks by status ({ok, check, warning, other, total}); "other" counts a status this
    program never writes (an edited case), so the total always adds up."""
    counts = {str(status): 0 for status in STATUSES} | {"other": 0}
    marks = annotations.get(AnnotationKind.BOOKMARK) or []
    for mark in marks:
        key = mark.get("status") if isinstance(mark, Mapping) else None
        counts[key if isinstance(key, str) and key in counts and key != "other" else "other"] += 1
    return counts | {"total": len(marks)}


def _verdict(v: Mapping[str, Any]) -> dict[str, Any]:
    return {"model": v.get("model"), "label": v.get("label"), "score": v.get("score"), "reason": v.get("reason"),
            "caution": v.get("caution")}


def summary_row(entry: Mapping[str, Any]) -> dict[str, Any]:
    """One item's summary row from its evidence entry (runs oldest first; the last is shown)."""
    runs = entry.get("runs") or []
    latest = runs[-1] if runs else None
    verdicts = latest["verdicts"] if latest else []
    annotations = entry.get("annotations") or {}
    ensemble = next((_verdict(v) for v in verdicts if v.get("model") == ENSEMBLE), None)
    return {
        "evidence_id": entry["id"], "name": entry["name"], "type": entry.get("type"),
        "verification": entry.get("verification"), "anchor": anchor(entry["id"]),
        "run_id": latest["run_id"] if latest else None, "run_status": latest["run_status"] if latest else None,
        "runs_shown": [r["run_id"] for r in runs],
        # Models that make verdicts first; those that judge something else ("not applicable") after.
        "verdicts": sorted((_verdict(v) for v in verdicts if v.get("model") != ENSEMBLE),
                           key=lambda v: v["label"] == VerdictLabel.NOT_APPLICABLE),
        "ensemble": ensemble,
        "settings": latest.get("settings") if latest else None,
        "settings_text": latest.get("settings_text") if latest else None,
        "errors": len(latest["errors"]) if latest else 0,
        "bookmarks": bookmark_counts(annotations),
        "notes": len(annotations.get(AnnotationKind.NOTE) or []),
        "findings": dict((entry.get("provenance") or {}).get("counts") or {}),
        "findings_text": counts_text((entry.get("provenance") or {}).get("counts") or {}),
        "kept_maps": len(entry.get("kept_maps") or []),
        "tags": sorted({str(t.get("text")) for t in annotations.get(AnnotationKind.TAG) or [] if isinstance(t, Mapping)}),
    }


def summary_rows(evidence: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [summary_row(entry) for entry in evidence]


def model_columns(rows: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[str]]:
    """The models to give a summary column, in the order met (those that gave any item a verdict),
    and those left out because they judged no item (every verdict "not applicable")."""
    judged: dict[str, bool] = {}
    for row in rows:
        for v in row.get("verdicts") or []:
            name = str(v.get("model"))
            judged[name] = judged.get(name, False) or v.get("label") != VerdictLabel.NOT_APPLICABLE
    return [m for m, any_verdict in judged.items() if any_verdict], [m for m, any_verdict in judged.items() if not any_verdict]


def verdict_of(row: Mapping[str, Any], model: str) -> Mapping[str, Any] | None:
    """The row's verdict of `model`, or None when its run did not use that model."""
    return next((v for v in row.get("verdicts") or [] if str(v.get("model")) == model), None)


def bookmarks_text(counts: Mapping[str, Any]) -> str:
    """"2 (1 warning, 1 ok)" or "—": the count first, then each status that has any."""
    total = counts.get("total") or 0
    if not total:
        return "—"
    parts = [f"{counts[key]} {word}" for key, word in (("warning", "warning"), ("check", "to check"), ("ok", "ok"),
                                                        ("other", "other")) if counts.get(key)]
    return f"{total} ({', '.join(parts)})"
