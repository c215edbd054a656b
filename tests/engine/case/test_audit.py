"""The audit chain: every kind of tampering with the log is detected and named precisely."""

from __future__ import annotations

import sqlite3

import pytest

from engine.case import CaseStore, verify_case
from engine.case.audit import row_hash


@pytest.fixture
def logged_case(store, evidence_files, case_path):
    """A case with 8 audit rows, closed so the test can tamper with the file."""
    item = store.add_evidence(evidence_files[0])
    for i in range(6):
        store.add_note(item.id, f"note {i}")
    assert store.info().audit_count == 8
    store.close()
    return case_path


def tamper(path, *statements, restore_protection=True):
    """Edit the file as someone who knows the scheme would: lift the audit log's write
    protection, make the edits, and (unless told not to) put the protection back as it was."""
    conn = sqlite3.connect(path)
    kept = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("DROP TRIGGER audit_no_delete")
    for sql in statements:
        if isinstance(sql, tuple):
            conn.execute(*sql)
        else:
            conn.execute(sql)
    if restore_protection:
        for sql in kept.values():
            conn.execute(sql)
    conn.commit()
    conn.close()


def problems(path):
    with CaseStore.open(path, readonly=True) as ro:
        report = verify_case(ro)
    assert not report.ok
    return report.audit_problems


def rows(path):
    conn = sqlite3.connect(path)
    out = conn.execute("SELECT id, seq, time, actor, action, details, prev_hash, row_hash FROM audit ORDER BY id").fetchall()
    conn.close()
    return out


def test_untouched_log_verifies(logged_case):
    with CaseStore.open(logged_case, readonly=True) as ro:
        report = verify_case(ro)
    assert report.ok and report.audit_problems == () and report.audit_rows == 8


def test_program_cannot_edit_the_log(logged_case):
    conn = sqlite3.connect(logged_case)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE audit SET actor = 'x' WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM audit WHERE seq = 1")
    conn.close()


def test_edited_row(logged_case):
    tamper(logged_case, "UPDATE audit SET details = '{\"text\":\"forged\"}' WHERE seq = 4", restore_protection=False)
    found = problems(logged_case)
    assert any(p.startswith("row 4: content changed") for p in found)
    assert any("write protection was removed" in p for p in found)


def test_edited_row_with_recomputed_hash(logged_case):
    _, seq, time, actor, action, _, prev, _ = rows(logged_case)[3]
    forged = row_hash(seq, time, "mallory", action, "{}", prev)
    tamper(logged_case, ("UPDATE audit SET actor = 'mallory', details = '{}', row_hash = ? WHERE seq = 4", [forged]))
    found = problems(logged_case)
    assert any(p.startswith("row 5: does not follow row 4") for p in found)
    assert not any("content changed" in p for p in found)


def test_deleted_row(logged_case):
    tamper(logged_case, "DELETE FROM audit WHERE seq = 3")
    assert any(p == "row 3 missing" for p in problems(logged_case))


def test_inserted_duplicate_row(logged_case):
    _, seq, time, actor, action, details, prev, digest = rows(logged_case)[2]
    tamper(
        logged_case,
        ("INSERT INTO audit (seq, time, actor, action, details, prev_hash, row_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
         [seq, time, "mallory", "note added", "{}", prev, row_hash(seq, time, "mallory", "note added", "{}", prev)]),
    )
    assert any(p.startswith("row 3 appears more than once") for p in problems(logged_case))


def test_inserted_row_with_renumbering(logged_case):
    # Shift rows 4.. up by one and slip a well-formed row 4 in between.
    original = rows(logged_case)
    row3_hash = original[2][7]
    statements = ["UPDATE audit SET seq = seq + 1 WHERE seq >= 4"]
    statements.append(
        ("INSERT INTO audit (seq, time, actor, action, details, prev_hash, row_hash) VALUES (4, 't', 'm', 'x', '{}', ?, ?)",
         [row3_hash, row_hash(4, "t", "m", "x", "{}", row3_hash)]))
    tamper(logged_case, *statements)
    found = problems(logged_case)
    assert any(p.startswith("row 5: content changed") for p in found)
    assert any("lie beyond the recorded end" in p for p in found)


def test_appended_row_chained_correctly(logged_case):
    last = rows(logged_case)[-1]
    head = last[7]
    tamper(
        logged_case,
        ("INSERT INTO audit (seq, time, actor, action, details, prev_hash, row_hash) VALUES (9, 't', 'm', 'x', '{}', ?, ?)",
         [head, row_hash(9, "t", "m", "x", "{}", head)]),
        restore_protection=False,
    )
    found = problems(logged_case)
    assert found == ("rows 9 lie beyond the recorded end of the log (the case records 8 rows): rows were appended from outside the program",
                     "the audit log's write protection was removed (audit_no_update, audit_no_delete)")


def test_swapped_rows(logged_case):
    r = rows(logged_case)
    a, b = r[3], r[4]
    cols = "seq = ?, time = ?, actor = ?, action = ?, details = ?, prev_hash = ?, row_hash = ?"
    tamper(logged_case, (f"UPDATE audit SET {cols} WHERE id = ?", [*b[1:], a[0]]), (f"UPDATE audit SET {cols} WHERE id = ?", [*a[1:], b[0]]))
    found = problems(logged_case)
    assert any(p.startswith("rows out of order at 5: row 4 is stored after row 5") for p in found)


def test_truncated_tail(logged_case):
    tamper(logged_case, "DELETE FROM audit WHERE seq > 6")
    found = problems(logged_case)
    assert any(p.startswith("chain ends at row 6 but the case records 8 rows: rows 7–8 were cut off") for p in found)


def test_actions_after_truncation_keep_the_gap(logged_case):
    tamper(logged_case, "DELETE FROM audit WHERE seq > 6")
    with CaseStore.open(logged_case) as rw:
        rw.add_note(1, "after the cut")
        found = rw.verify_audit_chain()
    assert "rows 7–8 missing" in found


def test_rewritten_last_row_detected_by_anchor(logged_case):
    _, seq, time, actor, action, details, prev, _ = rows(logged_case)[-1]
    tamper(logged_case, ("UPDATE audit SET actor = 'm', row_hash = ? WHERE seq = 8", [row_hash(seq, time, "m", action, details, prev)]))
    found = problems(logged_case)
    assert any("differs from the recorded head" in p for p in found)
