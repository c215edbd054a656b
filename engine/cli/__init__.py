"""Headless command line: `python main.py <subcommand>`, on the same engine as the window.

Each command group lives in its own module with a `register(subparsers)` function that adds
its parsers and sets `handler`. A handler returns the exit code: 0 all good, 1 some items
failed (the rest were done), 2 nothing could be done (bad arguments, unusable case/model).
EngineError messages are printed as one line on stderr; tracebacks are for real bugs only.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from engine.api import APP_NAME, __version__
from engine.cli.output import EXIT_FATAL, EXIT_PARTIAL, shown
from engine.errors import Cancelled, EngineError

# One module per command group; each registers its own subcommands.
COMMAND_MODULES = (
    "engine.cli.models_cmd",
    "engine.cli.score_cmd",
    "engine.cli.analyze_cmd",
    "engine.cli.case_cmd",
    "engine.cli.report_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py",
        description=f"{APP_NAME} {__version__}: offline deepfake forensics. "
        "Run without arguments to open the window.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--home",
        help="app home folder holding the model store (default: $DFW_HOME or the OS data folder)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except Cancelled as exc:
        print(f"cancelled: {shown(str(exc))}", file=sys.stderr)
        return EXIT_PARTIAL
    except EngineError as exc:
        print(f"error: {shown(str(exc))}", file=sys.stderr)
        return EXIT_FATAL
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, or a file damaged in a way no check foresaw
        if os.environ.get("DFW_DEBUG"):
            raise
        where = traceback.extract_tb(exc.__traceback__)[-1]
        print(f"error: unexpected {type(exc).__name__}: {shown(str(exc)[:300])} (in {os.path.basename(where.filename)} "
              f"line {where.lineno}; a damaged file or a bug: `verify` checks a case, DFW_DEBUG=1 shows the "
              "full traceback)", file=sys.stderr)
        return EXIT_FATAL
