"""Case store speed: a case with 10,000 evidence items and 200,000 frame results.

Builds the case in a temporary folder (evidence records go in through the store's bulk path
with made-up hashes; results go through `add_results`, the path the pipeline uses, one item
of 20 frames per transaction, each item sealed in the audit log; verdicts through the
pipeline's own `store_verdicts`), then times opening the case (with its integrity check)
plus listing every item with its status and latest verdicts, and `verify` of the stored
records: every seal recomputed, every p_manipulated and every verdict judged again. The
evidence paths are made up, so verify finds every file missing; that part costs a stat each.
Prints the figures, the ratio to each target, and PASS/FAIL.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from engine.analysis.judgement import store_verdicts  # noqa: E402
from engine.analysis.verdicts import VerdictSettings  # noqa: E402
from engine.case import CaseStore  # noqa: E402
from engine.case.seals import item_seal  # noqa: E402
from engine.case.verify import verify_case  # noqa: E402

OPEN_LIST_TARGET_S = 1.0
INSERT_TARGET_ROWS_S = 5000.0
VERIFY_TARGET_S = 10.0
MODEL = {"name": "vit", "sha256": "0" * 64, "labels": ["fake", "real"], "activation": "softmax",
         "meaning": {"judges": "authenticity", "manipulated_indices": [0]}}


def frames(evidence_id: int, model: str, n: int) -> list[dict]:
    rows = []
    for i in range(n):
        p = ((evidence_id * 31 + i * 7) % 100) / 100.0
        rows.append({"evidence_id": evidence_id, "model": model, "frame_index": i, "timestamp": i / 25.0,
                     "track_id": 0, "box": [12.0, 30.0, 96.0, 96.0], "probabilities": {"fake": p, "real": 1.0 - p},
                     "p_manipulated": p})
    return rows


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
            settings = VerdictSettings()
            run_id = store.start_run([MODEL], {"frames_per_clip": args.frames, "verdict": settings.to_dict()}, "CPU",
                                     ids)
            batches = [frames(e, "vit", args.frames) for e in ids]
            start = time.perf_counter()
            rows = 0
            for evidence_id, batch in zip(ids, batches):
                rows += store.add_results(run_id, batch, complete=(evidence_id, "vit"))
            insert_s = time.perf_counter() - start
            start = time.perf_counter()
            for e in ids:  # what the seals alone cost: the digest of each item, computed again
                item_seal(store._connection(), run_id, e, "vit")
            seal_s = time.perf_counter() - start
            start = time.perf_counter()
            for e in ids:
                store_verdicts(store, run_id, e, {"vit": "authenticity"}, settings, {})
            verdicts_s = time.perf_counter() - start
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
        with CaseStore.open(path, readonly=True) as store:
            start = time.perf_counter()
            report = verify_case(store, record=False)
            verify_s = time.perf_counter() - start
        assert report.record_problems == () and report.audit_problems == (), report.problems[:5]
        assert all(check.status == "missing" for check in report.evidence)

    rate = rows / insert_s
    open_ok = timings["full"] < OPEN_LIST_TARGET_S
    rate_ok = rate >= INSERT_TARGET_ROWS_S
    verify_ok = verify_s <= VERIFY_TARGET_S
    print(f"case: {args.evidence} evidence items, {rows} frame results, {size_mb:.1f} MB")
    print(f"insert results: {rows} rows in {insert_s:.2f} s = {rate:,.0f} rows/s "
          f"(target ≥ {INSERT_TARGET_ROWS_S:,.0f}; {rate / INSERT_TARGET_ROWS_S:.1f}× target) "
          f"{'PASS' if rate_ok else 'FAIL'}")
    print(f"  of which sealing: {seal_s:.2f} s to digest every item again ({seal_s / insert_s:.0%} of the insert "
          f"time, {1e6 * seal_s / len(ids):.0f} µs per item); verdicts stored and sealed: {verdicts_s:.2f} s")
    print(f"verify records (seals, p_manipulated, {2 * len(ids):,} verdicts judged again, audit chain of "
          f"{report.audit_rows:,} entries): {verify_s:.2f} s (target ≤ {VERIFY_TARGET_S:.0f} s; "
          f"{verify_s / VERIFY_TARGET_S:.2f} of budget) {'PASS' if verify_ok else 'FAIL'}")
    print(f"open (integrity_check) + list evidence with verdicts, read-only: {timings['full']:.3f} s "
          f"(target < {OPEN_LIST_TARGET_S:.1f} s; {timings['full'] / OPEN_LIST_TARGET_S:.2f} of budget) "
          f"{'PASS' if open_ok else 'FAIL'}")
    print(f"  same with quick_check: {timings['quick']:.3f} s; open for writing (lock, integrity_check) + list: "
          f"{writable_s:.3f} s")
    return 0 if open_ok and rate_ok and verify_ok else 1


if __name__ == "__main__":
    sys.exit(main())
