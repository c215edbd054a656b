"""Adding evidence to a case: walk what was given, hash and record each file, describe it.

One engine call for the CLI's `case add` and the window's "Add files…", "Add folder…" and
drops, so all of them record exactly the same facts. Folders are walked (links to folders
are not followed); each file is hashed (SHA-256, streamed, opened read-only), recorded once
(the same content again is reported as a duplicate) and described (EXIF, video probe, and
for images the provenance findings of engine/forensics).
Anything that cannot be added is refused with its reason and the rest goes on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Iterable

from engine.case.files import collect_paths
from engine.case.records import Evidence
from engine.case.store import CaseStore
from engine.errors import Cancelled, EngineError
from engine.forensics.service import provenance_metadata
from engine.media.describe import describe_evidence
from engine.util.progress import IsCancelled, Progress, never_cancelled


@dataclass(frozen=True)
class AddedItem:
    path: str  # as found (a file given, or one found in a folder given)
    evidence: Evidence  # `evidence.duplicate`: the content was already in the case

    @property
    def duplicate(self) -> bool:
        return self.evidence.duplicate


@dataclass(frozen=True)
class RefusedItem:
    path: str
    reason: str  # one line, e.g. "refused /x/pipe: a FIFO, not a regular file"


@dataclass(frozen=True)
class AddReport:
    added: tuple[AddedItem, ...]  # in the order processed, duplicates included
    refused: tuple[RefusedItem, ...]
    cancelled: bool = False  # the caller stopped it; the files before that are in

    @property
    def new(self) -> tuple[AddedItem, ...]:
        return tuple(a for a in self.added if not a.duplicate)

    @property
    def duplicates(self) -> tuple[AddedItem, ...]:
        return tuple(a for a in self.added if a.duplicate)


def add_and_describe(store: CaseStore, path: str | os.PathLike, progress: Progress | None = None) -> Evidence:
    """Add one regular file; a new item also gets its media description stored."""
    item = store.add_evidence(path, progress=progress)
    if not item.duplicate:
        metadata = describe_evidence(item.path_resolved, item.media_kind)
        if item.media_kind == "image":
            # Provenance findings (content credentials, generator hints, JPEG tables) beside the
            # description, about 50 ms an image; a video's are made on demand, since content
            # credentials of a clip mean reading all of it again.
            metadata.update(provenance_metadata(item.path_resolved, item.sha256))
        store.set_evidence_metadata(item.id, metadata)
        item = store.get_evidence(item.id)
    return item


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0  # refused when it is read


def add_paths(store: CaseStore, paths: Iterable[str | os.PathLike], progress: Progress | None = None,
              is_cancelled: IsCancelled | None = None,
              on_item: Callable[[AddedItem | RefusedItem], None] | None = None) -> AddReport:
    """Add files and folders; `on_item` hears of each file as it is added or refused.

    `progress(done, total, name)` counts bytes hashed over all the files, so one large
    clip moves the bar as smoothly as many photos. Cancelling stops before the next file
    (or inside a large one); what was added stays added.
    """
    cancelled = is_cancelled or never_cancelled
    collected = collect_paths(paths)
    refused = [RefusedItem(path, reason) for path, reason in collected.refused]
    if on_item is not None:
        for item in refused:
            on_item(item)
    added: list[AddedItem] = []
    sizes = [_size(path) for path in collected.files]
    total, before = sum(sizes), 0
    for path, size in zip(collected.files, sizes):
        if cancelled():
            return AddReport(tuple(added), tuple(refused), cancelled=True)

        def hashed(done: int, _total: int, name: str, start: int = before) -> None:
            if cancelled():
                raise Cancelled("adding evidence cancelled")
            if progress is not None:
                progress(min(total, start + done), total, name)

        outcome: AddedItem | RefusedItem
        try:
            outcome = AddedItem(path, add_and_describe(store, path, progress=hashed))
            added.append(outcome)
        except Cancelled:
            return AddReport(tuple(added), tuple(refused), cancelled=True)
        except EngineError as exc:
            outcome = RefusedItem(path, str(exc))
            refused.append(outcome)
        before += size
        if on_item is not None:
            on_item(outcome)
    if progress is not None:
        progress(total, total, "done")
    return AddReport(tuple(added), tuple(refused))
