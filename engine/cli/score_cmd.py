"""`score IMAGE... --model NAME_OR_PATH`: labels with probabilities, like the HF pipeline prints.

Each image is decoded on its own; one that cannot be read is reported with its error and
the others are still scored (exit code 1 then says some failed).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from engine.cli.model_args import add_override_arguments, overrides_from_args
from engine.cli.output import print_json, progress_bar
from engine.errors import EngineError
from engine.models.inference import ModelRunner
from engine.media.image import load_image
from engine.models.quantize import describe_quantization
from engine.models.store import resolve_model
from engine.paths import app_home
from engine.models.preprocess import preprocess
from engine.models.runtime import PREFERENCES

FIXTURE_WARNING = "warning: {name} is a random-weight test fixture; its scores mean nothing"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("score", help="score images with one model (no case needed)")
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("--model", required=True, help="an imported model's name, or a model folder / .onnx path")
    parser.add_argument("--provider", choices=PREFERENCES, default="auto")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--top-k", type=int, help="show only the k most likely labels")
    parser.add_argument("--json", action="store_true", help="print a JSON list, one object per image")
    add_override_arguments(parser)
    parser.set_defaults(handler=_score)


def score_images(paths: list[str], runner: ModelRunner, top_k: int | None = None,
                 progress=None) -> list[dict[str, Any]]:
    """One result dict per path, in order; unreadable images carry "error" instead of scores.

    Images are decoded a batch at a time, so a long list never sits decoded in memory at once.
    """
    spec = runner.spec
    results: list[dict[str, Any]] = [{} for _ in paths]
    step = runner.requested_batch_size
    for start in range(0, len(paths), step):
        ready: list[tuple[int, Any]] = []
        for index in range(start, min(start + step, len(paths))):
            try:
                ready.append((index, preprocess(load_image(paths[index]).rgb, spec.preprocess)))
            except (EngineError, OSError) as exc:
                results[index] = {"path": paths[index], "model": spec.name, "error": str(exc)}
        logits = runner.logits_from_pixels(np.stack([pixels for _, pixels in ready])) if ready else []
        for (index, _), row in zip(ready, logits):
            try:
                (prediction,) = runner.predictions_from_logits(row[None, :])
            except EngineError as exc:  # non-finite outputs for this image
                results[index] = {"path": paths[index], "model": spec.name, "error": str(exc)}
                continue
            results[index] = {
                "path": paths[index],
                "model": spec.name,
                "provider": runner.provider,
                "predictions": prediction.ranked(top_k),
                "p_manipulated": prediction.p_manipulated,
            }
        done = min(start + step, len(paths))
        if progress:
            progress(done, len(paths), paths[done - 1])
    return results


def _score(args: argparse.Namespace) -> int:
    spec = resolve_model(args.model, app_home(args.home), variant=args.variant,
                         overrides=overrides_from_args(args))
    runner = ModelRunner(spec, args.provider, batch_size=args.batch_size)
    if runner.info.fallback_reason:
        print(f"note: {runner.info.fallback_reason}", file=sys.stderr)
    if spec.is_test_fixture:
        print(FIXTURE_WARNING.format(name=spec.name), file=sys.stderr)
    if "quantization" in spec.extras:
        print(f"note: {spec.name} {spec.variant}: {describe_quantization(spec.extras['quantization'])}", file=sys.stderr)
    progress, close = progress_bar("scoring", enabled=not args.json)
    try:
        results = score_images(args.images, runner, args.top_k, progress)
    finally:
        close()
    if args.json:
        print_json(results)
    else:
        _print_human(results, spec)
    return 1 if any("error" in result for result in results) else 0


def _print_human(results: list[dict[str, Any]], spec) -> None:
    for result in results:
        print(result["path"])
        if "error" in result:
            print(f"  error: {result['error']}")
            continue
        for prediction in result["predictions"]:
            print(f"  {prediction['score']:.4f}  {prediction['label']}")
        if result["p_manipulated"] is not None:
            print(f"  p_manipulated = {result['p_manipulated']:.4f}")
        else:
            print(f"  ({spec.name} does not judge authenticity: {spec.meaning.explanation})")
    if results and "provider" in next((r for r in results if "provider" in r), {}):
        provider = next(r["provider"] for r in results if "provider" in r)
        print(f"model {spec.name} ({spec.onnx_sha256[:12]}…) ran on {provider}")
