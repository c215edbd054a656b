"""A writer killed with SIGKILL at any moment leaves a sound case that loses nothing it
reported as committed, and resuming the run completes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from engine.case import CaseStore
from tests.engine.case.conftest import done_items
from tests.engine.case.kill_child import FRAMES, frames

CHILD = Path(__file__).with_name("kill_child.py")
ROOT = Path(__file__).resolve().parents[3]
ITEMS = 12  # evidence items; × 2 models = 24 run items

# (commit lines to wait for after "ready", extra sleep before the kill): before any item,
# right after a commit, and at assorted moments inside the next item's transaction.
KILL_POINTS = [(0, 0.0), (1, 0.0), (2, 0.002), (1, 0.004), (3, 0.001), (2, 0.0065), (1, 0.01)]


def _run_child_and_kill(path: str, commits: int, delay: float) -> tuple[list[tuple[int, str]], bool]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(CHILD), path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT, env=env)
    done: list[tuple[int, str]] = []
    finished = False
    try:
        line = proc.stdout.readline()
        assert line.startswith("ready"), line + proc.stderr.read()
        while len(done) < commits:
            line = proc.stdout.readline()
            if line.startswith("finished") or not line:
                finished = True
                break
            _, evidence_id, model = line.split()
            done.append((int(evidence_id), model))
        if delay:
            time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=20)
        # Lines printed between our last read and the kill were committed too.
        for line in proc.stdout.read().splitlines():
            if line.startswith("done"):
                _, evidence_id, model = line.split()
                done.append((int(evidence_id), model))
            elif line.startswith("finished"):
                finished = True
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode in (-signal.SIGKILL, 0)
    return done, finished


def test_sigkill_never_damages_case_and_resume_completes(tmp_path):
    path = str(tmp_path / "kill.dfwcase")
    with CaseStore.create(path, "Kill test", "E") as store:
        store.bulk_add_evidence_records(
            [{"path_given": f"/evidence/{i}.mp4", "size": 10, "sha256": f"{i:064x}"} for i in range(ITEMS)])

    reported: set[tuple[int, str]] = set()
    for commits, delay in KILL_POINTS:
        done, finished = _run_child_and_kill(path, commits, delay)
        reported.update(done)
        with CaseStore.open(path) as store:  # runs integrity_check on open
            assert store.integrity_check() == ["ok"]
            assert store.verify_audit_chain() == []
            run = store.list_runs()[0]
            completed = done_items(store, run.id)
            assert reported <= completed, "a committed item was lost"
            for evidence_id, model in completed:
                rows = store.results(run.id, evidence_id, model)
                assert [r.frame_index for r in rows] == list(range(FRAMES))
            if not finished:
                assert run.status == "interrupted"
                assert store.interrupted_runs == [run.id]
                assert [e.action for e in store.audit_entries()][-1] == "run interrupted"

    with CaseStore.open(path) as store:
        run_id = store.list_runs()[0].id
        pending = store.resume_run(run_id)
        assert len(pending) == ITEMS * 2 - len(done_items(store, run_id))
        for evidence_id, model in pending:
            store.add_results(run_id, frames(evidence_id, model), complete=(evidence_id, model))
        run = store.finish_run(run_id, "completed")
        assert (run.status, run.items_done, run.items_total) == ("completed", ITEMS * 2, ITEMS * 2)
        all_rows = store.results(run_id)
        keys = [(r.evidence_id, r.model, r.frame_index, r.track_id) for r in all_rows]
        assert len(keys) == len(set(keys)) == ITEMS * 2 * FRAMES
        assert store.integrity_check() == ["ok"]
        assert store.verify_audit_chain() == []
