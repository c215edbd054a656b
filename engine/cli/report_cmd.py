"""`report CASE --format html|pdf|json|csv -o OUT`: export a case report with its SHA-256 sidecar."""

from __future__ import annotations

import argparse
import sys

from engine.api import REPORT_FORMATS, Workstation
from engine.cli.output import EXIT_OK, EXIT_PARTIAL, print_json, progress_bar


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help="export a case report (evidence re-verified at export)")
    parser.add_argument("case", metavar="CASE")
    parser.add_argument("--format", choices=REPORT_FORMATS, default="html", help="report format (default html)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="report file to write")
    parser.add_argument("--evidence", type=int, action="append", default=[], metavar="ID",
                        help="only these evidence items (repeat; default: all)")
    parser.add_argument("--bookmarked-only", action="store_true", help="only evidence items that carry a bookmark")
    parser.add_argument("--top-k", type=int, default=3, help="most suspicious regions shown per item (default 3)")
    parser.add_argument("--actor", help="who exports it, for the audit log (default: the OS user)")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
    parser.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    progress, close = progress_bar("verifying evidence", enabled=not args.json)
    try:
        with Workstation(args.home).open_case(args.case, actor=args.actor) as case:
            result = case.export_report(args.output, args.format, evidence_ids=tuple(args.evidence),
                                        bookmarked_only=args.bookmarked_only, top_k=args.top_k, progress=progress)
    finally:
        close()
    if args.json:
        print_json({**result.__dict__, "ok": result.ok})
    else:
        print(f"wrote {result.format} report {result.path} ({result.size:,} bytes)")
        print(f"sha256 {result.sha256} (also in {result.sidecar} and the case's audit log)")
    if result.evidence_changed:
        print(f"WARNING: evidence changed since import: {', '.join(map(str, result.evidence_changed))}; "
              "the report says so", file=sys.stderr)
    if not result.audit_ok:
        print("WARNING: the case's audit log is damaged; the report says so", file=sys.stderr)
    return EXIT_OK if result.ok else EXIT_PARTIAL
