"""`models quantize NAME`: make or take a faster variant (INT8, or OpenVINO bf16 with `--to`) and
accept it only if it agrees with fp32."""

from __future__ import annotations

import argparse

from engine.api import VARIANT_TARGETS, QuantizeRecipe, Thresholds, Workstation, describe_quantization, split_lines
from engine.cli.output import EXIT_OK, print_json, progress_bar
from engine.errors import ModelError


def add_quantize_parser(commands: argparse._SubParsersAction) -> None:
    """The `quantize` action under `models`."""
    parser = commands.add_parser(
        "quantize", help="make a faster variant (INT8, or the folder's own; OpenVINO bf16 with --to) and validate "
                         "it against fp32")
    parser.add_argument("name", help="a model in the store")
    where = parser.add_argument_group("calibration images (one of)")
    where.add_argument("--images", nargs="+", metavar="PATH", help="image/video files or folders")
    where.add_argument("--case", metavar="CASE", help="use the case's own evidence")
    parser.add_argument("--frames", type=int, default=8, help="frames sampled per video (default 8)")
    parser.add_argument("--max-images", type=int, default=256, help="calibration images at most (default 256)")
    parser.add_argument("--min-agreement", type=float, default=Thresholds.min_top1_agreement,
                        help="least top-1 agreement with fp32, 0..1 (default %(default)s)")
    parser.add_argument("--max-delta", type=float, default=Thresholds.max_abs_delta_p,
                        help="largest |Δp(manipulated)| allowed (default %(default)s)")
    parser.add_argument("--to", choices=VARIANT_TARGETS, default="int8", dest="target",
                        help="int8 (default): onnxruntime INT8; openvino-bf16: the fp32 file on OpenVINO's CPU "
                             "plugin in bfloat16 (needs the openvino extra and a CPU with AMX or AVX-512 BF16)")
    parser.add_argument("--force", action="store_true", help="keep a variant below the thresholds, marked forced")
    parser.add_argument("--use", choices=("auto", "shipped", "make"), default="auto",
                        help="auto: the folder's own quantized file when it has one, else make one")
    parser.add_argument("--weight-type", choices=("qint8", "quint8"), default="qint8")
    parser.add_argument("--per-channel", action="store_true", help="per-channel weight scales (dynamic)")
    parser.add_argument("--method", choices=("auto", "dynamic", "static"), default="auto",
                        help="dynamic: weight MatMuls; static: every MatMul with ranges calibrated on the tuning "
                             "images; auto (default): both, the faster one that passes")
    parser.add_argument("--no-mixed", action="store_true",
                        help="do not keep sensitive nodes in fp32 when the all-INT8 variant fails")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=run_quantize)


def run_quantize(args: argparse.Namespace) -> int:
    if bool(args.images) == bool(args.case):
        raise ModelError("give the calibration images with either --images PATH... or --case CASE")
    if args.frames < 1 or args.max_images < 1:
        raise ModelError("--frames and --max-images must be at least 1")
    workstation = Workstation(args.home)
    if args.case:
        with workstation.open_case(args.case, readonly=True) as case:
            calibration = case.calibration(frames_per_video=args.frames, max_images=args.max_images)
    else:
        calibration = workstation.calibration_from_paths(args.images, frames_per_video=args.frames,
                                                         max_images=args.max_images)
    if not calibration.files:
        raise ModelError(f"no images or videos to calibrate with ({calibration.source})")
    progress, close = progress_bar("validating", enabled=not args.json)
    try:
        outcome = workstation.quantize_model(
            args.name, calibration, thresholds=Thresholds(args.min_agreement, args.max_delta), force=args.force,
            recipe=QuantizeRecipe(weight_type=args.weight_type, per_channel=args.per_channel, method=args.method,
                                  mixed=not args.no_mixed), use=args.use, target=args.target,
            progress=progress,
        )
    finally:
        close()
    if args.json:
        print_json({"name": outcome.name, "variant": outcome.variant, "file": outcome.relative_path,
                    "accepted": outcome.accepted, "forced": outcome.forced, "figures": outcome.figures,
                    "skipped": calibration.skipped})
    else:
        for line in calibration.skipped:
            print(f"skipped {line}")
        print(f"{outcome.name}: variant {outcome.variant!r} ({outcome.relative_path}) stored")
        print(f"  {describe_quantization(outcome.figures)}")
        for line in split_lines(outcome.figures):
            print(f"  {line}")
        if outcome.agreement.images < 100:
            print(f"  note: with {outcome.agreement.images} images one changed verdict moves agreement by "
                  f"{100 / outcome.agreement.images:.1f} points")
        print(f"  use it with --variant {outcome.variant}")
    return EXIT_OK
