"""Child process for the SIGKILL test: writes a run item by item, reporting each commit on stdout."""

from __future__ import annotations

import sys

from engine.case import CaseStore

FRAMES = 300


def frames(evidence_id: int, model: str) -> list[dict]:
    return [
        {"evidence_id": evidence_id, "model": model, "frame_index": i, "timestamp": i / 30.0, "track_id": i % 2,
         "box": [1, 2, 3, 4], "probabilities": {"fake": 0.3, "real": 0.7}, "p_manipulated": (evidence_id * 7 + i) % 100 / 100}
        for i in range(FRAMES)
    ]


def main(path: str) -> None:
    with CaseStore.open(path, actor="child") as store:
        runs = store.list_runs()
        if runs:
            run_id = runs[0].id
            pending = store.resume_run(run_id)
        else:
            ids = [e.id for e in store.list_evidence()]
            run_id = store.start_run([{"name": "m1"}, {"name": "m2"}], {"frames_per_clip": FRAMES}, "CPU", ids)
            pending = store.pending_items(run_id)
        print(f"ready {run_id} {len(pending)}", flush=True)
        for evidence_id, model in pending:
            rows = frames(evidence_id, model)
            # Frames arrive in batches, as from the pipeline; the last batch completes the item.
            store.add_results(run_id, rows[:100])
            store.add_results(run_id, rows[100:200])
            store.add_results(run_id, rows[200:], complete=(evidence_id, model))
            print(f"done {evidence_id} {model}", flush=True)
        store.finish_run(run_id, "completed")
        print("finished", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
