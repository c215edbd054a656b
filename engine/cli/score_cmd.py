"""`score IMAGE... --model NAME_OR_PATH`: labels with probabilities, like the HF pipeline prints.

Each image is decoded on its own; one that cannot be read is reported with its error and
the others are still scored (exit code 1 then says some failed).
"""

from __future__ import annotations

import argparse
import sys

from engine.api import PROVIDER_PREFERENCES, ImageScore, Scorer, Workstation
from engine.cli.notes import print_notes
from engine.cli.model_args import add_override_arguments, model_choice, overrides_from_args
from engine.cli.output import EXIT_OK, EXIT_PARTIAL, print_json, progress_bar

FIXTURE_WARNING = "warning: {name} is a random-weight test fixture; its scores mean nothing"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("score", help="score images with one model (no case needed)")
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("--model", required=True,
                        help="an imported model's name (NAME:VARIANT for a variant, e.g. NAME:int8), "
                             "or a model folder / .onnx path")
    parser.add_argument("--provider", choices=PROVIDER_PREFERENCES, default="auto")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--top-k", type=int, help="show only the k most likely labels")
    parser.add_argument("--json", action="store_true", help="print a JSON list, one object per image")
    add_override_arguments(parser)
    parser.set_defaults(handler=_score)


def _score(args: argparse.Namespace) -> int:
    choice = model_choice(args.model)
    if args.variant:
        choice = choice._replace(variant=args.variant)
    workstation = Workstation(args.home)
    scorer = workstation.scorer(choice, provider=args.provider, batch_size=args.batch_size,
                                overrides=overrides_from_args(args))
    print_notes(scorer.notes, workstation.home, getattr(args, "verbose", False))
    if scorer.spec.is_test_fixture:
        print(FIXTURE_WARNING.format(name=scorer.spec.name), file=sys.stderr)
    progress, close = progress_bar("scoring", enabled=not args.json)
    try:
        results = scorer.score(args.images, args.top_k, progress)
    finally:
        close()
    if args.json:
        print_json([result.to_json() for result in results])
    else:
        _print_human(results, scorer)
    return EXIT_PARTIAL if any(result.error for result in results) else EXIT_OK


def _print_human(results: list[ImageScore], scorer: Scorer) -> None:
    spec = scorer.spec
    for result in results:
        print(result.path)
        if result.error is not None:
            print(f"  error: {result.error}")
            continue
        for prediction in result.predictions:
            print(f"  {prediction['score']:.4f}  {prediction['label']}")
        if result.p_manipulated is not None:
            print(f"  p_manipulated = {result.p_manipulated:.4f}")
        else:
            print(f"  ({spec.name} does not judge authenticity: {spec.meaning.explanation})")
    provider = next((r.provider for r in results if r.error is None), None)
    if provider is not None:
        print(f"model {spec.name} ({spec.onnx_sha256[:12]}…) ran on {scorer.ran_on}")
