"""Headless command line: `python main.py <subcommand>`, on the same engine as the window.

Each command group lives in its own module with a `register(subparsers)` function that adds
its parsers and sets `handler`. A handler returns the exit code: 0 all good, 1 some items
failed (the rest were done), 2 nothing could be done (bad arguments, unusable case/model).
EngineError messages are printed as one line on stderr; tracebacks are for real bugs only.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import traceback

from engine.api import APP_NAME, Workstation, __version__, setup_logging
from engine.cli.output import EXIT_FATAL, EXIT_PARTIAL, guard_streams, shown
from engine.cli.selftest_cmd import VersionAction
from engine.errors import Cancelled, EngineError

# One module per command group; each registers its own subcommands.
COMMAND_MODULES = (
    "engine.cli.models_cmd",
    "engine.cli.score_cmd",
    "engine.cli.analyze_cmd",
    "engine.cli.case_cmd",
    "engine.cli.report_cmd",
    "engine.cli.selftest_cmd",
    "engine.cli.forensics_cmd",
)
log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py",
        description=f"{APP_NAME} {__version__}: offline deepfake forensics. "
        "Run without arguments to open the window.",
    )
    parser.add_argument("--version", action=VersionAction)
    parser.add_argument("--verbose", action="store_true",
                        help="also log to the console (stderr), with debug messages; the log file is always written")
    parser.add_argument(
        "--home",
        help="app home folder holding the model store (default: $DFW_HOME or the OS data folder)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


EXIT_CLOSED_PIPE = 141


def main(argv: list[str] | None = None) -> int:
    guard_streams()
    parser = build_parser()
    args = parser.parse_args(argv)
    _start_logging(args)
    try:
        code = int(args.handler(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here rather than at exit, where it cannot be handled
        return code
    except BrokenPipeError:
        return _closed_pipe()
    except Cancelled as exc:
        log.info("%s cancelled: %s", args.command, exc)
        print(f"cancelled: {shown(str(exc))}", file=sys.stderr)
        return EXIT_PARTIAL
    except EngineError as exc:
        log.warning("%s failed: %s", args.command, exc)
        print(f"error: {shown(str(exc))}", file=sys.stderr)
        return EXIT_FATAL
    except KeyboardInterrupt:
        print("interrupted: nothing half-done was kept", file=sys.stderr)
        return 130
    except OSError as exc:
        # Disk full, a read-only folder, permission denied, a name too long: the machine's
        # state, not a bug. One line with the reason and the path.
        log.warning("%s failed: %s", args.command, exc)
        print(f"error: {shown(_os_error_text(exc))}", file=sys.stderr)
        return EXIT_FATAL
    except Exception as exc:  # a bug, or a file damaged in a way no check foresaw
        log.exception("unexpected error in %s", args.command)  # the traceback goes to the log file
        if os.environ.get("DFW_DEBUG"):
            raise
        where = traceback.extract_tb(exc.__traceback__)[-1]
        print(f"error: unexpected {type(exc).__name__}: {shown(str(exc)[:300])} (in {os.path.basename(where.filename)} "
              f"line {where.lineno}; a damaged file or a bug: `verify` checks a case, DFW_DEBUG=1 shows the "
              "full traceback)", file=sys.stderr)
        return EXIT_FATAL


def _os_error_text(exc: OSError) -> str:
    reason = exc.strerror or str(exc) or type(exc).__name__
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    return f"{reason}: {' → '.join(paths)}" if paths else reason


def _closed_pipe() -> int:
    """The reader of our output went away (`... | head -1`): stop quietly, as Unix tools do.

    Whatever is still buffered would fail again at exit, so stdout is pointed at the null
    device first. The exit code follows the SIGPIPE convention (128 + 13).
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return EXIT_CLOSED_PIPE


def _start_logging(args: argparse.Namespace) -> None:
    """The log file under the app home (and stderr with --verbose); a home whose log cannot be
    written costs a note, not the command."""
    try:
        path = setup_logging(Workstation(args.home).home, args.verbose)
    except (EngineError, OSError) as exc:
        print(f"note: no log file: {shown(str(exc))}", file=sys.stderr)
        return
    log.info("%s %s: %s (log %s)", APP_NAME, __version__, args.command, path)
