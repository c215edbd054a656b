"""`report CASE --format html|pdf|json|csv -o OUT [--runs latest|all|ID…] [--overwrite]`: export a
case report with its SHA-256 sidecar, with a progress bar through its stages (verifying,
collecting, rendering, writing)."""

from __future__ import annotations

import argparse
import sys

from engine.api import REPORT_FORMATS, ReportResult, Workstation, parse_report_runs
from engine.cli.output import EXIT_OK, EXIT_PARTIAL, print_json, progress_bar, shown


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help="export a case report (evidence re-verified at export)")
    parser.add_argument("case", metavar="CASE")
    parser.add_argument("--format", choices=REPORT_FORMATS, default="html", help="report format (default html)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="report file to write")
    parser.add_argument("--evidence", type=int, action="append", default=[], metavar="ID",
                        help="only these evidence items (repeat; default: all)")
    parser.add_argument("--bookmarked-only", action="store_true", help="only evidence items that carry a bookmark")
    parser.add_argument("--runs", action="append", metavar="latest|all|ID",
                        help="which runs each item shows: its latest (default), all, or run IDs (repeat, or 2,3)")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT (and OUT.sha256) if it exists")
    parser.add_argument("--top-k", type=int, default=3, help="most suspicious regions shown per item (default 3)")
    parser.add_argument("--actor", help="who exports it, for the audit log (default: the OS user)")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
    parser.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    runs = parse_report_runs(args.runs)  # a typing mistake is said before the case is opened
    progress, close = progress_bar("report", enabled=not args.json, unit="step")
    try:
        with Workstation(args.home).open_case(args.case, actor=args.actor) as case:
            result = case.export_report(args.output, args.format, evidence_ids=tuple(args.evidence),
                                        bookmarked_only=args.bookmarked_only, top_k=args.top_k, progress=progress,
                                        runs=runs, overwrite=args.overwrite)
    finally:
        close()
    if args.json:
        print_json({**result.__dict__, "ok": result.ok})
    else:
        print(f"wrote {result.format} report {shown(result.path)} ({result.size:,} bytes)")
        print(f"sha256 {result.sha256} (also in {shown(result.sidecar)} and the case's audit log)")
    if not result.ok:
        print(_warning(result), file=sys.stderr)
    return EXIT_OK if result.ok else EXIT_PARTIAL


def _warning(result: ReportResult) -> str:
    """One line for a report that was written although verification failed (or rows were unreadable)."""
    parts = []
    if not result.verification_ok or result.evidence_changed or not result.audit_ok:
        count = len(result.problems)
        parts.append(f"verification FAILED ({count} problem{'' if count == 1 else 's'}")
        if result.evidence_changed:
            parts[-1] += f"; evidence changed since import: {', '.join(map(str, result.evidence_changed))}"
        if result.row_altered:
            parts[-1] += f"; evidence rows altered: {', '.join(map(str, result.row_altered))}"
        if not result.audit_ok:
            parts[-1] += "; the audit log is damaged"
        parts[-1] += ")"
    if result.unreadable:
        parts.append(f"{result.unreadable} stored row(s) or value(s) unreadable and left out")
    return f"WARNING: the report was written, but {' and '.join(parts)}; the report lists them at the top"
