"""Opening cases: bad files are refused untouched, old schemas migrate, new ones are refused,
and only one program may write a case at a time."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest
import sqlite_utils

from engine.case import CaseStore
from engine.case import audit
from engine.case.schema import SCHEMA_VERSION, migrate
from engine.errors import CaseError
from engine.util.hashing import sha256_file


def _refused_untouched(path, match, readonly=False):
    before = sha256_file(path)
    with pytest.raises(CaseError, match=match):
        CaseStore.open(path, readonly=readonly)
    assert sha256_file(path) == before


@pytest.mark.parametrize("readonly", [False, True])
def test_zero_byte_file(tmp_path, readonly):
    p = tmp_path / "empty.dfwcase"
    p.write_bytes(b"")
    _refused_untouched(str(p), "is empty", readonly)


def test_non_sqlite_file(tmp_path):
    p = tmp_path / "doc.dfwcase"
    p.write_bytes(b"%PDF-1.7\n" + bytes(500))
    _refused_untouched(str(p), "not a case file: .* is a PDF document")


@pytest.mark.parametrize("readonly", [False, True])
def test_a_damaged_header_that_says_wal_leaves_no_side_files(tmp_path, readonly):
    # Bytes 18 and 19 of an SQLite header say "WAL": SQLite makes -wal and -shm before it finds
    # the rest is not a database. Seen with random bytes after the magic, 1 time in ~300.
    header = bytearray(b"SQLite format 3\x00" + bytes(range(256)) * 12)
    header[18] = header[19] = 2
    p = tmp_path / "broken.dfwcase"
    p.write_bytes(bytes(header))
    _refused_untouched(str(p), "damaged", readonly)
    # (the writer's lock file stays, as it does beside every case opened for writing)
    assert sorted(q.name for q in tmp_path.iterdir() if not q.name.endswith(".lock")) == ["broken.dfwcase"]


def test_missing_file(tmp_path):
    with pytest.raises(CaseError, match="not found"):
        CaseStore.open(str(tmp_path / "nope.dfwcase"))


def test_other_sqlite_database(tmp_path):
    p = str(tmp_path / "other.db")
    conn = sqlite3.connect(p)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    _refused_untouched(p, "another program")


@pytest.mark.parametrize("readonly", [False, True])
def test_truncated_case(store, case_path, evidence_files, readonly):
    for path in evidence_files:
        item = store.add_evidence(path)
        for i in range(50):
            store.add_note(item.id, "x" * 500)
    store.close()
    size = os.path.getsize(case_path)
    with open(case_path, "r+b") as handle:
        handle.truncate(size // 2)
    _refused_untouched(case_path, "damaged", readonly)


def test_corrupt_pages(store, case_path, evidence_files):
    item = store.add_evidence(evidence_files[0])
    for i in range(200):
        store.add_note(item.id, f"note {i} " + "y" * 200)
    store.close()
    with open(case_path, "r+b") as handle:
        # Scribble over the b-tree page headers of a few pages: the kind of damage a bad
        # disk or a half-copied file leaves, which integrity_check must catch.
        for page in range(2, 6):
            handle.seek(4096 * (page - 1))
            handle.write(b"\x77" * 12)
    _refused_untouched(case_path, "damaged")


def _version_one_case(path):
    db = sqlite_utils.Database(sqlite3.connect(path))
    db.execute("PRAGMA journal_mode = WAL")
    assert migrate(db, target=1) == [1]
    with db.atomic():
        for key, value in {"format": "dfwcase", "case_uid": "u-1", "title": "Old", "examiner": "E",
                           "created_at": "2020-01-01T00:00:00+00:00", "app_version": "0.0.1"}.items():
            db.execute("INSERT INTO meta VALUES (?, ?)", [key, value])
        audit.append(db, "old", "case created", {"title": "Old"})
    db.conn.close()


def test_older_schema_migrates_with_backup(tmp_path):
    path = str(tmp_path / "old.dfwcase")
    _version_one_case(path)
    before = sha256_file(path)
    with CaseStore.open(path) as store:
        assert store.migrated_from == 1
        assert store.info().schema_version == SCHEMA_VERSION
        assert [e.action for e in store.audit_entries()] == ["case created", "case migrated"]
        assert store.verify_audit_chain() == []
        store.bulk_add_evidence_records([{"path_given": "/x", "size": 1, "sha256": "0" * 64}])
        store.add_note(store.list_evidence()[0].id, "annotations exist from schema 2 on")
        assert store.annotations()[0].text == "annotations exist from schema 2 on"
    backup = path + ".bak-v1"
    assert os.path.exists(backup)
    with sqlite3.connect(backup) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "1"
        assert conn.execute("SELECT count(*) FROM audit").fetchone()[0] == 1
    assert before != sha256_file(path)


def _version_two_case_with_annotations(path):
    """A case as version 2 left it: one item carrying a note, a tag and two bookmarks, no statuses."""
    db = sqlite_utils.Database(sqlite3.connect(path))
    db.execute("PRAGMA journal_mode = WAL")
    assert migrate(db, target=2) == [1, 2]
    with db.atomic():
        for key, value in {"format": "dfwcase", "case_uid": "u-2", "title": "Two", "examiner": "E",
                           "created_at": "2021-01-01T00:00:00+00:00", "app_version": "0.0.2"}.items():
            db.execute("INSERT INTO meta VALUES (?, ?)", [key, value])
        audit.append(db, "old", "case created", {"title": "Two"})
        db.execute("INSERT INTO evidence (id, path_given, path_resolved, size, sha256, media_kind, added_by, added_at) "
                   "VALUES (1, '/e/clip.mp4', '/e/clip.mp4', 10, ?, 'video', 'old', '2021-01-01T00:00:00+00:00')",
                   ["a" * 64])
        audit.append(db, "old", "evidence added", {"evidence_id": 1, "path": "/e/clip.mp4", "sha256": "a" * 64, "size": 10})
        for kind, frame, text in (("note", 4, "lips late"), ("tag", None, "priority"), ("bookmark", 4, "blink"),
                                  ("bookmark", 9, "")):
            cursor = db.execute("INSERT INTO annotations (evidence_id, frame_index, kind, text, author, created_at) "
                                "VALUES (1, ?, ?, ?, 'old', '2021-01-02T00:00:00+00:00')", [frame, kind, text])
            audit.append(db, "old", f"{kind} added", {"annotation_id": cursor.lastrowid, "evidence_id": 1,
                                                      "frame_index": frame, "text": text})
    db.conn.close()


def test_a_version_two_case_keeps_its_annotations_and_its_bookmarks_become_to_check(tmp_path):
    from engine.case.verify import verify_case

    path = str(tmp_path / "two.dfwcase")
    _version_two_case_with_annotations(path)
    with CaseStore.open(path) as store:
        assert store.migrated_from == 2 and store.info().schema_version == SCHEMA_VERSION == 6
        kept = [(a.kind, a.frame_index, a.text, a.author, a.status) for a in store.annotations()]
        assert kept == [("tag", None, "priority", "old", None), ("note", 4, "lips late", "old", None),
                        ("bookmark", 4, "blink", "old", "check"), ("bookmark", 9, "", "old", "check")]
        assert store.audit_entries()[-1].details["from_schema"] == 2
        assert verify_case(store, record=False).record_problems == ()  # migrated values are the program's own
        marked = store.annotations(kind="bookmark")[0].id
        assert store.update_bookmark(marked, status="ok").status == "ok"
    with sqlite3.connect(path + ".bak-v2") as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "2"
        assert "status" not in [row[1] for row in conn.execute("PRAGMA table_info(annotations)")]
        assert conn.execute("SELECT count(*) FROM annotations").fetchone()[0] == 4


def test_newer_schema_refused_untouched(store, case_path):
    store.close()
    conn = sqlite3.connect(case_path)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    conn.commit()
    conn.close()
    _refused_untouched(case_path, f"schema version {SCHEMA_VERSION + 1}.*newer version")
    _refused_untouched(case_path, "newer version", readonly=True)


def test_second_writer_in_same_process_refused(store, case_path):
    with pytest.raises(CaseError, match="case is open elsewhere"):
        CaseStore.open(case_path)
    with CaseStore.open(case_path, readonly=True) as ro:  # readers are welcome
        assert ro.info().title == "Test case"


def test_second_writer_in_other_process_refused(store, case_path):
    code = (
        "import sys\n"
        "from engine.case import CaseStore\n"
        "from engine.errors import CaseError\n"
        "try:\n    CaseStore.open(sys.argv[1])\nexcept CaseError as e:\n    print(e); sys.exit(3)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, case_path], capture_output=True, text=True, timeout=30,
                          cwd=os.getcwd())
    assert proc.returncode == 3, proc.stderr
    assert "case is open elsewhere" in proc.stdout and f"pid {os.getpid()}" in proc.stdout


def test_lock_released_on_close(store, case_path):
    store.close()
    with CaseStore.open(case_path) as again:
        assert not again.readonly


def test_writer_active_tells_a_live_writer_from_a_dead_one(tmp_path):
    from engine.case.lock import writer_active

    path = str(tmp_path / "live.dfwcase")
    assert writer_active(path) is False  # no lock file at all
    store = CaseStore.create(path, "T", "E")
    assert writer_active(path) is True
    store.close()
    assert writer_active(path) is False
    with CaseStore.open(path, readonly=True):
        assert writer_active(path) is False  # readers take no lock


@pytest.mark.parametrize("edit, message", [
    ("DROP TABLE verdicts", "table verdicts is missing"),
    ("DROP TABLE audit", "table audit is missing"),
    ("DROP TABLE evidence", "table evidence is missing"),
    ("ALTER TABLE results DROP COLUMN p_manipulated", "lacks column"),
    ("UPDATE meta SET value = 'abc' WHERE key = 'schema_version'", "not a whole number"),
    ("UPDATE meta SET value = 'x' WHERE key = 'audit_count'", "audit_count"),
])
@pytest.mark.parametrize("readonly", [True, False])
def test_tables_that_do_not_match_the_schema_are_a_damaged_case(store, case_path, edit, message, readonly):
    store.close()
    with sqlite3.connect(case_path) as conn:
        conn.executescript("PRAGMA foreign_keys = OFF; DROP TRIGGER IF EXISTS audit_no_update; "
                           "DROP TRIGGER IF EXISTS audit_no_delete;")
        conn.execute(edit)
    before = sha256_file(case_path)
    with pytest.raises(CaseError, match=message):
        CaseStore.open(case_path, readonly=readonly)
    assert sha256_file(case_path) == before  # refused before any migration or write
    assert not any(name.startswith(os.path.basename(case_path) + ".bak") for name in os.listdir(os.path.dirname(case_path)))
