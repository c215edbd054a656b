"""`export_report`: verify a case, render it in one format, write it atomically, hash it, log it.

One engine call behind both `main.py report` and the window's File → Export report…, made on
the case's own open store (`Case.export_report`); the case must be open for writing, since
the export is logged. The report never overwrites an evidence file or the case itself, nor
an existing file unless asked to (`overwrite`). It and its `sha256sum`-style sidecar are
written under temporary names in the target folder, the export is logged in the case's audit
log as "report exported", and only then are both renamed into place (writing.py), so a
failure at any step leaves nothing that looks like a finished report. Progress is reported
in four named stages, verifying, collecting, rendering and writing (progress.py).
A report whose verification failed is still written (the examiner needs to see what failed),
with a banner in every format, and its result is not `ok`. A value in the case that no check
foresaw and that a renderer trips over becomes a ReportError naming the format, not a crash.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any, Sequence
from datetime import datetime

from engine.case import CaseStore, verify_case
from engine.errors import EngineError, ReportError
from engine.util.fileutil import same_file
from engine.util.hashing import sha256_bytes
from engine.report.collect import build_document, select_evidence
from engine.report.progress import ReportProgress
from engine.report.runsel import LATEST, RunChoice, check_runs
from engine.report.textsafe import cut
from engine.report.topframes import Images
from engine.report.writing import existing_target, publish
from engine.util.progress import Progress

FORMATS = ("html", "pdf", "json", "csv")
# No operating system opens a path longer than this (Windows' long-path limit is 32,767), so a
# longer stored evidence path cannot be the report's target; comparing it would only cost time.
MAX_PATH_CHARS = 32_768
RESULT_PROBLEM_CHARS = 500  # per problem in ReportResult (printed by `report --json`); the report has more
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportResult:
    path: str
    sidecar: str
    sha256: str
    format: str
    size: int
    evidence_changed: tuple[int, ...]  # items whose file no longer matches the case
    audit_ok: bool
    verification_ok: bool = True  # the whole verification: files, audit chain, rows against the log, integrity
    problems: tuple[str, ...] = ()  # what verification found, as the report lists them
    row_altered: tuple[int, ...] = ()  # items whose row differs from what the audit log recorded at import
    unreadable: int = 0  # stored rows or values of the wrong shape, left out of the report and listed in it

    @property
    def ok(self) -> bool:
        return not self.evidence_changed and self.audit_ok and self.verification_ok and not self.unreadable


def checksum_line(digest: str, name: str) -> str:
    """One `sha256sum` line; a name with a backslash or line break is escaped as GNU coreutils does
    (the line then starts with a backslash), so `sha256sum -c` still reads it."""
    if not any(ch in name for ch in "\\\n\r"):
        return f"{digest}  {name}\n"
    escaped = name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return f"\\{digest}  {escaped}\n"


def _check_target(out: str, store: CaseStore, overwrite: bool) -> None:
    folder = os.path.dirname(os.path.abspath(out)) or "."
    if not os.path.isdir(folder):
        raise ReportError(f"cannot write report: folder {folder} does not exist")
    if os.path.isdir(out):
        raise ReportError(f"cannot write report: {out} is a folder")
    protected = store.own_files()
    for item in store.list_evidence():
        protected += [item.path_given, item.path_resolved]
    for path in protected:
        if len(path) > MAX_PATH_CHARS or "\0" in path:
            continue
        if same_file(out, path) or same_file(out + ".sha256", path):
            raise ReportError(f"refusing to write the report over {path}: it is evidence or the case itself")
    found = existing_target(out)
    if found and not overwrite:
        raise ReportError(f"cannot write report: {found} already exists (choose another name, or allow it to be "
                          "replaced: report --overwrite)")


def _render_checked(fmt: str, document: dict, images: Images, progress: Progress | None = None) -> bytes:
    """`render`, with anything but an EngineError turned into one ReportError line (the
    traceback goes to the log): a value in an edited case that no check foresaw."""
    try:
        return render(fmt, document, images, progress)
    except ReportError:
        raise
    except MemoryError:
        raise ReportError(f"cannot make the {fmt} report: not enough memory (the case holds very large values; "
                          "`verify` checks it)") from None
    except Exception as exc:
        log.exception("%s report failed", fmt)
        raise ReportError(_failure(f"cannot make the {fmt} report", exc)) from exc


def _failure(what: str, exc: BaseException) -> str:
    detail = " ".join(str(exc).split())[:200]
    return (f"{what}: {type(exc).__name__}{': ' + detail if detail else ''} (the case holds a value this program "
            "did not expect; `verify` checks a case, the log has the details)")


def _document(store: CaseStore, verification: Any, evidence_ids: Sequence[int], bookmarked_only: bool, top_k: int,
              fmt: str, images: Images, runs: RunChoice, progress: Progress | None) -> dict:
    try:
        return build_document(store, verification, tuple(evidence_ids), bookmarked_only, top_k, fmt, images,
                              datetime.now().astimezone(), runs, progress)
    except EngineError:
        raise
    except MemoryError:
        raise ReportError("cannot gather the report: not enough memory (the case holds very large values; "
                          "`verify` checks it)") from None
    except Exception as exc:
        log.exception("gathering the report failed")
        raise ReportError(_failure("cannot gather the report", exc)) from exc


def render(fmt: str, document: dict, images: Images, progress: Progress | None = None) -> bytes:
    """The report in `fmt`; the PDF, whose layout takes time, tells `progress` of each item laid out."""
    if fmt == "html":
        from engine.report.html import render_html

        return render_html(document, images)
    if fmt == "pdf":
        from engine.report.pdf import render_pdf

        return render_pdf(document, images, progress)
    if fmt == "json":
        from engine.report.tabular import render_json

        return render_json(document)
    if fmt == "csv":
        from engine.report.tabular import render_csv

        return render_csv(document)
    raise ReportError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")


def export_report(store: CaseStore, out_path: str | os.PathLike, fmt: str,
                  evidence_ids: Sequence[int] = (), bookmarked_only: bool = False,
                  top_k: int = 3, progress: Progress | None = None, runs: RunChoice | Sequence[int] = LATEST,
                  overwrite: bool = False) -> ReportResult:
    """Write the report of `store` (a case open for writing, which stays open) to `out_path` in
    `fmt` (html, pdf, json, csv): verified, hashed, with its sidecar, logged in the audit log.
    `runs` chooses the runs each item shows (runsel.py); an existing file is replaced only
    with `overwrite`."""
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ReportError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if top_k < 0:
        raise ReportError(f"top-k must be 0 or more, got {top_k}")
    if store.readonly:
        raise ReportError("a report is logged in the case's audit log, so the case must be open for writing")
    out = os.path.abspath(os.fspath(out_path))
    _check_target(out, store, overwrite)
    items = select_evidence(store, evidence_ids, bookmarked_only)  # an empty selection is refused before any hashing
    runs = check_runs(runs, [r.id for r in store.list_runs()])  # and so is a run the case does not hold
    stages = ReportProgress(progress, len(items))
    verification = verify_case(store, progress=stages.stage("verifying"), record=True)
    images = Images()
    document = _document(store, verification, evidence_ids, bookmarked_only, top_k, fmt, images, runs,
                         stages.stage("collecting"))
    stages.enter("rendering", fmt)
    data = _render_checked(fmt, document, images, stages.stage("rendering"))
    digest = sha256_bytes(data)
    stages.enter("writing", os.path.basename(out))
    changed = tuple(document["verification"]["evidence_changed"])
    altered = tuple(document["verification"]["row_altered"])
    sidecar = out + ".sha256"
    logged = {"format": fmt, "path": out, "sha256": digest, "size": len(data), "sidecar": sidecar,
              "evidence": [e["id"] for e in document["evidence"]], "evidence_changed": list(changed),
              "bookmarked_only": bookmarked_only, "verification_ok": verification.ok,
              "row_altered": list(altered), "unreadable": len(document["unreadable"]),
              "runs": document["report"]["selection"]["runs"]}
    publish(out, data, checksum_line(digest, os.path.basename(out)),
            lambda: store.log("report exported", logged),
            lambda reason: store.log("report not written", {"path": out, "sha256": digest,
                                                            "reason": cut(reason, RESULT_PROBLEM_CHARS)}),
            overwrite)
    stages.finish()
    return ReportResult(out, sidecar, digest, fmt, len(data), changed, document["audit"]["chain_ok"],
                        verification.ok, tuple(cut(str(p), RESULT_PROBLEM_CHARS) for p in verification.problems), altered,
                        len(document["unreadable"]))
