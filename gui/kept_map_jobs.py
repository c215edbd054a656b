"""Forensic maps kept in the case: keeping the one the viewer shows, listing and removing them.

Keeping and removing write to the case (audited and sealed by the engine), so they run on
the engine thread behind whatever is queued there; the list is read on the reader thread.
Each job is built on the GUI thread from plain values: the evidence, the frame, the kind and
the parameters the viewer asked the map for (so the engine makes, or takes from its cache,
exactly the map on screen), and the analyst's comment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from engine.api import KeptMap
from gui.jobs import Job, JobContext

# "the error level map": what a kept map is called in the window's messages.
MAP_NOUNS = {"ela": "error level map", "noise": "noise level map", "residual": "noise residual map",
             "spectrum": "spectrum"}
Params = tuple[tuple[str, int | float | str], ...]


def map_noun(kind: str) -> str:
    return MAP_NOUNS.get(kind, f"{kind} map")


@dataclass(frozen=True)
class KeptMapsView:
    evidence_id: int
    maps: tuple[KeptMap, ...]
    video: bool = False  # a clip's maps are of frames; a picture's of the picture
    unreadable: tuple[tuple[int, str], ...] = ()  # (row id, why) of damaged rows left out of `maps`


@dataclass(frozen=True)
class KeepMap(Job):
    evidence_id: int
    frame_index: int
    kind: str
    params: Params
    note: str = ""

    @property
    def title(self) -> str:
        return f"Keeping the {map_noun(self.kind)} of frame {self.frame_index} of item {self.evidence_id}"

    def run(self, ctx: JobContext) -> KeptMap:
        return ctx.case.keep_map(self.evidence_id, self.frame_index, self.kind, note=self.note, **dict(self.params))


@dataclass(frozen=True)
class RemoveKeptMap(Job):
    map_id: int
    evidence_id: int  # the item whose list to read again afterwards

    @property
    def title(self) -> str:
        return f"Removing kept map {self.map_id}"

    def run(self, ctx: JobContext) -> tuple[int, int]:
        ctx.case.remove_kept_map(self.map_id)
        return self.map_id, self.evidence_id


@dataclass(frozen=True)
class LoadKeptMaps(Job):
    evidence_id: int
    reads_only: ClassVar[bool] = True

    @property
    def title(self) -> str:
        return f"Kept maps of item {self.evidence_id}"

    def run(self, ctx: JobContext) -> KeptMapsView:
        case = ctx.case
        video = case.evidence(self.evidence_id).media_kind == "video"
        damaged: list[tuple[int, str]] = []
        # A damaged row is named, and the maps that can be read are still listed.
        maps = case.kept_maps(self.evidence_id, unreadable=lambda row, why: damaged.append((int(row), why)))
        return KeptMapsView(self.evidence_id, tuple(maps), video, tuple(damaged))
