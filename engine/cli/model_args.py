"""Command-line options that state what a model folder does not say (shared by several commands)."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.api import Judges, ModelChoice, ModelOverrides


def add_override_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("what the model folder does not say")
    group.add_argument("--labels", help="labels in output index order, comma-separated (bare .onnx)")
    group.add_argument("--judges", choices=tuple(Judges),
                       help="whether the model judges authenticity; 'other' keeps it out of verdicts")
    group.add_argument("--manipulated-label", action="append", dest="manipulated_labels", metavar="LABEL",
                       help="the label that means manipulated (repeat for several)")
    group.add_argument("--preprocess", choices=("hf", "timm"), help="pixel pipeline for a bare .onnx")
    group.add_argument("--input-size", type=int, help="square input size for a bare .onnx")
    group.add_argument("--resample", choices=("nearest", "bilinear", "bicubic", "lanczos", "box", "hamming"))
    group.add_argument("--mean", help="normalisation mean, three comma-separated numbers")
    group.add_argument("--std", help="normalisation std, three comma-separated numbers")
    group.add_argument("--crop-pct", type=float, help="timm crop_pct for a bare .onnx")
    parser.add_argument("--variant", help="which ONNX file of the folder: default, quantized, int8, uint8, fp16, …")


def _floats(text: str | None) -> tuple[float, ...] | None:
    return tuple(float(value) for value in text.split(",")) if text else None


def overrides_from_args(args: argparse.Namespace, name: str | None = None) -> ModelOverrides:
    labels = [label.strip() for label in args.labels.split(",")] if args.labels else None
    return ModelOverrides(
        name=name, labels=labels, judges=args.judges, manipulated_labels=args.manipulated_labels,
        preprocess=args.preprocess, input_size=args.input_size, resample=args.resample,
        mean=_floats(args.mean), std=_floats(args.std), crop_pct=args.crop_pct,
        source=getattr(args, "source", None), revision=getattr(args, "revision", None),
    )


def model_choice(text: str) -> ModelChoice:
    """NAME or NAME:VARIANT (e.g. detector:int8); a path that exists is taken whole."""
    if ":" in text and not Path(text).exists():
        name, _, variant = text.rpartition(":")
        if name and variant:
            return ModelChoice(name, variant)
    return ModelChoice(text)
