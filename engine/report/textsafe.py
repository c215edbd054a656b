"""Text from a case made safe to lay out: bounded in length, direction controls shown, numbers
formatted only when they are numbers.

A case file is SQLite, so every stored value is whatever its last writer put there: a 20 MiB
title, a word where a number belongs, markup, or Unicode direction controls that make
"photo‮gpj.exe" read as "photoexe.jpg". The report document is cut to `DOCUMENT_TEXT_LIMIT`
per string before any format sees it (the PDF cuts much shorter, see pdfbase.py), every cut
says how much was left out, and the rendered formats show each direction control as a visible
mark (‹U+202E›) instead of obeying it.
"""

from __future__ import annotations

import math
import re
from typing import Any

# Per string in the report document, in every format. No real title, note, label or path
# comes near it (a path is at most 32,767 characters even on Windows); a longer value is a
# bomb, and keeping its first 100,000 characters still shows the reader what it was while a
# 20 MiB title can no longer make the HTML, JSON or CSV 20 MiB per place it is cited.
DOCUMENT_TEXT_LIMIT = 100_000
# Stored JSON nested deeper than this is shown as a note: no value this program writes is
# nested more than a few levels, and the walk below must not run out of stack on a crafted one.
MAX_DEPTH = 64
# Problems listed in a VERIFICATION FAILED banner (and unreadable rows listed), then "and N more";
# the JSON report's `verification.problems` keeps them all.
PROBLEMS_SHOWN = 50

# Unicode bidirectional controls: embeddings, overrides and isolates (U+202A–U+202E,
# U+2066–U+2069) and the marks (LRM, RLM, ALM), which reorder the text around them.
BIDI_CONTROLS = frozenset([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_VISIBLE = {code: f"‹U+{code:04X}›" for code in BIDI_CONTROLS}


_CUT_NOTE = re.compile(r"… \(cut: ([0-9,]+) more characters\)\Z")


def cut(text: str, limit: int) -> str:
    """`text`, or its first `limit` characters and a note saying how many more there were.
    Text cut before (the document is cut, then the PDF cuts shorter) keeps the true count."""
    if len(text) <= limit:
        return text
    body, more = text, 0
    note = _CUT_NOTE.search(text, max(0, len(text) - 64))
    if note:
        body, more = text[:note.start()], int(note.group(1).replace(",", ""))
        if len(body) <= limit:
            return text
    return f"{body[:limit]}… (cut: {len(body) - limit + more:,} more characters)"


def visible_controls(text: str) -> str:
    """`text` with each direction control written as a visible mark such as ‹U+202E›."""
    return text.translate(_VISIBLE)


def _bytes_text(value: bytes, limit: int) -> str:
    shown = repr(value[:limit])
    return shown if len(value) <= limit else f"{shown}… (cut: {len(value) - limit:,} more bytes)"


def bound(value: Any, limit: int = DOCUMENT_TEXT_LIMIT, visible: bool = False, depth: int = 0) -> Any:
    """A copy of a JSON-ready value with every string cut to `limit` (and its direction
    controls made visible when `visible`), infinite or NaN numbers written as text (JSON has
    none), bytes as their cut repr, and nesting past MAX_DEPTH replaced by a note."""
    if isinstance(value, str):
        text = cut(value, limit)
        return visible_controls(text) if visible else text
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if depth >= MAX_DEPTH:
        return f"(nested more than {MAX_DEPTH} levels deep; not shown)"
    if isinstance(value, dict):
        return {bound(k, limit, visible, depth + 1) if isinstance(k, str) else k: bound(v, limit, visible, depth + 1)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [bound(v, limit, visible, depth + 1) for v in value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bound(_bytes_text(bytes(value), limit), limit, visible, depth)
    return bound(str(value), limit, visible, depth)


def is_number(value: Any) -> bool:
    """A finite int or float (not a bool): what a stored score, time or index must be."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def number_text(value: Any, spec: str = "", none: str = "—") -> str:
    """`value` formatted with `spec` when it is a number; `none` for None; anything else (a
    word in a number column of an edited case) as its text, unformatted."""
    if value is None:
        return none
    if is_number(value):
        return format(value, spec)
    return str(value)


def problem_lines(problems: list[str], shown: int = PROBLEMS_SHOWN) -> list[str]:
    """The first `shown` problems, then "and N more" when there are more."""
    lines = [str(p) for p in problems[:shown]]
    if len(problems) > shown:
        lines.append(f"and {len(problems) - shown:,} more")
    return lines
