"""Runs, frame results, overlays, per-item errors and verdicts for CaseStore.

A run plans its items (one evidence item × one model) up front in `run_items`. Results
arrive in small transactions; the transaction that stores an item's last frames also marks
the item done, so after a crash an item is either done with all its frames or pending with
some; a pending item may hold frames under a checkpoint (checkpoints.py), which `resume_run`
keeps when they check out and throws away otherwise, before the pipeline does the rest. A run found still "running" when a case is opened for writing is marked
"interrupted" (store.py).
"""

from __future__ import annotations

import json
import zlib
from typing import Any, Iterable, Iterator, Mapping, Sequence

from engine.case.blobs import read_overlay_payload
from engine.case.records import ENSEMBLE, RUN_STATUSES, FrameResult, ItemError, OverlayRecord, Run, Verdict
from engine.case.seals import ITEM_SEAL, VERDICT_SEAL, item_seal, run_row_digest, verdict_seal
from engine.case.timeutil import now_iso
from engine.errors import CaseError
from engine.util.hashing import sha256_bytes
from engine.version import __version__
from engine.vocab import RunStatus, VerdictLabel
from engine.case.plumbing import StorePlumbing

Item = tuple[int, str]  # (evidence_id, model name)

_RESULT_FIELDS = ("evidence_id", "model", "frame_index", "timestamp", "track_id", "box", "probabilities", "p_manipulated")


def _field(row: Any, name: str) -> Any:
    if isinstance(row, Mapping):
        return row.get(name)
    return getattr(row, name, None)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _result_params(run_id: int, row: Any) -> tuple:
    box = _field(row, "box")
    probabilities = _field(row, "probabilities")
    return (
        run_id,
        int(_field(row, "evidence_id")),
        str(_field(row, "model")),
        _opt_int(_field(row, "frame_index")),
        _opt_float(_field(row, "timestamp")),
        _opt_int(_field(row, "track_id")),
        None if box is None else json.dumps([float(v) for v in box]),
        None if probabilities is None else json.dumps({str(k): float(v) for k, v in dict(probabilities).items()}),
        _opt_float(_field(row, "p_manipulated")),
    )


def _model_name(model: Any) -> str:
    name = model.get("name") if isinstance(model, Mapping) else model
    if not name:
        raise CaseError("every model of a run needs a name")
    return str(name)


class RunsMixin(StorePlumbing):
    # ----- runs ------------------------------------------------------------------------------
    def start_run(
        self,
        models: Sequence[Mapping[str, Any]],
        settings: Mapping[str, Any],
        provider: str,
        evidence_ids: Iterable[int],
        actor: str | None = None,
        app_version: str = __version__,
    ) -> int:
        """Record a run and plan its items; models are dicts with at least `name` (and
        ideally sha256, source, label meaning). Returns the run id."""
        names = [_model_name(m) for m in models]
        if not names:
            raise CaseError("a run needs at least one model")
        if len(set(names)) != len(names) or ENSEMBLE in names:
            raise CaseError(f"model names in a run must be unique and not {ENSEMBLE!r}")
        ids = list(dict.fromkeys(int(e) for e in evidence_ids))
        with self.transaction():
            known = {r["id"] for r in self._query("SELECT id FROM evidence")} if ids else set()
            unknown = [e for e in ids if e not in known]
            if unknown:
                raise CaseError(f"no evidence item {unknown[0]} in this case")
            cursor = self.db.execute(
                "INSERT INTO runs (models, settings, provider, app_version, started_by, started_at, status) "
                "VALUES (?, ?, ?, ?, ?, ?, 'running')",
                [json.dumps(list(models), default=str), json.dumps(dict(settings), default=str), provider,
                 app_version, actor or self.actor, now_iso()],
            )
            run_id = cursor.lastrowid
            assert run_id is not None
            self._connection().executemany(
                "INSERT INTO run_items (run_id, evidence_id, model, status) VALUES (?, ?, ?, 'pending')",
                [(run_id, e, n) for e in ids for n in names],
            )
            self._audit("run started", {"run_id": run_id, "models": names, "provider": provider,
                                        "evidence_count": len(ids), "settings": dict(settings),
                                        "run_sha256": run_row_digest(self._connection(), run_id)}, actor)
        assert run_id is not None
        return run_id

    def _run_status(self, run_id: int) -> str:
        rows = self._query("SELECT status FROM runs WHERE id = ?", [run_id])
        if not rows:
            raise CaseError(f"no run {run_id} in this case")
        return rows[0]["status"]

    def finish_run(self, run_id: int, status: str = RunStatus.COMPLETED, actor: str | None = None) -> Run:
        if status not in RUN_STATUSES or status == RunStatus.RUNNING:
            raise CaseError(f"a run cannot finish as {status!r}")
        with self.transaction():
            self._run_status(run_id)
            self.db.execute("UPDATE runs SET status = ?, finished_at = ? WHERE id = ?", [status, now_iso(), run_id])
            run = self.get_run(run_id)
            results = self._query("SELECT count(*) AS n FROM results WHERE run_id = ?", [run_id])[0]["n"]
            self._audit("run finished", {"run_id": run_id, "status": status, "items_done": run.items_done,
                                         "items_failed": run.items_failed, "items_total": run.items_total,
                                         "results": results}, actor)
        return run

    def get_run(self, run_id: int) -> Run:
        rows = self._query(
            "SELECT r.*, (SELECT count(*) FROM run_items WHERE run_id = r.id) AS items_total, "
            "(SELECT count(*) FROM run_items WHERE run_id = r.id AND status = 'done') AS items_done, "
            "(SELECT count(*) FROM run_items WHERE run_id = r.id AND status = 'failed') AS items_failed "
            "FROM runs r WHERE r.id = ?",
            [run_id],
        )
        if not rows:
            raise CaseError(f"no run {run_id} in this case")
        return Run.from_row(rows[0])

    def list_runs(self) -> list[Run]:
        rows = self._query(
            "SELECT r.*, count(ri.run_id) AS items_total, sum(ri.status = 'done') AS items_done, "
            "sum(ri.status = 'failed') AS items_failed FROM runs r LEFT JOIN run_items ri ON ri.run_id = r.id "
            "GROUP BY r.id ORDER BY r.id"
        )
        return [Run.from_row(r) for r in rows]

    # ----- items -----------------------------------------------------------------------------
    def runs_of_evidence(self, evidence_id: int) -> list[int]:
        """Ids of the runs that planned an evidence item, oldest first."""
        rows = self._query("SELECT DISTINCT run_id FROM run_items WHERE evidence_id = ? ORDER BY run_id", [evidence_id])
        return [r["run_id"] for r in rows]

    def pending_items(self, run_id: int) -> list[Item]:
        rows = self._query(
            "SELECT evidence_id, model FROM run_items WHERE run_id = ? AND status = 'pending' ORDER BY evidence_id, model",
            [run_id],
        )
        return [(r["evidence_id"], r["model"]) for r in rows]

    def _complete(self, run_id: int, items: Iterable[Item], frames: int | None = None) -> None:
        stamp = now_iso()
        for evidence_id, model in items:
            count = frames
            if count is None:
                count = self._connection().execute(
                    "SELECT count(*) FROM results WHERE run_id = ? AND evidence_id = ? AND model = ?",
                    [run_id, evidence_id, model],
                ).fetchone()[0]
            cursor = self.db.execute(
                "UPDATE run_items SET status = 'done', frames = ?, finished_at = ? "
                "WHERE run_id = ? AND evidence_id = ? AND model = ?",
                [count, stamp, run_id, evidence_id, model],
            )
            if cursor.rowcount == 0:
                raise CaseError(f"run {run_id} has no item for evidence {evidence_id} with model {model!r}")
            # The seal: what the file now holds for this item, under the audit chain (seals.py).
            self._audit(ITEM_SEAL, {**item_seal(self._connection(), run_id, evidence_id, model), "frames": count})

    def record_item_error(
        self, run_id: int, evidence_id: int | None, stage: str, message: str, model: str | None = None, item_failed: bool = True
    ) -> None:
        """Keep a per-item error; with `item_failed`, the matching pending items (all models
        when `model` is None) are marked failed, so a resume does not retry them."""
        with self.transaction():
            self._run_status(run_id)
            self.db.execute(
                "INSERT INTO item_errors (run_id, evidence_id, model, stage, message, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                [run_id, evidence_id, model, stage, message, now_iso()],
            )
            if item_failed and evidence_id is not None:
                where = "WHERE run_id = ? AND evidence_id = ? AND status = 'pending'"
                params: list[Any] = [run_id, evidence_id]
                if model is not None:
                    where, params = where + " AND model = ?", params + [model]
                failing = self._connection().execute(f"SELECT model FROM run_items {where}", params).fetchall()
                # A failed item holds no frames: what a checkpoint stored of it must not reach a verdict.
                for (name,) in failing:
                    for table in ("results", "overlays"):
                        self.db.execute(f"DELETE FROM {table} WHERE run_id = ? AND evidence_id = ? AND model = ?",
                                        [run_id, evidence_id, name])
                self.db.execute(f"UPDATE run_items SET status = 'failed', finished_at = ? {where}", [now_iso(), *params])

    def item_errors(self, run_id: int | None = None) -> list[ItemError]:
        return [ItemError(r["run_id"], r["evidence_id"], r["model"], r["stage"], r["message"], r["created_at"])
                for r in self._filtered("SELECT * FROM item_errors", "id", run_id=run_id)]

    # ----- results ---------------------------------------------------------------------------
    def add_results(self, run_id: int, rows: Iterable[Any], complete: Item | Iterable[Item] | None = None) -> int:
        """Store frame results (dicts or objects with evidence_id, model, frame_index,
        timestamp, track_id, box, probabilities, p_manipulated) in one transaction; items in
        `complete` are marked done in the same transaction. Returns the number of rows."""
        params = [_result_params(run_id, row) for row in rows]
        if complete is None:
            items: list[Item] = []
        elif isinstance(complete, tuple) and len(complete) == 2 and isinstance(complete[1], str):
            items = [(int(complete[0]), complete[1])]
        else:
            items = list(complete)
        with self.transaction():
            status = self._run_status(run_id)
            if status != RunStatus.RUNNING:
                raise CaseError(f"run {run_id} is {status}; resume it before adding results")
            self._connection().executemany(
                "INSERT INTO results (run_id, evidence_id, model, frame_index, timestamp, track_id, box, probabilities, "
                "p_manipulated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                params,
            )
            if items:
                self._complete(run_id, items)
        return len(params)

    def results(self, run_id: int, evidence_id: int | None = None, model: str | None = None) -> list[FrameResult]:
        """Frame results of a run in (evidence, model, frame, track) order; see `iter_results`."""
        return list(self.iter_results(run_id, evidence_id, model))

    def iter_results(self, run_id: int, evidence_id: int | None = None, model: str | None = None) -> Iterator[FrameResult]:
        """The same rows, read a page at a time: a run of 200,000 results never sits in memory at once."""
        for row in self._iter_filtered("SELECT * FROM results", "evidence_id, model, frame_index, track_id, id",
                                       run_id=run_id, evidence_id=evidence_id, model=model):
            yield FrameResult.from_row(row)

    # ----- overlays --------------------------------------------------------------------------
    def add_overlay(
        self, run_id: int, evidence_id: int, frame_index: int | None, model: str, method: str, payload: bytes,
        meta: Mapping[str, Any] | None = None,
    ) -> str:
        """Store an overlay (PNG or NPZ bytes) zlib-compressed; returns the SHA-256 of the
        uncompressed payload, which is also what the case records."""
        digest = sha256_bytes(payload)
        with self.transaction():
            self.db.execute(
                "INSERT INTO overlays (run_id, evidence_id, model, frame_index, method, sha256, size, data, meta, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, evidence_id, model, frame_index, method, digest, len(payload), zlib.compress(payload, 6),
                 json.dumps(dict(meta or {}), default=str), now_iso()],
            )
            done = self._connection().execute(
                "SELECT frames FROM run_items WHERE run_id = ? AND evidence_id = ? AND model = ? AND status = 'done'",
                [run_id, evidence_id, model]).fetchone()
            if done is not None:
                # Added to an item already stored (an explanation made later): the item is sealed
                # again, and the newest seal is the one verify holds it to.
                self._audit(ITEM_SEAL, {**item_seal(self._connection(), run_id, evidence_id, model),
                                        "frames": done[0], "reason": "overlay added"})
        return digest

    def overlays(self, run_id: int, evidence_id: int | None = None, model: str | None = None,
                 frame_index: int | None = None) -> list[OverlayRecord]:
        """Overlay descriptions (without the data) of a run, narrowed by the filters given."""
        rows = self._filtered("SELECT id, run_id, evidence_id, model, frame_index, method, sha256, size, meta, created_at "
                              "FROM overlays", "evidence_id, model, frame_index, id", run_id=run_id,
                              evidence_id=evidence_id, model=model, frame_index=frame_index)
        return [OverlayRecord.from_row(r) for r in rows]

    def get_overlay(self, overlay_id: int) -> bytes:
        """The uncompressed overlay bytes, checked against their recorded SHA-256; read within
        the bounds of blobs.py, so a hostile blob is refused rather than filling memory."""
        with self._mutex:
            payload, recorded = read_overlay_payload(self._connection(), overlay_id)
        if sha256_bytes(payload) != recorded:
            raise CaseError(f"overlay {overlay_id} does not match its recorded SHA-256")
        return payload

    # ----- verdicts --------------------------------------------------------------------------
    def set_verdict(
        self, run_id: int, evidence_id: int, model: str, score: float | None, rule_name: str | None,
        rule_params: Mapping[str, Any] | None, threshold: float | None, label: str,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Record (or replace) the verdict of one model, or of "ensemble", on one item in a run."""
        self.set_verdicts(run_id, evidence_id, [{
            "model": model, "score": score, "rule": rule_name, "rule_params": rule_params, "threshold": threshold,
            "label": label, "details": details}])

    def set_verdicts(self, run_id: int, evidence_id: int, verdicts: Sequence[Mapping[str, Any]]) -> None:
        """Record (or replace) verdicts of one item in a run (dicts with model, score, rule,
        rule_params, threshold, label, details) in one transaction, sealed by one audit entry
        that carries the digest of every verdict row the item then has."""
        for verdict in verdicts:
            if verdict["label"] not in set(VerdictLabel):
                raise CaseError(f"unknown verdict label {verdict['label']!r}; expected one of {', '.join(VerdictLabel)}")
        with self.transaction():
            self._run_status(run_id)
            stamp = now_iso()
            self._connection().executemany(
                "INSERT INTO verdicts (run_id, evidence_id, model, score, rule, rule_params, threshold, label, details, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, evidence_id, model) DO UPDATE SET "
                "score = excluded.score, rule = excluded.rule, rule_params = excluded.rule_params, "
                "threshold = excluded.threshold, label = excluded.label, details = excluded.details, "
                "created_at = excluded.created_at",
                [[run_id, evidence_id, str(v["model"]), _opt_float(v.get("score")), v.get("rule"),
                  json.dumps(dict(v.get("rule_params") or {}), sort_keys=True), _opt_float(v.get("threshold")),
                  v["label"], json.dumps(dict(v.get("details") or {}), default=str), stamp] for v in verdicts],
            )
            self._audit(VERDICT_SEAL, verdict_seal(self._connection(), run_id, evidence_id))

    def verdicts(self, run_id: int | None = None, evidence_id: int | None = None) -> list[Verdict]:
        rows = self._filtered("SELECT * FROM verdicts", "run_id, evidence_id, model = 'ensemble', model",
                              run_id=run_id, evidence_id=evidence_id)
        return [Verdict.from_row(r) for r in rows]
