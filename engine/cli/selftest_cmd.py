"""`self-test [--json]`: prove this installation works end to end; and what `--version` prints.

The self-test is what a frozen build runs to prove itself and what an analyst runs when
something looks wrong. It prints one line per step (ok, FAILED or skipped, and what) and a
summary with the providers onnxruntime offers and the ones that really ran; the exit code is
0 only when every step passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from engine.api import PROVIDER_PREFERENCES, run_self_test, version_facts
from engine.cli.output import EXIT_OK, EXIT_PARTIAL, print_json, progress_bar, shown


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("self-test", help="check this installation end to end with tiny generated models")
    parser.add_argument("--provider", choices=PROVIDER_PREFERENCES, default="auto",
                        help="run the sessions on this provider (default auto); any other than auto must really run")
    parser.add_argument("--json", action="store_true", help="print the outcome as one JSON object")
    parser.set_defaults(handler=_self_test)


def _self_test(args: argparse.Namespace) -> int:
    progress, close = progress_bar("self-test", enabled=not args.json, unit="step")
    try:
        outcome = run_self_test(args.provider, progress)
    finally:
        close()
    if args.json:
        print_json(outcome.to_json())
    else:
        for step in outcome.steps:
            print(shown(step.line()))
        print(shown(outcome.summary()))
    return EXIT_OK if outcome.ok else EXIT_PARTIAL


def version_text() -> str:
    """The program's version, then one line per library that decides what runs where."""
    facts = version_facts()
    (program, version), *rest = facts.items()
    return "\n".join([f"{program} {version}", *(f"{name}: {value}" for name, value in rest)])


class VersionAction(argparse.Action):
    """`--version`: like argparse's, but the facts are gathered only when asked for (they
    import onnxruntime and OpenCV, which every other command would pay for otherwise)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="print the program's version and those of its runtime libraries")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        print(version_text())
        sys.exit(0)
