"""`analyze CASE --model NAME ...`: run detectors over a case's evidence, with a progress bar."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from engine.api import (
    PROVIDER_PREFERENCES, RULES, AnalysisJob, EvidenceVerdicts, ItemFailed, RunFinished, RunStarted, RunStatus,
    VerdictSettings, Workstation,
)
from engine.cli.interrupt import first_ctrl_c_cancels
from engine.cli.model_args import model_choice
from engine.cli.notes import print_notes
from engine.cli.output import EXIT_OK, EXIT_PARTIAL, print_above, print_json, progress_bar, shown

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell expects of a command stopped by Ctrl-C


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
    parser.add_argument("--face-detector", metavar="NAME",
                        help="an imported face detector (models import-face-detector; default: the Haar cascade)")
    parser.add_argument("--min-track-frames", type=int, default=3, metavar="K",
                        help="a face track of a clip seen in fewer sampled frames decides no verdict on its own")
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
        batch_size=args.batch_size, yunet_path=args.yunet, face_detector=args.face_detector, resume=args.resume,
        allow_test_fixtures=args.allow_test_fixture,
        verdict=VerdictSettings(rule=args.rule, params=params, threshold=args.threshold, margin=args.margin,
                                weights=_weights(args.weight), min_track_frames=args.min_track_frames),
    )


class _Tally:
    """What the command line reports, counted in one unit: evidence files (an analysis of one
    file by one model is not a unit anyone reads; the progress bar counts frames and says so)."""

    def __init__(self, as_json: bool, home: Any = None, verbose: bool = False) -> None:
        self.as_json = as_json
        self.home, self.verbose = home, verbose
        self.run_id: int | None = None
        self.verdicts: list[dict[str, Any]] = []
        self.failures: list[dict[str, Any]] = []
        self.judged: set[int] = set()
        self.failed: set[int] = set()
        self.finished: RunFinished | None = None

    def started(self, event: RunStarted) -> None:
        self.run_id = event.run_id
        print_notes(event.notes, self.home, self.verbose)
        if not self.as_json:
            what = f"resuming run {event.run_id}" if event.resumed else f"run {event.run_id}"
            left = " still to do" if event.resumed else ""
            print(f"{what}: {len(event.models)} model(s) on {event.provider}, {event.evidence} evidence file(s)"
                  f"{left}, {event.frames_total} frame(s)", file=sys.stderr)

    def item_failed(self, event: ItemFailed) -> None:
        self.failed.add(event.evidence_id)
        self.failures.append({"evidence_id": event.evidence_id, "model": event.model, "stage": event.stage,
                              "message": event.message})
        if not self.as_json:
            model = f" ({shown(event.model)})" if event.model else ""
            print_above(f"evidence {event.evidence_id}{model}: {event.stage} failed: {shown(event.message)}",
                        sys.stderr)

    def judged_item(self, event: EvidenceVerdicts) -> None:
        self.judged.add(event.evidence_id)
        for v in event.verdicts:
            self.verdicts.append({"evidence_id": event.evidence_id, "model": v.model, "score": v.score, "label": v.label})
            if not self.as_json:  # as each item is judged, not only at the end
                score = "   —  " if v.score is None else f"{v.score:.4f}"
                print_above(f"evidence {event.evidence_id:>4}  {shown(v.model):<28} {score}  {v.label}")

    def summary(self) -> dict[str, Any]:
        done = len(self.judged - self.failed)
        return {"run_id": self.finished.run_id if self.finished else self.run_id,
                "status": self.finished.status if self.finished else None,
                "evidence_done": done, "evidence_failed": len(self.failed),
                "verdicts": self.verdicts, "errors": self.failures}


def _analyze(args: argparse.Namespace) -> int:
    job = _job(args)
    progress, close = progress_bar("analysing", enabled=not args.json, unit="frame")
    workstation = Workstation(args.home)
    tally = _Tally(args.json, workstation.home, getattr(args, "verbose", False))
    try:
        with workstation.open_case(args.case, actor=args.actor) as case, first_ctrl_c_cancels("the run") as asked:
            for event in case.analyze(job, progress, asked.is_set):
                if isinstance(event, RunStarted):
                    tally.started(event)
                elif isinstance(event, ItemFailed):
                    tally.item_failed(event)
                elif isinstance(event, EvidenceVerdicts):
                    tally.judged_item(event)
                elif isinstance(event, RunFinished):
                    tally.finished = event
    except KeyboardInterrupt:
        close()
        kept = f"run {tally.run_id} is kept with {len(tally.judged - tally.failed)} evidence file(s) done" \
            if tally.run_id is not None else "nothing was started"
        print(f"interrupted: {kept}{_resume_hint(args, tally)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        close()
    _print_outcome(args.json, tally)
    finished = tally.finished
    if asked.is_set() and finished is not None and finished.status == RunStatus.CANCELLED:
        print(f"stopped: run {finished.run_id} is kept with what was scored{_resume_hint(args, tally)}",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    if finished is None or finished.status != RunStatus.COMPLETED:
        return EXIT_PARTIAL
    return EXIT_PARTIAL if tally.failures else EXIT_OK


def _resume_hint(args: argparse.Namespace, tally: _Tally) -> str:
    if tally.run_id is None:
        return ""
    return f"; finish it with `python main.py analyze {shown(args.case)} --resume`"


def _print_outcome(as_json: bool, tally: _Tally) -> None:
    summary = tally.summary()
    if as_json:
        print_json(summary)
        return
    if tally.finished:
        failed = f", {summary['evidence_failed']} failed (see above)" if summary["evidence_failed"] else ""
        print(f"run {tally.finished.run_id} {tally.finished.status}: {summary['evidence_done']} evidence file(s) "
              f"done{failed}")
