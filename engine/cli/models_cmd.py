"""`models import|list|verify|remove|export`: the model store from the command line."""

from __future__ import annotations

import argparse
import sys

from engine.cli.model_args import add_override_arguments, overrides_from_args
from engine.cli.output import print_json, progress_bar
from engine.cli.quantize_cmd import add_quantize_parser
from engine.paths import app_home
from engine.models.quantize import describe_quantization
from engine.models.store import ModelStore

FIXTURE_NOTE = "TEST FIXTURE: random weights, not a detector"


def register(subparsers: argparse._SubParsersAction) -> None:
    models = subparsers.add_parser("models", help="import, list, verify, remove, export detector models")
    commands = models.add_subparsers(dest="models_command", metavar="ACTION")
    commands.required = True

    importer = commands.add_parser("import", help="copy a model folder (or .onnx) into the store")
    importer.add_argument("path")
    importer.add_argument("--name", help="name in the store (default: the folder name)")
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


def _summary(stored) -> dict:
    spec = stored.manifest.get("spec", {})
    return {
        "name": stored.name,
        "architecture": spec.get("architecture"),
        "layout": stored.manifest.get("layout"),
        "labels": spec.get("labels"),
        "judges": spec.get("meaning", {}).get("judges"),
        "sha256": spec.get("sha256"),
        "variants": stored.manifest.get("variants"),
        "default_variant": stored.manifest.get("default_variant"),
        "imported_at": stored.manifest.get("imported_at"),
        "source": spec.get("source"),
        "is_test_fixture": stored.is_test_fixture,
        "quantization": stored.manifest.get("quantization", {}),
    }


def _import(args: argparse.Namespace) -> int:
    store = ModelStore(app_home(args.home))
    progress, close = progress_bar("copying", enabled=not args.json)
    try:
        stored = store.import_model(
            args.path, args.name, overrides=overrides_from_args(args), variant=args.variant,
            allow_test_fixture=args.allow_test_fixture, progress=progress,
        )
    finally:
        close()
    summary = _summary(stored)
    if args.json:
        print_json(summary)
    else:
        print(f"imported {stored.name}: {summary['architecture']}, labels {summary['labels']}, "
              f"judges {summary['judges']}, sha256 {summary['sha256'][:16]}…")
        if stored.is_test_fixture:
            print(FIXTURE_NOTE)
    return 0


def _list(args: argparse.Namespace) -> int:
    models = [_summary(stored) for stored in ModelStore(app_home(args.home)).list()]
    if args.json:
        print_json(models)
        return 0
    if not models:
        print("no models imported yet: python main.py models import PATH")
        return 0
    for model in models:
        flag = f"  [{FIXTURE_NOTE}]" if model["is_test_fixture"] else ""
        print(f"{model['name']:<28} {model['architecture'] or '?':<32} judges {model['judges']:<12} "
              f"labels {', '.join(model['labels'] or [])}{flag}")
        for variant, figures in model["quantization"].items():
            print(f"    variant {variant}: {describe_quantization(figures)}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    check = ModelStore(app_home(args.home)).verify(args.name)
    if args.json:
        print_json({"name": check.name, "ok": check.ok, "changed": check.changed,
                    "missing": check.missing, "unexpected": check.unexpected})
    else:
        if check.ok:
            print(f"{check.name}: every file matches its import hash")
        for label, files in (("changed", check.changed), ("missing", check.missing), ("unexpected", check.unexpected)):
            for relative in files:
                print(f"{check.name}: {label}: {relative}")
    return 0 if check.ok else 1


def _remove(args: argparse.Namespace) -> int:
    ModelStore(app_home(args.home)).remove(args.name)
    print(f"removed {args.name}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from engine.models.export import export_checkpoint

    out = export_checkpoint(args.checkpoint_dir, args.out_dir, opset=args.opset)
    print(f"exported to {out}; import it with: python main.py models import {out}", file=sys.stdout)
    return 0
