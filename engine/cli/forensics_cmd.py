"""`inspect PATH… [--json]` and `maps PATH --kind K [--quality Q …] -o OUT.png [--overwrite]`.

Both work on files without a case and without models. `inspect` prints each file's
provenance findings (content credentials, metadata hints, JPEG facts), strongest first, and
which checks were possible; every value comes from the file and is escaped for the terminal.
`maps` writes one forensic map as a PNG and prints what it shows and cannot show. It never
writes over its input: an OUT that is the input (by name, link or hard link) is refused, and
an existing OUT is replaced only with --overwrite.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from engine.api import FORENSIC_MAP_KINDS, ProvenanceReport, Workstation
from engine.cli.output import EXIT_FATAL, EXIT_OK, EXIT_PARTIAL, print_json, shown
from engine.errors import EngineError


def register(subparsers: argparse._SubParsersAction) -> None:
    inspect = subparsers.add_parser("inspect", help="provenance findings of files: content credentials, metadata, "
                                                    "JPEG facts (no case, no models)")
    inspect.add_argument("paths", nargs="+", metavar="PATH")
    inspect.add_argument("--json", action="store_true", help="print a JSON list, one report per file")
    inspect.set_defaults(handler=_inspect)

    maps = subparsers.add_parser("maps", help="write a forensic map (error level, noise, spectrum) of an image as PNG")
    maps.add_argument("path", metavar="PATH")
    maps.add_argument("--kind", required=True, choices=FORENSIC_MAP_KINDS)
    maps.add_argument("-o", "--out", required=True, metavar="OUT.png")
    maps.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    maps.add_argument("--frame", type=int, default=0, help="frame index of a video (default 0)")
    maps.add_argument("--quality", type=int, help="ela: JPEG quality of the recompression (default 90)")
    maps.add_argument("--ceiling", type=float, help="ela: error level shown as full scale (default: from the picture)")
    maps.add_argument("--block", type=int, help="noise: block side in pixels (default 16)")
    maps.add_argument("--tile", type=int, help="spectrum: tile side in pixels (default 256)")
    maps.add_argument("--source", choices=("gradient", "image"), help="spectrum: of the gradient (default) or the picture")
    maps.add_argument("--json", action="store_true", help="print what was written as JSON")
    maps.set_defaults(handler=_maps)


def _inspect(args: argparse.Namespace) -> int:
    reports: list[dict[str, object]] = []
    failed = 0
    for path in args.paths:
        try:
            report = Workstation.inspect(path)
        except EngineError as exc:
            failed += 1
            reports.append({"path": path, "error": str(exc)})
            if not args.json:
                print(f"{shown(path)}\n  error: {shown(str(exc))}")
            continue
        reports.append(report.to_dict())
        if not args.json:
            _print_report(report)
    if args.json:
        print_json(reports)
    if failed == len(args.paths):
        return EXIT_FATAL
    return EXIT_PARTIAL if failed else EXIT_OK


def _print_report(report: ProvenanceReport) -> None:
    print(shown(report.path))
    print(f"  {report.file_format}, {report.size:,} bytes, SHA-256 {report.sha256}")
    if not report.findings:
        print("  no findings")
    for item in report.findings:
        print(f"  [{item.severity.value}] {shown(item.explanation)}")
        detail = f"source: {shown(item.source)}; read by {shown(item.tool)} {shown(item.tool_version)}"
        if item.value is not None:
            detail += f"; value: {shown(item.value[:160])}"
        print(f"      {detail}")
    print("  checks:")
    width = max((len(c.name) for c in report.checks), default=0)
    for check in report.checks:
        note = f"  {shown(check.note)}" if check.note else ""
        print(f"    {check.state.value:<15} {check.name:<{width}}{note}".rstrip())
    print("  provenance findings describe how the file was written; they are not a detector's verdict")


def _same_file(a: str, b: str) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _maps(args: argparse.Namespace) -> int:
    if _same_file(args.out, args.path):
        print(f"error: refused to write the map over its input {shown(args.path)}: choose another -o", file=sys.stderr)
        return EXIT_FATAL
    if os.path.lexists(args.out) and not args.overwrite:
        print(f"error: {shown(args.out)} exists: add --overwrite to replace it", file=sys.stderr)
        return EXIT_FATAL
    given = {name: getattr(args, name) for name in ("quality", "ceiling", "block", "tile", "source")}
    params = {name: value for name, value in given.items() if value is not None}
    result = Workstation.forensic_map(args.path, args.kind, frame_index=args.frame, **params)
    _write(args.out, result.png_bytes(), args.overwrite)
    if args.json:
        print_json({"path": args.path, "frame": args.frame, "out": args.out, **result.describe()})
        return EXIT_OK
    print(f"wrote {shown(args.out)}: {args.kind} map of {shown(args.path)}"
          + (f" (frame {args.frame})" if args.frame else ""))
    print(f"  parameters: {', '.join(f'{k}={v}' for k, v in result.params.items()) or 'none'}")
    print(f"  legend: {shown(result.legend)}")
    for peak in result.peaks:
        print(f"  peak at ({peak.fx:+.4f}, {peak.fy:+.4f}) cycles/pixel, {peak.ratio:g}× its surroundings"
              + (f", {peak.note}" if peak.note else ""))
    print(f"  {shown(result.statement)}")
    return EXIT_OK


def _write(out: str, data: bytes, overwrite: bool) -> None:
    """Replace OUT atomically with --overwrite; otherwise create it exclusively, so a file that
    appeared since the check is never replaced."""
    if not overwrite:
        with open(out, "xb") as stream:
            stream.write(data)
        return
    handle, temporary = tempfile.mkstemp(prefix=".map-", suffix=".png", dir=os.path.dirname(os.path.abspath(out)))
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, out)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
