"""`analyze CASE --model NAME ...`: run detectors over a case's evidence, with a progress bar."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from engine.api import (
    PROVIDER_PREFERENCES, RULES, AnalysisJob, EvidenceVerdicts, ItemFailed, RunFinished, RunStarted, RunStatus,
    VerdictSettings, Workstation,
)
from engine.cli.model_args import model_choice
from engine.cli.output import EXIT_OK, EXIT_PARTIAL, print_json, progress_bar


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("analyze", help="score a case's evidence with one or more models")
    parser.add_argument("case")
    parser.add_argument("--evidence", type=int, action="append", default=[], metavar="ID",
                        help="only these evidence items (repeat; default: all)")
    parser.add_argument("--model", action="append", default=[], metavar="NAME",
                        help="an imported model (repeat for several); NAME:VARIANT picks a variant, e.g. NAME:int8")
    parser.add_argument("--frames", type=int, default=16, help="frames sampled per video (default 16)")
    parser.add_argument("--faces", choices=("auto", "only", "off"), default="auto",
                        help="auto: faces where found and the whole frame; only: faces; off: whole frame")
    parser.add_argument("--explain", action="store_true", help="store attention/occlusion overlays")
    parser.add_argument("--discard-ratio", type=float, default=0.0,
                        help="attention rollout: share of the weakest attention links dropped (0 to 0.99)")
    parser.add_argument("--occlusion-top-k", type=int, default=3,
                        help="occlusion maps (models without readable attention) for this many top regions")
    parser.add_argument("--provider", choices=PROVIDER_PREFERENCES, default="auto")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--rule", choices=sorted(RULES), default="topk_mean", help="frame → item aggregation")
    parser.add_argument("--k", type=int, help="k for topk_mean / consecutive_over")
    parser.add_argument("--threshold", type=float, default=0.5, help="verdict threshold on p_manipulated")
    parser.add_argument("--margin", type=float, default=0.1, help="half-width of the inconclusive band")
    parser.add_argument("--weight", action="append", default=[], metavar="MODEL=W", help="ensemble weight")
    parser.add_argument("--yunet", help="YuNet face detector ONNX file (default: OpenCV's Haar cascade)")
    parser.add_argument("--resume", action="store_true", help="finish the last cancelled or interrupted run")
    parser.add_argument("--actor", help="who runs it (default: the OS user)")
    parser.add_argument("--allow-test-fixture", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    parser.set_defaults(handler=_analyze)


def _weights(pairs: list[str]) -> dict[str, float]:
    weights = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        try:
            weights[name] = float(value)
        except ValueError:
            raise SystemExit(f"error: --weight takes MODEL=NUMBER, got {pair!r}") from None
    return weights


def _job(args: argparse.Namespace) -> AnalysisJob:
    params: dict[str, Any] = {}
    if args.k is not None:
        params["k"] = args.k
    if args.rule in ("fraction_over", "consecutive_over"):
        params["threshold"] = args.threshold
    return AnalysisJob(
        models=tuple(model_choice(m) for m in args.model), evidence_ids=tuple(args.evidence),
        frames_per_clip=args.frames, face_mode=args.faces, explain=args.explain, provider=args.provider,
        discard_ratio=args.discard_ratio, occlusion_top_k=args.occlusion_top_k,
        batch_size=args.batch_size, yunet_path=args.yunet, resume=args.resume,
        allow_test_fixtures=args.allow_test_fixture,
        verdict=VerdictSettings(rule=args.rule, params=params, threshold=args.threshold, margin=args.margin,
                                weights=_weights(args.weight)),
    )


def _analyze(args: argparse.Namespace) -> int:
    job = _job(args)
    progress, close = progress_bar("analysing", enabled=not args.json, unit="frame")
    verdicts: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    finished: RunFinished | None = None
    try:
        with Workstation(args.home).open_case(args.case, actor=args.actor) as case:
            for event in case.analyze(job, progress):
                if isinstance(event, RunStarted):
                    for note in event.notes:
                        print(f"note: {note}", file=sys.stderr)
                    if not args.json:
                        print(f"run {event.run_id}: {len(event.models)} model(s) on {event.provider}, "
                              f"{event.items} item(s)", file=sys.stderr)
                elif isinstance(event, ItemFailed):
                    failures.append({"evidence_id": event.evidence_id, "model": event.model, "stage": event.stage,
                                     "message": event.message})
                    if not args.json:
                        print(f"evidence {event.evidence_id}: {event.stage} failed: {event.message}", file=sys.stderr)
                elif isinstance(event, EvidenceVerdicts):
                    verdicts.extend({"evidence_id": event.evidence_id, "model": v.model, "score": v.score,
                                     "label": v.label} for v in event.verdicts)
                elif isinstance(event, RunFinished):
                    finished = event
    finally:
        close()
    _print_outcome(args.json, finished, verdicts, failures)
    if finished is None or finished.status != RunStatus.COMPLETED:
        return EXIT_PARTIAL
    return EXIT_PARTIAL if failures else EXIT_OK


def _print_outcome(as_json: bool, finished: RunFinished | None, verdicts: list[dict[str, Any]],
                   failures: list[dict[str, Any]]) -> None:
    if as_json:
        print_json({"run_id": finished.run_id if finished else None, "status": finished.status if finished else None,
                    "verdicts": verdicts, "errors": failures})
        return
    for verdict in verdicts:
        score = "   —  " if verdict["score"] is None else f"{verdict['score']:.4f}"
        print(f"evidence {verdict['evidence_id']:>4}  {verdict['model']:<28} {score}  {verdict['label']}")
    if finished:
        print(f"run {finished.run_id} {finished.status}: {finished.items_done} item(s) done, "
              f"{finished.items_failed} failed")
