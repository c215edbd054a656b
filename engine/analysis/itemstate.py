"""What a run keeps of one evidence item while its models score it, and its checkpoints.

Regions of a frame arrive together and every model scores its regions in the order they
came, so a frame is finished once every region of it has been scored by every model, and the
finished frames always begin with the first one sent. A long clip's finished frames are
stored every CHECKPOINT_SECONDS with a checkpoint (engine/case/checkpoints.py), so a resume
goes on after the last stored frame, and the rows and rollout maps stored are let go.
An item whose models make occlusion maps is not checkpointed: those maps are made at the end
from the pixels of the most suspicious regions of the whole clip, so a resume redoes it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

import numpy as np

from engine.analysis.regions import EvidenceOutcome, Region
from engine.case import CaseStore, Checkpoint
from engine.explain import Overlay

T = TypeVar("T")
CHECKPOINT_SECONDS = 10.0  # at most this much of a clip's scoring is redone after a crash or Ctrl-C


@dataclass
class ItemState:
    models: tuple[str, ...]
    expected_frames: int
    checkpointable: bool = False
    outstanding: dict[str, int] = field(default_factory=dict)  # model → regions queued, not yet scored
    frame_outstanding: dict[int, int] = field(default_factory=dict)  # frame → region scorings still to come
    frames_scored: int = 0
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # not stored yet
    overlays: dict[str, list[tuple[int, Overlay]]] = field(default_factory=dict)  # model → (frame, overlay)
    kept_pixels: dict[str, list[tuple[Region, np.ndarray]]] = field(default_factory=dict)  # for occlusion
    decoded: bool = False
    outcome: EvidenceOutcome | None = None
    failed_models: set[str] = field(default_factory=set)
    sent: list[int] = field(default_factory=list)  # frames sent to the models and not yet stored, in order
    stored_rows: dict[str, int] = field(default_factory=dict)  # model → rows already in the case
    stored_overlays: dict[str, int] = field(default_factory=dict)
    checkpoint: Checkpoint | None = None  # the last one stored (or resumed from)
    checkpointed_at: float = field(default_factory=time.monotonic)

    @property
    def complete(self) -> bool:
        return self.decoded and not any(self.outstanding.get(name, 0) for name in self.models)

    def frame_sent(self, frame_index: int, regions: int) -> None:
        self.sent.append(frame_index)
        self.frame_outstanding[frame_index] = self.frame_outstanding.get(frame_index, 0) + regions * len(self.models)

    def region_done(self, frame_index: int) -> None:
        left = self.frame_outstanding.get(frame_index, 0) - 1
        self.frame_outstanding[frame_index] = left
        if left == 0:
            self.frames_scored += 1

    def rows_total(self, name: str) -> int:
        return self.stored_rows.get(name, 0) + len(self.rows.get(name, []))

    def overlays_total(self, name: str) -> int:
        return self.stored_overlays.get(name, 0) + len(self.overlays.get(name, []))

    def _finished_prefix(self) -> list[int]:
        done = []
        for frame_index in self.sent:
            if self.frame_outstanding.get(frame_index, 0) != 0:
                break
            done.append(frame_index)
        return done

    def store_checkpoint(self, store: CaseStore, run_id: int, evidence_id: int, force: bool = False) -> bool:
        """Store the finished frames not stored yet, with a checkpoint, when one is due (or `force`)."""
        if not self.checkpointable or self.complete:
            return False
        if not force and time.monotonic() - self.checkpointed_at < CHECKPOINT_SECONDS:
            return False
        finished = self._finished_prefix()
        if not finished:
            return False
        through = finished[-1]
        point = Checkpoint(through, (self.checkpoint.frames if self.checkpoint else 0) + len(finished))
        # Each model's rows and overlays split once: up to `through` they are stored now, the rest wait.
        rows = {name: _split(self.rows.get(name, []), through, lambda row: row["frame_index"]) for name in self.models}
        overlays = {name: _split(self.overlays.get(name, []), through, lambda item: item[0]) for name in self.models}
        with store.transaction():  # every model's frames of the item, or none
            for name in self.models:
                if name not in self.failed_models:
                    store.checkpoint_item(run_id, evidence_id, name, rows[name][0],
                                          [(frame, overlay.case_fields()) for frame, overlay in overlays[name][0]],
                                          point)
        for name in self.models:
            self.stored_rows[name] = self.stored_rows.get(name, 0) + len(rows[name][0])
            self.stored_overlays[name] = self.stored_overlays.get(name, 0) + len(overlays[name][0])
            self.rows[name], self.overlays[name] = rows[name][1], overlays[name][1]
        self.sent = self.sent[len(finished):]
        for frame_index in finished:
            self.frame_outstanding.pop(frame_index, None)
        self.checkpoint, self.checkpointed_at = point, time.monotonic()
        return True


def _split(items: list[T], through: int, frame_of: Callable[[T], int]) -> tuple[list[T], list[T]]:
    """`items` whose frame is at or before `through`, and the rest, each in order."""
    return [i for i in items if frame_of(i) <= through], [i for i in items if frame_of(i) > through]
