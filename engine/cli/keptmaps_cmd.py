"""`case keep-map|maps|drop-map`: forensic maps kept in a case for the record, each audited.

A kept map is the PNG the examiner looked at, stored with the evidence SHA-256, frame, kind,
parameters, figures and tool version that made it, so another examiner can make it again
(`python main.py maps PATH --kind ... -o OUT.png`) and compare.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Callable

from engine.api import FORENSIC_MAP_KINDS, KeptMap, Workstation
from engine.cli.output import EXIT_OK, EXIT_PARTIAL, print_json, shown

Options = Callable[[argparse.ArgumentParser], None]
MAP_PARAMETERS = ("quality", "ceiling", "block", "tile", "source")


def register(sub: argparse._SubParsersAction, common: Options) -> None:
    keep = sub.add_parser("keep-map", help="keep a forensic map of an evidence item (or one of its frames) in the case")
    keep.add_argument("case", metavar="CASE")
    keep.add_argument("evidence_id", metavar="EVIDENCE_ID", type=int)
    keep.add_argument("--kind", required=True, choices=FORENSIC_MAP_KINDS)
    keep.add_argument("--frame", type=int, default=0, metavar="N", help="frame index of a video (default 0)")
    keep.add_argument("--quality", type=int, help="ela: JPEG quality of the recompression (default 90)")
    keep.add_argument("--ceiling", type=float, help="ela: error level shown as full scale (default: from the picture)")
    keep.add_argument("--block", type=int, help="noise: block side in pixels (default 16)")
    keep.add_argument("--tile", type=int, help="spectrum: tile side in pixels (default 256)")
    keep.add_argument("--source", choices=("gradient", "image"), help="spectrum: of the gradient or the picture")
    keep.add_argument("note", metavar="TEXT", nargs="?", default="", help="the examiner's comment on the map")
    common(keep)
    keep.set_defaults(handler=cmd_keep_map)

    listing = sub.add_parser("maps", help="list the forensic maps kept in a case")
    listing.add_argument("case", metavar="CASE")
    listing.add_argument("--evidence", type=int, metavar="ID", help="only those of this evidence item")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=cmd_maps)

    drop = sub.add_parser("drop-map", help="remove a kept map from the case (the audit log keeps its record)")
    drop.add_argument("case", metavar="CASE")
    drop.add_argument("map_id", metavar="MAP_ID", type=int)
    common(drop)
    drop.set_defaults(handler=cmd_drop_map)


def kept_map_json(kept: KeptMap) -> dict[str, Any]:
    return {"id": kept.id, "evidence_id": kept.evidence_id, "frame_index": kept.frame_index, "kind": kept.kind,
            "params": kept.params, "figures": kept.figures, "legend": kept.legend, "statement": kept.statement,
            "tool_version": kept.tool_version, "evidence_sha256": kept.evidence_sha256, "sha256": kept.sha256,
            "size": kept.size, "width": kept.width, "height": kept.height, "note": kept.note,
            "author": kept.author, "created_at": kept.created_at}


def _describe(kept: KeptMap) -> str:
    params = ", ".join(f"{k}={shown(v)}" for k, v in sorted(kept.params.items())) or "no parameters"
    frame = f", frame {kept.frame_index}" if kept.frame_index else ""
    note = f": {shown(kept.note)}" if kept.note else ""
    return (f"map {kept.id} on evidence {kept.evidence_id}{frame}: {shown(kept.kind)} ({params}), "
            f"{kept.width}×{kept.height}, by {shown(kept.author)}{note}")


def cmd_keep_map(args: argparse.Namespace) -> int:
    params = {name: getattr(args, name) for name in MAP_PARAMETERS if getattr(args, name) is not None}
    with Workstation(args.home).open_case(args.case, actor=args.actor) as case:
        kept = case.keep_map(args.evidence_id, args.frame, args.kind, note=args.note, **params)
    if args.json:
        print_json(kept_map_json(kept))
    else:
        print(f"kept {_describe(kept)}")
        print(f"  PNG SHA-256 {kept.sha256}; made by {shown(kept.tool_version)}")
        print(f"  {shown(kept.statement)}")
    return EXIT_OK


def cmd_maps(args: argparse.Namespace) -> int:
    damaged: list[str] = []
    with Workstation(args.home).open_case(args.case, readonly=True) as case:
        kept = case.kept_maps(args.evidence, lambda row_id, why: damaged.append(why))
    for why in damaged:  # listed, and the others still shown
        print(f"error: {shown(why)}", file=sys.stderr)
    if args.json:
        print_json([kept_map_json(k) for k in kept])
    else:
        if not kept and not damaged:
            print("no forensic maps kept in this case")
        for item in kept:
            print(_describe(item))
    return EXIT_PARTIAL if damaged else EXIT_OK


def cmd_drop_map(args: argparse.Namespace) -> int:
    with Workstation(args.home).open_case(args.case, actor=args.actor) as case:
        case.remove_kept_map(args.map_id)
    if args.json:
        print_json({"removed": args.map_id})
    else:
        print(f"removed map {args.map_id} (the audit log keeps its record)")
    return EXIT_OK
