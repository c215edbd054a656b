"""`models import|list|verify|remove|export`: the model store from the command line (and, from
face_detectors_cmd.py, the imported face detectors)."""

from __future__ import annotations

import argparse
import sys

from engine.api import Workstation, describe_quantization
from engine.cli.model_args import add_override_arguments, overrides_from_args
from engine.cli.output import EXIT_OK, EXIT_PARTIAL, print_json, progress_bar
from engine.cli.face_detectors_cmd import add_face_detector_parsers
from engine.cli.quantize_cmd import add_quantize_parser

FIXTURE_NOTE = "TEST FIXTURE: random weights, not a detector"


def register(subparsers: argparse._SubParsersAction) -> None:
    models = subparsers.add_parser("models", help="import, list, verify, remove, export detector models")
    commands = models.add_subparsers(dest="models_command", metavar="ACTION")
    commands.required = True

    importer = commands.add_parser("import", help="copy a model folder (or .onnx) into the store")
    importer.add_argument("path")
    importer.add_argument("--name", help="name in the store (default: the folder name)")
    importer.add_argument("--source", help="where the files came from, e.g. the Hugging Face repo "
                                           "(owner/name), when the folder does not say")
    importer.add_argument("--revision", help="the source's revision, e.g. the commit the files were downloaded at")
    importer.add_argument("--allow-test-fixture", action="store_true", help=argparse.SUPPRESS)
    importer.add_argument("--json", action="store_true")
    add_override_arguments(importer)
    importer.set_defaults(handler=_import)

    lister = commands.add_parser("list", help="the imported models")
    lister.add_argument("--json", action="store_true")
    lister.set_defaults(handler=_list)

    verifier = commands.add_parser("verify", help="re-hash a model's files against its manifest")
    verifier.add_argument("name")
    verifier.add_argument("--json", action="store_true")
    verifier.set_defaults(handler=_verify)

    remover = commands.add_parser("remove", help="delete a model from the store")
    remover.add_argument("name")
    remover.set_defaults(handler=_remove)

    exporter = commands.add_parser(
        "export", help="convert a PyTorch checkpoint folder (HF ViT/SigLIP, timm ViT) to an ONNX folder "
        "(needs the optional 'export' extra)")
    exporter.add_argument("checkpoint_dir")
    exporter.add_argument("out_dir")
    exporter.add_argument("--opset", type=int, default=17)
    exporter.set_defaults(handler=_export)

    add_quantize_parser(commands)
    add_face_detector_parsers(commands)


def _import(args: argparse.Namespace) -> int:
    progress, close = progress_bar("copying", enabled=not args.json)
    try:
        summary = Workstation(args.home).import_model(
            args.path, name=args.name, overrides=overrides_from_args(args), variant=args.variant,
            allow_test_fixture=args.allow_test_fixture, progress=progress,
        )
    finally:
        close()
    if args.json:
        print_json(summary.to_json())
    else:
        print(f"imported {summary.name}: {summary.architecture}, labels {list(summary.labels)}, "
              f"judges {summary.judges}, sha256 {(summary.sha256 or '')[:16]}…")
        if summary.is_test_fixture:
            print(FIXTURE_NOTE)
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    models = Workstation(args.home).list_models()
    if args.json:
        print_json([model.to_json() for model in models])
        return EXIT_OK
    if not models:
        print("no models imported yet: python main.py models import PATH")
        return EXIT_OK
    for model in models:
        flag = f"  [{FIXTURE_NOTE}]" if model.is_test_fixture else ""
        print(f"{model.name:<28} {model.architecture or '?':<32} judges {model.judges or '?':<12} "
              f"labels {', '.join(model.labels)}{flag}")
        for variant, figures in model.quantization.items():
            print(f"    variant {variant}: {describe_quantization(dict(figures))}")
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    check = Workstation(args.home).verify_model(args.name)
    if args.json:
        print_json({"name": check.name, "ok": check.ok, "changed": check.changed,
                    "missing": check.missing, "unexpected": check.unexpected})
    else:
        if check.ok:
            print(f"{check.name}: every file matches its import hash")
        for label, files in (("changed", check.changed), ("missing", check.missing), ("unexpected", check.unexpected)):
            for relative in files:
                print(f"{check.name}: {label}: {relative}")
    return EXIT_OK if check.ok else EXIT_PARTIAL


def _remove(args: argparse.Namespace) -> int:
    Workstation(args.home).remove_model(args.name)
    print(f"removed {args.name}")
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    out = Workstation(args.home).export_checkpoint(args.checkpoint_dir, args.out_dir, opset=args.opset)
    print(f"exported to {out}; import it with: python main.py models import {out}", file=sys.stdout)
    return EXIT_OK
