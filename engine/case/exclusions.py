"""Face tracks kept out of an item's verdicts, for CaseStore: what an examiner marks "not a face".

The detector can take a sleeve or a poster for a face; the examiner who sees it says so, and
from then on that track no longer decides the item's verdicts in that run. Nothing is
deleted: the track's frame results stay, the exclusion is a row of its own with who, when
and why, and both the exclusion and its withdrawal are audited.
"""

from __future__ import annotations

from engine.case.plumbing import StorePlumbing
from engine.case.timeutil import now_iso
from engine.errors import CaseError


class ExclusionsMixin(StorePlumbing):
    def excluded_tracks(self, run_id: int, evidence_id: int) -> dict[int, str]:
        """Track id → reason, for one item in one run."""
        rows = self._query("SELECT track_id, reason FROM track_exclusions WHERE run_id = ? AND evidence_id = ? "
                           "ORDER BY track_id", [run_id, evidence_id])
        return {int(r["track_id"]): str(r["reason"] or "") for r in rows}

    def exclude_track(self, run_id: int, evidence_id: int, track_id: int, reason: str, actor: str | None = None) -> None:
        if isinstance(track_id, bool) or not isinstance(track_id, int) or track_id < 0:
            raise CaseError(f"a face track id is a whole number ≥ 0, got {track_id!r}")
        with self.transaction():
            found = self._query("SELECT count(*) AS n FROM results WHERE run_id = ? AND evidence_id = ? AND track_id = ?",
                                [run_id, evidence_id, track_id])[0]["n"]
            if not found:
                raise CaseError(f"run {run_id} has no face track {track_id} on evidence {evidence_id}")
            if track_id in self.excluded_tracks(run_id, evidence_id):
                raise CaseError(f"face track {track_id} of evidence {evidence_id} is already excluded in run {run_id}")
            self.db.execute(
                "INSERT INTO track_exclusions (run_id, evidence_id, track_id, reason, author, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)", [run_id, evidence_id, track_id, reason, actor or self.actor, now_iso()])
            self._audit("track excluded", {"run_id": run_id, "evidence_id": evidence_id, "track_id": track_id,
                                           "reason": reason}, actor)

    def include_track(self, run_id: int, evidence_id: int, track_id: int, actor: str | None = None) -> None:
        with self.transaction():
            reason = self.excluded_tracks(run_id, evidence_id).get(track_id)
            if reason is None:
                raise CaseError(f"face track {track_id} of evidence {evidence_id} is not excluded in run {run_id}")
            self.db.execute("DELETE FROM track_exclusions WHERE run_id = ? AND evidence_id = ? AND track_id = ?",
                            [run_id, evidence_id, track_id])
            self._audit("track included again", {"run_id": run_id, "evidence_id": evidence_id, "track_id": track_id,
                                                 "reason_withdrawn": reason}, actor)
