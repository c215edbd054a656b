"""The JSON and CSV forms of a report: the whole document as JSON, the frame-level table as CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Mapping

CSV_COLUMNS = ("evidence_id", "evidence_name", "evidence_sha256", "run_id", "model", "frame_index", "timestamp",
               "track_id", "box_x", "box_y", "box_w", "box_h", "p_manipulated", "top_label", "top_score")


def render_json(document: Mapping[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def _safe(value: Any) -> Any:
    # A cell starting with = + - @ is run as a formula by spreadsheet programs; names come from evidence files.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def render_csv(document: Mapping[str, Any]) -> bytes:
    """One row per stored result row (region × model), UTF-8 with a BOM so spreadsheets read accents."""
    names = {e["id"]: (e["name"], e["sha256_recorded"]) for e in document["evidence"]}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in document["frames"]:
        name, sha = names.get(row["evidence_id"], ("", ""))
        box = list(row["box"]) if row.get("box") else [None] * 4
        writer.writerow([_safe(v) if v is not None else "" for v in (
            row["evidence_id"], name, sha, row["run_id"], row["model"], row["frame_index"],
            None if row["timestamp"] is None else f"{row['timestamp']:.3f}", row["track_id"], *box,
            None if row["p_manipulated"] is None else f"{row['p_manipulated']:.6f}", row["top_label"],
            None if row["top_score"] is None else f"{row['top_score']:.6f}")])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
