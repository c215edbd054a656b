"""What a report says beside the detectors: each item's provenance findings and the forensic
maps the examiner kept. Neither is folded into a verdict; both stand next to it.

Findings are the ones stored in the case (at intake for images, or when the examiner read a
clip's), never read again while a report is made, so a report shows what the case holds and
when it was read. A kept map is shown from the case's own PNG (checked against its SHA-256),
scaled down to fit the page, with every parameter that made it and the command that makes it
again from the evidence file, so another examiner can compare.
"""

from __future__ import annotations

import io
import shlex
from typing import Any, Mapping

from PIL import Image

from engine.case import CaseStore
from engine.case.records import Evidence
from engine.errors import CaseError
from engine.forensics.records import ProvenanceReport, Severity
from engine.report.rows import Unreadable
from engine.report.topframes import Images

MAP_SHOWN_SIDE = 1400  # pixels: the longest side of a kept map as a report shows it
SEVERITY_ORDER = (Severity.STRONG, Severity.NOTEWORTHY, Severity.INFORMATIVE)
FINDINGS_CAVEAT = ("Provenance findings describe how the file says it was made and written (content credentials, "
                   "metadata, JPEG tables); they are not a detector's verdict and never change one.")


def provenance_entry(item: Evidence) -> dict[str, Any]:
    """The item's stored findings, strongest first, with the checks that could not be made."""
    metadata = item.metadata if isinstance(item.metadata, Mapping) else {}
    stored, error = metadata.get("provenance"), metadata.get("provenance_error")
    if stored is None:
        reason = (f"reading them failed when the item was added: {error}" if error else
                  "not read: a clip's findings are read on demand in the window's Provenance tab"
                  if item.media_kind == "video" else "not read when the item was added")
        return {"state": "not read", "note": str(reason), "findings": [], "not_possible": [], "counts": {}}
    try:
        report = ProvenanceReport.from_dict(stored)
    except CaseError as exc:
        return {"state": "unreadable", "note": f"the stored findings cannot be read: {exc}", "findings": [],
                "not_possible": [], "counts": {}}
    findings = sorted(report.findings, key=lambda f: -f.severity.rank)
    counts = {s.value: sum(1 for f in findings if f.severity == s) for s in SEVERITY_ORDER}
    return {
        "state": "read", "inspected_at": report.inspected_at, "sha256": report.sha256,
        "note": None if report.sha256 == item.sha256 else "read from bytes other than the recorded evidence",
        "findings": [{"severity": f.severity.value, "explanation": f.explanation, "source": f.source,
                      "tool": f"{f.tool} {f.tool_version}", "check": f.check, "value": f.value} for f in findings],
        "not_possible": [{"check": c.name, "state": c.state.value, "note": c.note} for c in report.checks
                         if c.state.value in ("not possible", "failed")],
        "counts": {k: v for k, v in counts.items() if v},
    }


def counts_text(counts: Mapping[str, int]) -> str:
    """"1 strong indication, 2 noteworthy" (informative findings only counted when nothing else is)."""
    shown = [f"{counts[s.value]} {s.value}" for s in SEVERITY_ORDER[:2] if counts.get(s.value)]
    if not shown and counts.get(Severity.INFORMATIVE.value):
        shown = [f"{counts[Severity.INFORMATIVE.value]} informative"]
    return ", ".join(shown)


def _scaled_png(png: bytes) -> tuple[bytes, tuple[int, int]]:
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        if max(image.size) <= MAP_SHOWN_SIDE:
            return png, image.size
        image.thumbnail((MAP_SHOWN_SIDE, MAP_SHOWN_SIDE), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.save(buffer, "PNG", optimize=True)
        return buffer.getvalue(), image.size


def params_text(kind: str, params: Mapping[str, Any], figures: Mapping[str, Any]) -> str:
    """"quality = 80, ceiling from the picture (38)": an ELA ceiling of 0 means the map chose it."""
    parts = []
    for name, value in sorted(params.items()):
        if kind == "ela" and name == "ceiling" and value in (0, 0.0):
            chosen = figures.get("ceiling")
            parts.append("ceiling from the picture" + (f" ({chosen:g})" if isinstance(chosen, (int, float)) else ""))
        else:
            parts.append(f"{name} = {value}")
    return ", ".join(parts) or "no parameters"


def _remake_command(item: Evidence, kept: Any) -> str:
    options = " ".join(f"--{name} {shlex.quote(str(value))}" for name, value in sorted(kept.params.items())
                       if not (name == "ceiling" and value in (0, 0.0)))  # 0: "from the picture", the default
    frame = f" --frame {kept.frame_index}" if kept.frame_index else ""
    return (f"python main.py maps {shlex.quote(str(item.path_given))} --kind {kept.kind}{frame}"
            f"{' ' + options if options else ''} -o map.png")


def kept_map_entries(store: CaseStore, item: Evidence, images: Images, bad: Unreadable) -> list[dict[str, Any]]:
    """Each map kept for the item, its image added to `images` (None when it cannot be read);
    a row that cannot be read at all is listed in `bad` and left out."""
    entries = []
    for kept in store.kept_maps(item.id, lambda row_id, why: bad.add("kept_maps", row_id, "record", why)):
        entry: dict[str, Any] = {
            "id": kept.id, "frame_index": kept.frame_index, "kind": kept.kind, "params": kept.params,
            "params_text": params_text(kept.kind, kept.params, kept.figures),
            "figures": kept.figures, "legend": kept.legend, "statement": kept.statement,
            "tool_version": kept.tool_version, "sha256": kept.sha256, "size": [kept.width, kept.height],
            "evidence_sha256": kept.evidence_sha256, "note": kept.note, "author": kept.author,
            "created_at": kept.created_at, "remake": _remake_command(item, kept), "image": None, "shown_size": None,
            "problem": None if kept.evidence_sha256 == item.sha256 else
            "made from bytes whose SHA-256 is not the one recorded for this item",
        }
        try:
            shown, size = _scaled_png(store.kept_map_png(kept.id))
            entry["image"], entry["shown_size"] = images.add(shown, "image/png"), list(size)
        except (CaseError, OSError, ValueError) as exc:  # a damaged blob: said, never drawn
            entry["problem"] = f"the stored image cannot be shown: {exc}"
        entries.append(entry)
    return entries
