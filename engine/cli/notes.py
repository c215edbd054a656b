"""Notes the commands print on stderr, and the one that is said once per app home.

On a machine with onnxruntime's GPU build but no usable GPU (a CPU-only laptop with the CUDA
wheel), every command that builds a session learns that CUDA cannot start. Said at every
command it trains analysts to skip notes. So it is printed the first time for an app home
(and whenever `--verbose` asks for everything); the run's provenance records it every time
(`fallback_reason` of each model), which is where a report takes it from.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Iterable

from engine.api import PROVIDER_FALLBACK_MARK
from engine.cli.output import shown

SEEN_FILE = "notes-seen.json"


def _seen_path(home: str | os.PathLike | None) -> Path | None:
    return None if home is None else Path(home) / SEEN_FILE


def _load(path: Path) -> set[str]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return set()
    return {str(item) for item in data} if isinstance(data, list) else set()


def print_notes(notes: Iterable[str], home: str | os.PathLike | None, verbose: bool = False) -> None:
    """Print each note as "note: …"; a provider fallback only once per app home unless `verbose`."""
    path = _seen_path(home)
    seen = _load(path) if path is not None else set()
    added = False
    for note in notes:
        if PROVIDER_FALLBACK_MARK in note and path is not None:
            key = hashlib.sha256(note.encode("utf-8")).hexdigest()[:16]
            if key in seen and not verbose:
                continue
            if key not in seen:
                seen.add(key)
                added = True
                note += " (said once for this app home; --verbose repeats it)"
        print(f"note: {shown(note)}", file=sys.stderr)
    if added and path is not None:
        try:
            path.write_text(json.dumps(sorted(seen)), "utf-8")
        except OSError:
            pass  # a read-only home: the note is simply said again next time
