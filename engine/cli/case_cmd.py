"""`case new|add|show` and `verify`: create a case, add evidence, list it, and check it end to end."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from engine.case.lock import writer_active
from engine.case.intake import add_and_describe
from engine.case import CaseStore, verify_case
from engine.case.files import collect_paths
from engine.case.store import default_actor
from engine.cli.output import print_json, progress_bar, shown
from engine.errors import CaseNotWritable, EngineError

EXIT_OK, EXIT_PARTIAL, EXIT_FATAL = 0, 1, 2


def register(subparsers: argparse._SubParsersAction) -> None:
    case = subparsers.add_parser("case", help="create a case, add evidence, show a case")
    sub = case.add_subparsers(dest="case_command", metavar="ACTION")
    sub.required = True

    new = sub.add_parser("new", help="create a new case file")
    new.add_argument("case", metavar="CASE", help="path of the new .dfwcase file")
    new.add_argument("--title", required=True)
    new.add_argument("--examiner", required=True)
    new.add_argument("--number", help="case number")
    new.add_argument("--organisation")
    _common(new)
    new.set_defaults(handler=cmd_new)

    add = sub.add_parser("add", help="hash and add evidence files (folders are walked)")
    add.add_argument("case", metavar="CASE")
    add.add_argument("paths", metavar="PATH", nargs="+")
    _common(add)
    add.set_defaults(handler=cmd_add)

    show = sub.add_parser("show", help="show the case, its evidence with verdicts, and its runs")
    show.add_argument("case", metavar="CASE")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(handler=cmd_show)

    verify = subparsers.add_parser(
        "verify", help="re-hash every evidence file and check the audit log; non-zero exit on any mismatch"
    )
    verify.add_argument("case", metavar="CASE")
    _common(verify)
    verify.set_defaults(handler=cmd_verify)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--actor", help="who is acting, for the audit log (default: the OS user name)")


def _actor(args: argparse.Namespace) -> str:
    return getattr(args, "actor", None) or default_actor()


def cmd_new(args: argparse.Namespace) -> int:
    with CaseStore.create(args.case, args.title, args.examiner, args.number, args.organisation, _actor(args)) as store:
        info = store.info()
    if args.json:
        print_json({"case": args.case, **info.__dict__})
    else:
        print(f"created case {shown(args.case)}: {shown(info.title)} (examiner {shown(info.examiner)})")
    return EXIT_OK


def cmd_add(args: argparse.Namespace) -> int:
    collected = collect_paths(args.paths)
    added: list[dict[str, Any]] = []
    problems: list[dict[str, str]] = [{"path": p, "error": reason} for p, reason in collected.refused]
    with CaseStore.open(args.case, actor=_actor(args)) as store:
        for index, path in enumerate(collected.files, start=1):
            progress, close = progress_bar(f"hashing {index}/{len(collected.files)}", enabled=not args.json)
            try:
                item = add_and_describe(store, path, progress=lambda done, total, msg: progress(done, total, msg))
            except EngineError as exc:
                problems.append({"path": path, "error": str(exc)})
                continue
            finally:
                close()
            added.append({"id": item.id, "path": path, "sha256": item.sha256, "size": item.size,
                          "media": item.media_description, "duplicate": item.duplicate})
    if args.json:
        print_json({"case": args.case, "added": added, "refused": problems})
    else:
        for a in added:
            state = f"already in the case as item {a['id']}" if a["duplicate"] else f"added as item {a['id']}"
            print(f"{shown(a['path'])}: {state}, {a['media']}, {a['size']} bytes, sha256 {a['sha256']}")
        for p in problems:
            print(f"refused: {shown(p['error'])}", file=sys.stderr)
        print(f"{sum(not a['duplicate'] for a in added)} added, {sum(a['duplicate'] for a in added)} duplicates, "
              f"{len(problems)} refused")
    if not added and problems:
        return EXIT_FATAL  # nothing could be added
    return EXIT_PARTIAL if problems else EXIT_OK


def _fmt_score(score: float | None) -> str:
    return "-" if score is None else f"{score:.3f}"


def cmd_show(args: argparse.Namespace) -> int:
    with CaseStore.open(args.case, readonly=True) as store:
        info = store.info()
        overview = store.evidence_overview()
        runs = store.list_runs()
    # Opening read-only marks nothing; a run still "running" with no writer was interrupted.
    dead = writer_active(args.case) is False
    shown_status = {r.id: ("interrupted" if dead and r.status == "running" else r.status) for r in runs}
    if args.json:
        print_json({
            "case": {"path": args.case, **info.__dict__},
            "evidence": [
                {**o.evidence.__dict__, "status": o.status, "run_id": o.run_id,
                 "verdicts": [v.__dict__ for v in o.verdicts]}
                for o in overview
            ],
            "runs": [{**r.__dict__, "status": shown_status[r.id], "recorded_status": r.status} for r in runs],
        })
        return EXIT_OK
    print(f"Case     {shown(info.title)}" + (f"  (no. {shown(info.number)})" if info.number else ""))
    print(f"Examiner {shown(info.examiner)}" + (f", {shown(info.organisation)}" if info.organisation else ""))
    print(f"Created  {info.created_at}   updated {info.updated_at}")
    print(f"File     {shown(args.case)}  (schema {info.schema_version}, program {info.app_version}, "
          f"{info.audit_count} audit entries)")
    print()
    print(f"Evidence ({len(overview)})")
    if overview:
        print(f"  {'id':>5}  {'type':<8} {'status':<13} {'verdict':<20} {'score':>6}  path")
        for o in overview:
            ensemble = next((v for v in o.verdicts if v.model == "ensemble"), o.verdicts[0] if o.verdicts else None)
            label = ensemble.label if ensemble else "-"
            score = _fmt_score(ensemble.score) if ensemble else "-"
            print(f"  {o.evidence.id:>5}  {(o.evidence.media_format or '?'):<8} {o.status:<13} {label:<20} {score:>6}  "
                  f"{shown(o.evidence.path_given)}")
    print()
    print(f"Runs ({len(runs)})")
    for r in runs:
        names = ", ".join(str(m.get("name")) for m in r.models if isinstance(m, dict))
        print(f"  {r.id:>5}  {shown_status[r.id]:<11} {r.items_done}/{r.items_total} items done, {r.items_failed} failed  "
              f"{r.started_at}  {r.provider or '?'}  [{names}]")
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    notes = []
    try:
        store = CaseStore.open(args.case, actor=_actor(args))
    except CaseNotWritable as exc:
        notes.append(f"the case cannot be written now ({exc.reason}), so this verification is not recorded in "
                     "its audit log")
        store = CaseStore.open(args.case, readonly=True)
    with store:
        progress, close = progress_bar("verifying", enabled=not args.json)
        try:
            report = verify_case(store, progress=progress)
        finally:
            close()
    data = report.to_dict()
    data["notes"] = list(data["notes"]) + notes
    if args.json:
        print_json(data)
    else:
        for check in report.evidence:
            mark = "ok     " if check.ok else check.status.upper().ljust(7)
            print(f"{mark} evidence {check.evidence_id}: {shown(check.path)}"
                  + ("" if check.ok else f"\n        {shown(check.message)}"))
        print(f"SQLite integrity: {', '.join(report.integrity)}")
        if report.audit_problems:
            print(f"audit log: {len(report.audit_problems)} problem(s)")
            for problem in report.audit_problems:
                print(f"  - {shown(problem)}")
        else:
            print(f"audit log: intact, {report.audit_rows} entries, head {report.audit_head}")
        for note in data["notes"]:
            print(f"note: {note}")
        if report.record_problems:
            print(f"records: {len(report.record_problems)} problem(s)")
            for problem in report.record_problems:
                print(f"  - {shown(problem)}")
        print("VERIFIED: no differences" if report.ok else f"FAILED: {len(report.problems)} difference(s)")
    return EXIT_OK if report.ok else EXIT_PARTIAL
