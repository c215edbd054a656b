"""Case store speed: a case with 10,000 evidence items and 200,000 frame results.

Builds the case in a temporary folder (evidence records go in through the store's bulk path
with made-up hashes; results go through `add_results`, the path the pipeline uses, one item
of 20 frames per transaction), then times opening the case (with its integrity check) plus
listing every item with its status and latest verdicts. Prints the figures, the ratio to
each target, and PASS/FAIL.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from engine.case import CaseStore  # noqa: E402

OPEN_LIST_TARGET_S = 1.0
INSERT_TARGET_ROWS_S = 5000.0


def frames(evidence_id: int, model: str, n: int) -> list[dict]:
    return [
        {"evidence_id": evidence_id, "model": model, "frame_index": i, "timestamp": i / 25.0, "track_id": 0,
         "box": [12.0, 30.0, 96.0, 96.0], "probabilities": {"fake": 0.25, "real": 0.75},
         "p_manipulated": ((evidence_id * 31 + i * 7) % 100) / 100.0}
        for i in range(n)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evidence", type=int, default=10_000)
    parser.add_argument("--frames", type=int, default=20, help="frame results per evidence item")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "bench.dfwcase")
        with CaseStore.create(path, "Bench", "bench") as store:
            store.bulk_add_evidence_records(
                {"path_given": f"/evidence/clip{i:05d}.mp4", "size": 1000 + i, "sha256": f"{i:064x}",
                 "media_kind": "video", "media_format": "mp4", "media_description": "an MP4/QuickTime video"}
                for i in range(args.evidence)
            )
            ids = [e.id for e in store.list_evidence()]
            run_id = store.start_run([{"name": "vit", "sha256": "0" * 64}], {"frames_per_clip": args.frames}, "CPU", ids)
            batches = [frames(e, "vit", args.frames) for e in ids]
            start = time.perf_counter()
            rows = 0
            for evidence_id, batch in zip(ids, batches):
                rows += store.add_results(run_id, batch, complete=(evidence_id, "vit"))
            insert_s = time.perf_counter() - start
            for e in ids:
                score = ((e * 31) % 100) / 100.0
                label = "likely manipulated" if score >= 0.5 else "no indication"
                store.set_verdict(run_id, e, "vit", score, "mean", {}, 0.5, label)
                store.set_verdict(run_id, e, "ensemble", score, "max", {}, 0.5, label)
            store.finish_run(run_id)
        size_mb = os.path.getsize(path) / 1e6

        timings = {}
        for check in ("full", "quick"):
            start = time.perf_counter()
            with CaseStore.open(path, readonly=True, check=check) as store:
                overview = store.evidence_overview()
            timings[check] = time.perf_counter() - start
            assert len(overview) == args.evidence and all(len(o.verdicts) == 2 for o in overview)
        start = time.perf_counter()
        with CaseStore.open(path) as store:
            overview = store.evidence_overview()
        writable_s = time.perf_counter() - start

    rate = rows / insert_s
    open_ok = timings["full"] < OPEN_LIST_TARGET_S
    rate_ok = rate >= INSERT_TARGET_ROWS_S
    print(f"case: {args.evidence} evidence items, {rows} frame results, {size_mb:.1f} MB")
    print(f"insert results: {rows} rows in {insert_s:.2f} s = {rate:,.0f} rows/s "
          f"(target ≥ {INSERT_TARGET_ROWS_S:,.0f}; {rate / INSERT_TARGET_ROWS_S:.1f}× target) "
          f"{'PASS' if rate_ok else 'FAIL'}")
    print(f"open (integrity_check) + list evidence with verdicts, read-only: {timings['full']:.3f} s "
          f"(target < {OPEN_LIST_TARGET_S:.1f} s; {timings['full'] / OPEN_LIST_TARGET_S:.2f} of budget) "
          f"{'PASS' if open_ok else 'FAIL'}")
    print(f"  same with quick_check: {timings['quick']:.3f} s; open for writing (lock, integrity_check) + list: "
          f"{writable_s:.3f} s")
    return 0 if open_ok and rate_ok else 1


if __name__ == "__main__":
    sys.exit(main())
