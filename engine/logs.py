"""The program's log: a rotating file under `<app home>/logs/`, and stderr too when asked.

An analyst who reports "something went wrong" can send one folder; support reads what ran,
with which versions and providers, and the traceback of anything unexpected, which the
terminal and the window only show as one line. The window and the command line both call
`setup_logging` once at start; calling it again (tests, a second window) replaces the
handlers it added instead of doubling them. Only Python's `logging` is used, so engine
modules log with `logging.getLogger(__name__)` and never know where it goes.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from engine.errors import EngineError

LOG_FILE = "workstation.log"
MAX_BYTES = 2 * 1024 * 1024  # a few MB per file ...
BACKUP_COUNT = 4  # ... and a few files: enough for weeks of use, never a disk filler
FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"
# The program's own loggers; third-party libraries stay at the root's INFO.
OWN_LOGGERS = ("engine", "gui", "main")
_MARK = "_dfw_handler"  # set on the handlers this module adds, so a second call can find them


def log_dir(home: Path) -> Path:
    return Path(home) / "logs"


def _remove_own_handlers(root: logging.Logger) -> None:
    for handler in list(root.handlers):
        if getattr(handler, _MARK, False):
            root.removeHandler(handler)
            handler.close()


def _marked(handler: logging.Handler, level: int) -> logging.Handler:
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(FORMAT))
    setattr(handler, _MARK, True)
    return handler


def setup_logging(home: Path, verbose: bool = False) -> Path:
    """Log to `<home>/logs/workstation.log` (rotating); with `verbose` also to stderr, with
    the program's own debug messages. Returns the log file's path; raises EngineError when
    the log folder cannot be written (the caller goes on without a log file)."""
    folder = log_dir(home)
    path = folder / LOG_FILE
    try:
        folder.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT,
                                                            encoding="utf-8")
    except OSError as exc:
        raise EngineError(f"cannot write the log file {path}: {exc.strerror or exc}") from None
    root = logging.getLogger()
    _remove_own_handlers(root)
    own_level = logging.DEBUG if verbose else logging.INFO
    root.addHandler(_marked(file_handler, own_level))
    if verbose:
        root.addHandler(_marked(logging.StreamHandler(sys.stderr), logging.DEBUG))
    if root.level > logging.INFO:  # the default WARNING would drop the run records
        root.setLevel(logging.INFO)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(own_level)
    return path


def close_logging() -> None:
    """Remove and close the handlers `setup_logging` added (the log file is released)."""
    _remove_own_handlers(logging.getLogger())
