"""Small helpers shared by the CLI commands: exit codes, JSON printing, safe text, progress bars."""

from __future__ import annotations

import json
import sys
import unicodedata
from typing import Any, Callable

from tqdm import tqdm

# 0 all done, 1 some items failed (the rest were done), 2 nothing could be done.
EXIT_OK, EXIT_PARTIAL, EXIT_FATAL = 0, 1, 2


def shown(value: Any) -> str:
    """Text from a case or a file name, safe for a terminal line.

    Titles and file names are the user's (or an adversary's): a newline would forge a line
    of output and an escape sequence would drive the terminal. Control characters are
    written as Python escapes instead; everything else, accents and emoji too, is kept.
    """
    text = "" if value is None else str(value)
    return "".join(repr(ch)[1:-1] if unicodedata.category(ch) == "Cc" else ch for ch in text)


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def progress_bar(description: str, enabled: bool = True, unit: str = "item",
                 unit_scale: bool = False) -> tuple[Callable[[int, int, str], None], Callable[[], None]]:
    """A `progress(done, total, message)` callable drawing a bar on stderr, and its closer.

    The engine only knows the plain callable; the bar is silent when stderr is not a
    terminal or when `enabled` is false (e.g. with --json piped into another tool).
    """
    bar: dict[str, tqdm] = {}
    show = enabled and sys.stderr.isatty()

    def progress(done: int, total: int, message: str = "") -> None:
        if not show:
            return
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, desc=description, unit=unit, unit_scale=unit_scale, file=sys.stderr,
                              leave=False)
        current = bar["bar"]
        current.total = total
        current.n = done
        if message:
            current.set_postfix_str(message[-40:], refresh=False)
        current.refresh()

    def close() -> None:
        if "bar" in bar:
            bar["bar"].close()

    return progress, close
