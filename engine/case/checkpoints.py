"""Checkpoints: the frames of a long clip stored before its item is finished, so a resume
goes on inside the clip instead of starting it again.

An item (evidence × model) is sealed when it is done (seals.py). A clip of 200 frames takes
minutes per model on a CPU, so the pipeline also stores the frames scored so far every few
seconds, each time with an "item checkpoint" audit entry in the same transaction. The entry
carries the item's digest (computed as for an item seal) and how far it reaches:
`through_frame`, the last sampled frame every region of which every model of the item has
scored (frames arrive in order, so every frame before it is done too), and `frames`, how
many sampled frames with regions that covers.

A case is untrusted input, so a resume keeps an item's stored frames only when they still
match its latest checkpoint and every pending model of that evidence item reaches the same
frame; any other item's rows are dropped and it is redone from its first frame, as before
checkpoints existed. The "run resumed" entry lists the items it kept, so `verify` holds kept
rows to their checkpoint and forgets the checkpoints of items that were redone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from engine.case.runs import Item, RunsMixin
from engine.case.seals import item_seal
from engine.errors import CaseError
from engine.vocab import RunStatus

CHECKPOINT = "item checkpoint"
RESUMED = "run resumed"


@dataclass(frozen=True)
class Checkpoint:
    """Where a resume can go on in one evidence item: after `through_frame`, with `frames`
    sampled frames already scored."""

    through_frame: int
    frames: int


def _checkpoint_of(details: Mapping[str, Any]) -> Checkpoint | None:
    through, frames = details.get("through_frame"), details.get("frames")
    if type(through) is not int or type(frames) is not int or through < 0 or frames < 1:
        return None  # a damaged entry promises nothing
    return Checkpoint(through, frames)


def fold_checkpoint(latest: dict[tuple[Any, ...], Mapping[str, Any]], action: str, details: Mapping[str, Any]) -> None:
    """Replay one audit entry into `latest`, (run, evidence, model) → the item's latest checkpoint:
    a checkpoint replaces the item's; a resume forgets those of its run's items it did not keep
    (it emptied them, so their checkpoints no longer speak for anything)."""
    run = details.get("run_id")
    if action == CHECKPOINT:
        latest[(run, details.get("evidence_id"), details.get("model"))] = details
    elif action == RESUMED:
        kept = {(run, *pair) for pair in details.get("kept") or [] if isinstance(pair, list) and len(pair) == 2}
        for key in [key for key in latest if key[0] == run and key not in kept]:
            del latest[key]


class CheckpointsMixin(RunsMixin):
    def checkpoint_item(self, run_id: int, evidence_id: int, model: str, rows: Iterable[Any],
                        overlays: Sequence[tuple[int | None, Mapping[str, Any]]], checkpoint: Checkpoint) -> None:
        """Store frames of a pending item (and their overlays: (frame, `add_overlay` fields))
        with a checkpoint entry sealing everything the item holds so far."""
        with self.transaction():
            self.add_results(run_id, rows)  # refuses a run that is not running
            for frame_index, fields in overlays:
                self.add_overlay(run_id, evidence_id, frame_index, **fields)
            status = self._connection().execute(
                "SELECT status FROM run_items WHERE run_id = ? AND evidence_id = ? AND model = ?",
                [run_id, evidence_id, model]).fetchone()
            if status is None or status[0] != "pending":
                raise CaseError(f"run {run_id} has no pending item for evidence {evidence_id} with model {model!r}")
            self._audit(CHECKPOINT, {**item_seal(self._connection(), run_id, evidence_id, model),
                                     "through_frame": checkpoint.through_frame, "frames": checkpoint.frames})

    def stored_counts(self, run_id: int, evidence_id: int, model: str) -> tuple[int, int]:
        """How many results and overlays the case holds for one item of a run."""
        conn = self._connection()
        params = [run_id, evidence_id, model]
        where = "WHERE run_id = ? AND evidence_id = ? AND model = ?"
        return (conn.execute(f"SELECT count(*) FROM results {where}", params).fetchone()[0],
                conn.execute(f"SELECT count(*) FROM overlays {where}", params).fetchone()[0])

    def item_checkpoints(self, run_id: int) -> dict[int, Checkpoint]:
        """Per evidence item with pending items in the run: the checkpoint a resume may go on
        from, only where every pending model's stored rows match their latest checkpoint and
        all of them reach the same frame."""
        latest: dict[tuple[Any, ...], Mapping[str, Any]] = {}
        for entry in self._query("SELECT action, details FROM audit WHERE action IN (?, ?) ORDER BY id",
                                 [CHECKPOINT, RESUMED]):
            details = _details(entry["details"])
            if details.get("run_id") == run_id:
                fold_checkpoint(latest, entry["action"], details)
        by_evidence: dict[int, list[str]] = {}
        for evidence_id, model in self.pending_items(run_id):
            by_evidence.setdefault(evidence_id, []).append(model)
        found: dict[int, Checkpoint] = {}
        for evidence_id, models in by_evidence.items():
            points = {self._trusted(run_id, evidence_id, model, latest.get((run_id, evidence_id, model))) for model in models}
            point = points.pop() if len(points) == 1 else None
            if point is not None:
                found[evidence_id] = point
        return found

    def _trusted(self, run_id: int, evidence_id: int, model: str, details: Mapping[str, Any] | None) -> Checkpoint | None:
        if details is None:
            return None
        now = item_seal(self._connection(), run_id, evidence_id, model)
        if any(now[key] != details.get(key) for key in ("results", "results_sha256", "overlays", "overlays_sha256")):
            return None
        return _checkpoint_of(details)

    def resume_run(self, run_id: int, actor: str | None = None,
                   keep: Mapping[int, Checkpoint] | None = None) -> list[Item]:
        """Reopen an unfinished run and return its pending items, which are what the pipeline
        still has to do. The stored frames of evidence items in `keep` (what `item_checkpoints`
        returned) stay, checked once more; every other pending item's frames are dropped."""
        with self.transaction():
            status = self._run_status(run_id)
            if status == RunStatus.COMPLETED:
                raise CaseError(f"run {run_id} is already completed")
            keep = keep or {}
            trusted = self.item_checkpoints(run_id) if keep else {}
            changed = sorted(e for e, point in keep.items() if trusted.get(e) != point)
            if changed:  # the pipeline skips what it was told is kept: it must be exactly that
                raise CaseError(f"the stored frames of evidence {changed[0]} in run {run_id} changed while the "
                                "resume was being planned; resume again")
            pending = self.pending_items(run_id)
            kept: list[list[Any]] = []
            for evidence_id, model in pending:
                if evidence_id in keep:
                    kept.append([evidence_id, model])
                    continue
                for table in ("results", "overlays"):
                    self.db.execute(f"DELETE FROM {table} WHERE run_id = ? AND evidence_id = ? AND model = ?",
                                    [run_id, evidence_id, model])
            self.db.execute("UPDATE runs SET status = 'running', finished_at = NULL WHERE id = ?", [run_id])
            self._audit(RESUMED, {"run_id": run_id, "previous_status": status, "pending_items": len(pending),
                                  "kept": kept}, actor)
        return pending


def _details(text: Any) -> Mapping[str, Any]:
    try:
        parsed = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}
