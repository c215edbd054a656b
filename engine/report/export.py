"""`export_report`: verify a case, render it in one format, write it atomically, hash it, log it.

One engine call behind both `main.py report` and the window's File → Export report…, made on
the case's own open store (`Case.export_report`); the case must be open for writing, since
the export is logged. The report never overwrites an evidence file or the case
itself; it is written to a temporary file in the target folder and renamed into place, then its
SHA-256 goes into a `sha256sum`-style sidecar and into the case's audit log as "report exported".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence
from datetime import datetime

from engine.case import CaseStore, verify_case
from engine.errors import ReportError
from engine.util.fileutil import same_file, write_atomic
from engine.util.hashing import sha256_bytes
from engine.report.collect import build_document, select_evidence
from engine.report.topframes import Images
from engine.util.progress import Progress

FORMATS = ("html", "pdf", "json", "csv")


@dataclass(frozen=True)
class ReportResult:
    path: str
    sidecar: str
    sha256: str
    format: str
    size: int
    evidence_changed: tuple[int, ...]  # items whose file no longer matches the case
    audit_ok: bool

    @property
    def ok(self) -> bool:
        return not self.evidence_changed and self.audit_ok


def checksum_line(digest: str, name: str) -> str:
    """One `sha256sum` line; a name with a backslash or line break is escaped as GNU coreutils does
    (the line then starts with a backslash), so `sha256sum -c` still reads it."""
    if not any(ch in name for ch in "\\\n\r"):
        return f"{digest}  {name}\n"
    escaped = name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return f"\\{digest}  {escaped}\n"


def _check_target(out: str, store: CaseStore) -> None:
    folder = os.path.dirname(os.path.abspath(out)) or "."
    if not os.path.isdir(folder):
        raise ReportError(f"cannot write report: folder {folder} does not exist")
    if os.path.isdir(out):
        raise ReportError(f"cannot write report: {out} is a folder")
    protected = store.own_files()
    for item in store.list_evidence():
        protected += [item.path_given, item.path_resolved]
    for path in protected:
        if same_file(out, path) or same_file(out + ".sha256", path):
            raise ReportError(f"refusing to write the report over {path}: it is evidence or the case itself")


def _write(path: str, data: bytes) -> None:
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise ReportError(f"cannot write report {path}: {exc.strerror or exc}") from None


def render(fmt: str, document: dict, images: Images) -> bytes:
    if fmt == "html":
        from engine.report.html import render_html

        return render_html(document, images)
    if fmt == "pdf":
        from engine.report.pdf import render_pdf

        return render_pdf(document, images)
    if fmt == "json":
        from engine.report.tabular import render_json

        return render_json(document)
    if fmt == "csv":
        from engine.report.tabular import render_csv

        return render_csv(document)
    raise ReportError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")


def export_report(store: CaseStore, out_path: str | os.PathLike, fmt: str,
                  evidence_ids: Sequence[int] = (), bookmarked_only: bool = False,
                  top_k: int = 3, progress: Progress | None = None) -> ReportResult:
    """Write the report of `store` (a case open for writing, which stays open) to `out_path` in
    `fmt` (html, pdf, json, csv): verified, hashed, with its sidecar, logged in the audit log."""
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ReportError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if top_k < 0:
        raise ReportError(f"top-k must be 0 or more, got {top_k}")
    if store.readonly:
        raise ReportError("a report is logged in the case's audit log, so the case must be open for writing")
    out = os.path.abspath(os.fspath(out_path))
    _check_target(out, store)
    select_evidence(store, evidence_ids, bookmarked_only)  # an empty selection is refused before any hashing
    verification = verify_case(store, progress=progress, record=True)
    images = Images()
    document = build_document(store, verification, tuple(evidence_ids), bookmarked_only, top_k, fmt, images,
                              datetime.now().astimezone())
    data = render(fmt, document, images)
    digest = sha256_bytes(data)
    _write(out, data)
    sidecar = out + ".sha256"
    _write(sidecar, checksum_line(digest, os.path.basename(out)).encode("utf-8"))
    changed = tuple(document["verification"]["evidence_changed"])
    store.log("report exported", {
        "format": fmt, "path": out, "sha256": digest, "size": len(data), "sidecar": sidecar,
        "evidence": [e["id"] for e in document["evidence"]], "evidence_changed": list(changed),
        "bookmarked_only": bookmarked_only,
    })
    return ReportResult(out, sidecar, digest, fmt, len(data), changed, document["audit"]["chain_ok"])
