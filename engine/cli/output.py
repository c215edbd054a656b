"""Small helpers shared by the CLI commands: exit codes, JSON printing, safe text, progress bars."""

from __future__ import annotations

import json
import re
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
    return "".join(_escaped(ch) if unicodedata.category(ch) in _ESCAPED_CATEGORIES or ch in _BIDI else ch
                   for ch in text)


# Control characters (Cc), line and paragraph separators (Zl, Zp: a line break to some
# terminals) and the bidirectional controls, which reorder what follows them: U+202E makes
# "evil‮gpj.exe" read as "evilexe.jpg".
_ESCAPED_CATEGORIES = {"Cc", "Zl", "Zp"}
_BIDI = {chr(c) for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))}


# What the guard on the streams lets through unescaped: a line break, a tab, and the carriage
# return the progress bar redraws itself with.
_STREAM_KEPT = {"\n", "\t", "\r"}


class GuardedStream:
    """stdout/stderr with every terminal control escaped at the last moment.

    `shown()` escapes values where they are formatted; this catches any value that reaches a
    print without it (a label from a model's config, a status read from a case): an escape
    sequence, a backspace or a bidi override never reaches the terminal as itself.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(text.translate(_TABLE) if _NEEDS.search(text) else text)
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def guard_streams() -> None:
    """Put GuardedStream around sys.stdout and sys.stderr (once)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, GuardedStream):
            setattr(sys, name, GuardedStream(stream))


def _escaped(ch: str) -> str:
    return repr(ch)[1:-1] if unicodedata.category(ch) == "Cc" else f"\\u{ord(ch):04x}"


_DANGEROUS = [chr(c) for c in range(0x20) if chr(c) not in _STREAM_KEPT] + [chr(0x7F)] + \
    [chr(c) for c in range(0x80, 0xA0)] + ["\u2028", "\u2029"] + sorted(_BIDI)
_TABLE = {ord(ch): _escaped(ch) for ch in _DANGEROUS}
_NEEDS = re.compile("[" + re.escape("".join(_DANGEROUS)) + "]")


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def print_above(text: str, file: Any = None) -> None:
    """A line of output that leaves a progress bar drawn on stderr intact (it is redrawn below)."""
    tqdm.write(text, file=file or sys.stdout)


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
