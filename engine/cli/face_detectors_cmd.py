"""`models import-face-detector|face-detectors|remove-face-detector`: imported CenterFace and
YuNet files, which `analyze --face-detector NAME` uses instead of the built-in Haar cascade."""

from __future__ import annotations

import argparse

from engine.api import FACE_DETECTOR_KINDS, Workstation
from engine.cli.output import EXIT_OK, print_json, shown


def add_face_detector_parsers(commands: argparse._SubParsersAction) -> None:
    importer = commands.add_parser(
        "import-face-detector", help="copy a CenterFace or YuNet ONNX file into the app home, hashed")
    importer.add_argument("file")
    importer.add_argument("--name", help="name to select it by (default: the file name without .onnx)")
    importer.add_argument("--kind", choices=FACE_DETECTOR_KINDS,
                          help="what the file is (default: read from the model's outputs)")
    importer.add_argument("--json", action="store_true")
    importer.set_defaults(handler=_import)

    lister = commands.add_parser("face-detectors", help="the imported face detectors")
    lister.add_argument("--json", action="store_true")
    lister.set_defaults(handler=_list)

    remover = commands.add_parser("remove-face-detector", help="delete an imported face detector")
    remover.add_argument("name")
    remover.set_defaults(handler=_remove)


def _import(args: argparse.Namespace) -> int:
    summary = Workstation(args.home).import_face_detector(args.file, name=args.name, kind=args.kind)
    if args.json:
        print_json(summary.to_json())
    else:
        print(f"imported face detector {shown(summary.name)}: {summary.kind}, sha256 {summary.sha256[:16]}…; "
              f"use it with analyze --face-detector {shown(summary.name)}")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    detectors = Workstation(args.home).list_face_detectors()
    if args.json:
        print_json([detector.to_json() for detector in detectors])
        return EXIT_OK
    print("built-in: OpenCV Haar cascade (with eye and skin checks), used unless analyze names another")
    if not detectors:
        print("no face detector imported yet: python main.py models import-face-detector FILE")
    for detector in detectors:
        print(f"{shown(detector.name):<28} {detector.kind:<11} sha256 {detector.sha256[:16]}…  "
              f"imported {detector.imported_at or '?'}")
    return EXIT_OK


def _remove(args: argparse.Namespace) -> int:
    Workstation(args.home).remove_face_detector(args.name)
    print(f"removed face detector {shown(args.name)}")
    return EXIT_OK
