"""CaseStore basics: creating, reopening, evidence intake, runs, results, verdicts, notes."""

from __future__ import annotations

import os
import sqlite3
import zlib

import pytest

from engine.case import CaseStore
from engine.errors import CaseError
from engine.util.hashing import sha256_file
from engine.case.schema import SCHEMA_VERSION
from tests.engine.case.conftest import done_items


def test_create_records_case_and_audit(store, case_path):
    info = store.info()
    assert (info.title, info.examiner, info.number, info.organisation) == ("Test case", "Examiner One", "2024-17", "Lab")
    assert info.schema_version == SCHEMA_VERSION == 6
    assert "+" in info.created_at or "-" in info.created_at[19:]  # carries a UTC offset
    entries = store.audit_entries()
    assert [e.action for e in entries] == ["case created"]
    assert entries[0].actor == "tester"
    assert store.verify_audit_chain() == []
    mode = sqlite3.connect(case_path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_create_refuses_existing_path(store, case_path):
    with pytest.raises(CaseError, match="already exists"):
        CaseStore.create(case_path, "Again", "E")


def test_add_evidence_hashes_and_sniffs_without_touching(store, evidence_files):
    path = evidence_files[0]
    before = os.stat(path)
    item = store.add_evidence(path)
    assert item.sha256 == sha256_file(path)
    assert item.size == before.st_size
    assert (item.media_kind, item.media_format) == ("image", "jpeg")
    assert item.mtime_ns == before.st_mtime_ns
    after = os.stat(path)
    assert after.st_mtime_ns == before.st_mtime_ns and after.st_size == before.st_size
    assert store.audit_entries()[-1].action == "evidence added"
    assert store.get_evidence(item.id).sha256 == item.sha256


def test_duplicate_is_reported_not_added(store, evidence_files, tmp_path):
    first = store.add_evidence(evidence_files[1])
    copy = tmp_path / "copy.png"
    copy.write_bytes(open(evidence_files[1], "rb").read())
    again = store.add_evidence(str(copy))
    assert again.duplicate and again.id == first.id
    assert len(store.list_evidence()) == 1
    offered = [e for e in store.audit_entries() if e.action == "duplicate evidence offered"]
    assert [(e.details["evidence_id"], e.details["path"]) for e in offered] == [(first.id, str(copy))]
    store.add_evidence(evidence_files[1])  # the same path again says nothing new
    assert len([e for e in store.audit_entries() if e.action == "duplicate evidence offered"]) == 1


def test_fifo_is_refused_without_opening(store, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    # Opening a FIFO for reading with no writer would block this test forever.
    with pytest.raises(CaseError, match="FIFO"):
        store.add_evidence(str(fifo))
    link = tmp_path / "link-to-pipe"
    link.symlink_to(fifo)
    with pytest.raises(CaseError, match="a link to a FIFO"):
        store.add_evidence(str(link))
    assert store.list_evidence() == []


def test_symlink_records_both_paths(store, evidence_files, tmp_path):
    link = tmp_path / "alias.jpg"
    link.symlink_to(evidence_files[0])
    item = store.add_evidence(str(link))
    assert item.path_given == str(link)
    assert item.path_resolved == os.path.realpath(evidence_files[0])


def test_metadata_round_trip(store, evidence_files):
    item = store.add_evidence(evidence_files[2])
    store.set_evidence_metadata(item.id, {"duration": 12.5, "codec": "h264"})
    assert store.get_evidence(item.id).metadata == {"duration": 12.5, "codec": "h264"}
    with pytest.raises(CaseError, match="no evidence item 999"):
        store.set_evidence_metadata(999, {})


def _frames(evidence_id, model, n, base=0.1):
    return [
        {"evidence_id": evidence_id, "model": model, "frame_index": i, "timestamp": i / 25, "track_id": 0,
         "box": (10, 20, 30, 40), "probabilities": {"fake": base + i / 100, "real": 1 - base - i / 100},
         "p_manipulated": base + i / 100}
        for i in range(n)
    ]


def test_run_results_verdicts_and_overview(store, evidence_files):
    items = [store.add_evidence(p) for p in evidence_files]
    models = [{"name": "vit", "sha256": "ab" * 32, "source": "hf", "label_meaning": {"fake": "manipulated"}},
              {"name": "eff", "sha256": "cd" * 32, "source": "local", "label_meaning": {}}]
    run_id = store.start_run(models, {"frames_per_clip": 8, "rule": "mean"}, "CPUExecutionProvider", [i.id for i in items])
    assert len(store.pending_items(run_id)) == 6
    assert store.add_results(run_id, _frames(items[0].id, "vit", 5), complete=(items[0].id, "vit")) == 5
    store.add_results(run_id, _frames(items[0].id, "eff", 3))
    store.add_results(run_id, [], complete=(items[0].id, "eff"))  # the item's last frames came earlier
    store.record_item_error(run_id, items[1].id, "decode", "cannot decode")
    assert done_items(store, run_id) == {(items[0].id, "vit"), (items[0].id, "eff")}
    assert store.pending_items(run_id) == [(items[2].id, "eff"), (items[2].id, "vit")]
    rows = store.results(run_id, items[0].id, "vit")
    assert [r.frame_index for r in rows] == [0, 1, 2, 3, 4]
    assert rows[1].box == [10.0, 20.0, 30.0, 40.0]
    assert rows[1].probabilities["fake"] == pytest.approx(0.11)
    store.set_verdict(run_id, items[0].id, "vit", 0.12, "mean", {}, 0.5, "no indication", {"frames": 5})
    store.set_verdict(run_id, items[0].id, "ensemble", 0.12, "mean", {}, 0.5, "no indication")
    store.set_verdict(run_id, items[0].id, "vit", 0.8, "max", {}, 0.5, "likely manipulated")  # replaces
    with pytest.raises(CaseError, match="unknown verdict label"):
        store.set_verdict(run_id, items[0].id, "vit", 0.8, "max", {}, 0.5, "fake")
    run = store.finish_run(run_id, "completed")
    assert (run.status, run.items_total, run.items_done, run.items_failed) == ("completed", 6, 2, 2)
    assert run.provider == "CPUExecutionProvider" and run.models[0]["sha256"] == "ab" * 32
    overview = {o.evidence.id: o for o in store.evidence_overview()}
    assert overview[items[0].id].status == "analysed"
    assert [(v.model, v.label, v.rule) for v in overview[items[0].id].verdicts] == [
        ("vit", "likely manipulated", "max"), ("ensemble", "no indication", "mean")]
    assert overview[items[1].id].status == "failed"
    assert overview[items[2].id].status == "pending"
    assert store.item_errors(run_id)[0].message == "cannot decode"
    with pytest.raises(CaseError, match="completed; resume it"):
        store.add_results(run_id, _frames(items[2].id, "vit", 1))


def test_start_run_refuses_unknown_evidence(store):
    with pytest.raises(CaseError, match="no evidence item 42"):
        store.start_run([{"name": "m"}], {}, "CPU", [42])
    assert store.list_runs() == []


def test_overlay_compressed_with_hash(store, evidence_files, case_path):
    item = store.add_evidence(evidence_files[0])
    run_id = store.start_run([{"name": "m"}], {}, "CPU", [item.id])
    payload = b"\x89PNG" + bytes(5000)
    digest = store.add_overlay(run_id, item.id, 3, "m", "attention_rollout", payload, {"alpha": 0.5})
    listed = store.overlays(run_id)
    assert listed[0].sha256 == digest and listed[0].size == 5004 and listed[0].meta == {"alpha": 0.5}
    assert store.get_overlay(listed[0].id) == payload
    stored = sqlite3.connect(case_path).execute("SELECT data FROM overlays").fetchone()[0]
    assert len(stored) < 200 and zlib.decompress(stored) == payload


def test_notes_tags_bookmarks(store, evidence_files):
    item = store.add_evidence(evidence_files[2])  # a video: frames after 0 exist
    assert item.media_kind == "video"
    note = store.add_note(item.id, "lips out of sync", frame_index=12, author="alice")
    store.add_tag(item.id, "priority")
    store.add_bookmark(item.id, 40, "blink")
    found = store.annotations(item.id)
    assert [(a.kind, a.frame_index, a.text) for a in found] == [
        ("tag", None, "priority"), ("note", 12, "lips out of sync"), ("bookmark", 40, "blink")]
    assert found[1].author == "alice"
    store.remove_annotation(note)
    assert [a.kind for a in store.annotations(kind="note")] == []
    actions = [e.action for e in store.audit_entries()]
    assert actions[-4:] == ["note added", "tag added", "bookmark added", "note removed"]
    assert store.audit_entries()[-1].details["text"] == "lips out of sync"
    with pytest.raises(CaseError, match="no evidence item"):
        store.add_note(77, "x")


def test_readonly_open_does_not_write(store, case_path, evidence_files):
    store.add_evidence(evidence_files[0])
    store.close()
    before = sha256_file(case_path)
    with CaseStore.open(case_path, readonly=True) as ro:
        assert len(ro.list_evidence()) == 1
        with pytest.raises(CaseError, match="read-only"):
            ro.add_note(1, "x")
    assert sha256_file(case_path) == before


def test_reopen_keeps_everything(store, case_path, evidence_files):
    item = store.add_evidence(evidence_files[0])
    store.close()
    with CaseStore.open(case_path) as again:
        assert again.get_evidence(item.id).sha256 == item.sha256
        assert again.verify_audit_chain() == []


def test_resume_drops_partial_frames_of_pending_items(store, evidence_files, case_path):
    items = [store.add_evidence(p) for p in evidence_files[:2]]
    run_id = store.start_run([{"name": "m"}], {}, "CPU", [i.id for i in items])
    store.add_results(run_id, _frames(items[0].id, "m", 4), complete=(items[0].id, "m"))
    store.add_results(run_id, _frames(items[1].id, "m", 2))  # half of item 2, then a crash
    store.close()
    with CaseStore.open(case_path) as again:
        assert again.interrupted_runs == [run_id]
        assert again.get_run(run_id).status == "interrupted"
        with pytest.raises(CaseError, match="interrupted; resume it"):
            again.add_results(run_id, _frames(items[1].id, "m", 1))
        assert again.resume_run(run_id) == [(items[1].id, "m")]
        assert again.results(run_id, items[1].id) == []
        assert len(again.results(run_id, items[0].id)) == 4
        again.add_results(run_id, _frames(items[1].id, "m", 3), complete=(items[1].id, "m"))
        assert again.finish_run(run_id).items_done == 2
        assert [e.action for e in again.audit_entries()][-4:] == ["run interrupted", "run resumed", "item stored",
                                                                  "run finished"]


def test_reader_sees_committed_writes_while_writer_is_open(store, case_path, evidence_files):
    with CaseStore.open(case_path, readonly=True) as reader:
        assert reader.list_evidence() == []
        item = store.add_evidence(evidence_files[0])
        assert [e.id for e in reader.list_evidence()] == [item.id]
        assert reader.verify_audit_chain() == []
