"""Adding evidence to a case: hash and record the file, then describe it (EXIF, video probe).

One engine call for the CLI's `case add` and the window's "Add evidence…", so both record
exactly the same facts.
"""

from __future__ import annotations

import os
from typing import Callable

from engine.case import CaseStore, Evidence
from engine.media.describe import describe_evidence


def add_and_describe(store: CaseStore, path: str | os.PathLike,
                     progress: Callable[[int, int, str], None] | None = None) -> Evidence:
    """Add one regular file; a new item also gets its media description stored."""
    item = store.add_evidence(path, progress=progress)
    if not item.duplicate:
        metadata = describe_evidence(item.path_resolved, item.media_kind)
        store.set_evidence_metadata(item.id, metadata)
        item = store.get_evidence(item.id)
    return item
