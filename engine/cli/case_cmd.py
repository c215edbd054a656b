"""`case new|add|show` and `verify`: create a case, add evidence, list it, and check it end to end
(the annotation actions of `case` are in annotate_cmd.py, its kept forensic maps in keptmaps_cmd.py)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from engine.api import ENSEMBLE, VERIFY_SCOPE, Case, CaseOverview, Workstation, default_actor
from engine.cli import annotate_cmd, keptmaps_cmd
from engine.cli.output import EXIT_FATAL, EXIT_OK, EXIT_PARTIAL, print_json, progress_bar, shown


def register(subparsers: argparse._SubParsersAction) -> None:
    case = subparsers.add_parser("case", help="create a case, add evidence, show it, annotate it")
    sub = case.add_subparsers(dest="case_command", metavar="ACTION", parser_class=annotate_cmd.IntermixedParser)
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
    show.add_argument("--run", type=int, metavar="ID",
                      help="the verdicts of this run (default: each item's latest run that judged it)")
    show.set_defaults(handler=cmd_show)

    repair = sub.add_parser("repair", help="write a clean copy of a case that holds things this program did not "
                                           "write (foreign triggers, views, tables, columns)")
    repair.add_argument("case", metavar="CASE", help="the case to copy (only read)")
    repair.add_argument("out", metavar="NEW_CASE", help="path of the clean copy (must not exist)")
    _common(repair)
    repair.set_defaults(handler=cmd_repair)

    annotate_cmd.register(sub, _common)
    keptmaps_cmd.register(sub, _common)

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


def _workstation(args: argparse.Namespace) -> Workstation:
    return Workstation(getattr(args, "home", None))


def cmd_new(args: argparse.Namespace) -> int:
    with _workstation(args).create_case(args.case, title=args.title, examiner=args.examiner, number=args.number,
                                        organisation=args.organisation, actor=_actor(args)) as case:
        info = case.info()
    if args.json:
        print_json({"case": args.case, **info.__dict__})
    else:
        print(f"created case {shown(args.case)}: {shown(info.title)} (examiner {shown(info.examiner)})")
    return EXIT_OK


def cmd_add(args: argparse.Namespace) -> int:
    progress, close = progress_bar("hashing", enabled=not args.json, unit="B", unit_scale=True)
    try:
        with _workstation(args).open_case(args.case, actor=_actor(args)) as case:
            report = case.add_evidence(args.paths, progress=progress)
    finally:
        close()
    added = [{"id": a.evidence.id, "path": a.path, "sha256": a.evidence.sha256, "size": a.evidence.size,
              "media": a.evidence.media_description, "duplicate": a.duplicate} for a in report.added]
    problems = [{"path": r.path, "error": r.reason} for r in report.refused]
    if args.json:
        print_json({"case": args.case, "added": added, "refused": problems})
    else:
        for a in added:
            state = f"already in the case as item {a['id']}" if a["duplicate"] else f"added as item {a['id']}"
            print(f"{shown(a['path'])}: {state}, {a['media']}, {a['size']} bytes, sha256 {a['sha256']}")
        for p in problems:
            print(f"refused: {shown(p['error'])}", file=sys.stderr)
        print(f"{len(report.new)} added, {len(report.duplicates)} duplicates, {len(problems)} refused")
    if not added and problems:
        return EXIT_FATAL  # nothing could be added
    return EXIT_PARTIAL if problems else EXIT_OK


def _fmt_score(score: float | None) -> str:
    return "-" if score is None else f"{score:.3f}"


def _settings_text(settings: Any) -> str:
    """A run's settings in a few words: what a verdict beside it was judged with."""
    if not isinstance(settings, dict):
        return "settings unreadable"
    found = settings.get("verdict")
    verdict: dict[str, Any] = found if isinstance(found, dict) else {}
    parts = [f"{settings.get('frames_per_clip', '?')} frames", f"faces {settings.get('face_mode', '?')}",
             f"rule {verdict.get('rule', '?')}", f"threshold {verdict.get('threshold', '?')}"]
    if settings.get("explain"):
        parts.append("overlays")
    return shown(", ".join(str(p) for p in parts))


def _verdicts_shown(case: Case, overview: CaseOverview, run_id: int | None) -> dict[int, tuple[Any, ...]]:
    """Evidence id → the verdicts `case show` shows: of the run asked for, or each item's latest."""
    if run_id is None:
        return {o.evidence.id: o.verdicts for o in overview.evidence}
    chosen: dict[int, list[Any]] = {}
    for verdict in case.verdicts(run_id):
        chosen.setdefault(verdict.evidence_id, []).append(verdict)
    return {o.evidence.id: tuple(chosen.get(o.evidence.id, ())) for o in overview.evidence}


def _show_json(path: str, overview: CaseOverview, verdicts: dict[int, tuple[Any, ...]],
               run_id: int | None) -> dict[str, Any]:
    return {
        "case": {"path": path, **overview.info.__dict__},
        "verdicts_of": "run" if run_id is not None else "latest run per item",
        "evidence": [{**o.evidence.__dict__, "status": o.status, "run_id": o.run_id,
                      "verdict_run_id": verdicts[o.evidence.id][0].run_id if verdicts[o.evidence.id] else None,
                      "verdicts": [v.__dict__ for v in verdicts[o.evidence.id]]} for o in overview.evidence],
        "runs": [{**r.run.__dict__, "status": r.status, "recorded_status": r.run.status} for r in overview.runs],
    }


def _print_show(path: str, overview: CaseOverview, verdicts: dict[int, tuple[Any, ...]], run_id: int | None) -> None:
    info = overview.info
    print(f"Case     {shown(info.title)}" + (f"  (no. {shown(info.number)})" if info.number else ""))
    print(f"Examiner {shown(info.examiner)}" + (f", {shown(info.organisation)}" if info.organisation else ""))
    print(f"Created  {shown(info.created_at)}   updated {shown(info.updated_at)}")
    print(f"File     {shown(path)}  (schema {info.schema_version}, program {shown(info.app_version)}, "
          f"{info.audit_count} audit entries)")
    print()
    which = f"verdicts of run {run_id}" if run_id is not None else "each item's verdict from the latest run that judged it"
    print(f"Evidence ({len(overview.evidence)}; {which})")
    if overview.evidence:
        print(f"  {'id':>5}  {'type':<8} {'status':<13} {'run':>4} {'verdict':<20} {'score':>6}  path")
        for o in overview.evidence:
            shown_verdicts = verdicts[o.evidence.id]
            headline = next((v for v in shown_verdicts if v.model == ENSEMBLE),
                            shown_verdicts[0] if shown_verdicts else None)
            label = shown(headline.label) if headline else "-"
            score = _fmt_score(headline.score) if headline else "-"
            run = str(headline.run_id) if headline else "-"
            print(f"  {o.evidence.id:>5}  {shown(o.evidence.media_format or '?'):<8} {o.status:<13} {run:>4} "
                  f"{label:<20} {score:>6}  {shown(o.evidence.path_given)}")
    print()
    print(f"Runs ({len(overview.runs)})")
    for r in overview.runs:
        run_record = r.run
        print(f"  {run_record.id:>5}  {r.status:<11} {run_record.items_done}/{run_record.items_total} items done, "
              f"{run_record.items_failed} failed  {shown(run_record.started_at)}  {shown(run_record.provider or '?')}  "
              f"[{shown(', '.join(r.model_names))}]")
        print(f"         {_settings_text(run_record.settings)}")


def cmd_show(args: argparse.Namespace) -> int:
    with _workstation(args).open_case(args.case, readonly=True) as case:
        overview = case.overview()
        verdicts = _verdicts_shown(case, overview, args.run)
    if args.json:
        print_json(_show_json(args.case, overview, verdicts, args.run))
    else:
        _print_show(args.case, overview, verdicts, args.run)
    return EXIT_OK


def _print_verify(report: Any) -> None:
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
    if report.foreign:
        print(f"schema: {len(report.foreign)} thing(s) this program did not write (the case opens read-only; "
              f"`case repair` writes a clean copy)")
        for problem in report.foreign:
            print(f"  - {shown(problem)}")
    for note in report.notes:
        print(f"note: {shown(note)}")
    if report.record_problems:
        print(f"records: {len(report.record_problems)} problem(s)")
        for problem in report.record_problems:
            print(f"  - {shown(problem)}")
    print(f"scope: {VERIFY_SCOPE}")
    print("VERIFIED: no differences" if report.ok else f"FAILED: {len(report.problems)} difference(s)")
    print(f"head hash to compare: {report.audit_head}")


def cmd_repair(args: argparse.Namespace) -> int:
    result = _workstation(args).repair_case(args.case, args.out, actor=_actor(args))
    if args.json:
        print_json({"source": result.source, "out": result.out, "source_sha256": result.source_sha256,
                    "dropped": list(result.dropped), "copied": result.copied, "from_schema": result.from_schema})
        return EXIT_OK
    print(f"wrote a clean copy: {shown(result.out)} ({sum(result.copied.values())} rows copied)")
    for item in result.dropped or ("nothing: the case held nothing foreign",):
        print(f"  left behind: {shown(item)}")
    print(f"run `verify {shown(result.out)}` next: it shows whether foreign code already changed stored values")
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    case: Case = _workstation(args).open_case(args.case, actor=_actor(args))  # read-only when it cannot write
    with case:
        progress, close = progress_bar("verifying", enabled=not args.json)
        try:
            report = case.verify(progress=progress)
        finally:
            close()
    if args.json:
        print_json(report.to_dict())
    else:
        _print_verify(report)
    return EXIT_OK if report.ok else EXIT_PARTIAL
