"""verify's record checks: evidence rows against the audit log, and stored values of the right kind."""

from __future__ import annotations

import hashlib
import sqlite3

import engine.case.store as store_module
from engine.case import CaseStore
from engine.case.verify import verify_case
from engine.cli import main


def _edit(case_path: str, *statements: str, params=()) -> None:
    with sqlite3.connect(case_path) as conn:
        for statement in statements:
            conn.execute(statement, params)


def _record_problems(case_path: str) -> tuple[str, ...]:
    with CaseStore.open(case_path, readonly=True) as store:
        return verify_case(store, record=False).record_problems


def _with_a_result(store, evidence_id: int) -> None:
    run = store.start_run([{"name": "m"}], {}, "cpu", [evidence_id])
    store.add_results(run, [{"evidence_id": evidence_id, "model": "m", "frame_index": 0, "timestamp": None,
                             "track_id": None, "box": [0, 0, 4, 4], "probabilities": {"real": 0.3, "fake": 0.7},
                             "p_manipulated": 0.7}], complete=(evidence_id, "m"))


def test_a_sound_case_has_no_record_problems(store, case_path, evidence_files):
    ids = [store.add_evidence(p).id for p in evidence_files]
    _with_a_result(store, ids[0])
    store.close()
    assert _record_problems(case_path) == ()


def test_a_file_swapped_together_with_its_recorded_hash_is_caught(store, case_path, evidence_files, tmp_path):
    item = store.add_evidence(evidence_files[0])
    store.close()
    swapped = b"\xff\xd8\xff\xe0 something else entirely"
    with open(evidence_files[0], "wb") as handle:
        handle.write(swapped)
    _edit(case_path, "UPDATE evidence SET sha256 = ?, size = ? WHERE id = ?",
          params=(hashlib.sha256(swapped).hexdigest(), len(swapped), item.id))
    problems = _record_problems(case_path)
    assert any("sha256" in p and "audit log recorded" in p for p in problems)
    assert any("size" in p for p in problems)
    assert main(["verify", case_path]) == 1  # the files alone would have matched


def test_values_of_the_wrong_kind_are_reported(store, case_path, evidence_files):
    item = store.add_evidence(evidence_files[0])
    _with_a_result(store, item.id)
    store.close()
    _edit(case_path, "UPDATE results SET probabilities = 'xx', p_manipulated = 'high'",
          "UPDATE evidence SET path_resolved = 'a' || char(0) || 'b'")
    problems = "\n".join(_record_problems(case_path))
    assert "table results, column probabilities" in problems
    assert "table results, column p_manipulated" in problems
    assert "table evidence, column path_resolved" in problems


def test_words_the_program_never_writes_are_reported_and_still_open(store, case_path, evidence_files, tmp_path):
    from engine.api import RunStatus, Workstation

    item = store.add_evidence(evidence_files[0])
    _with_a_result(store, item.id)
    store.close()
    _edit(case_path, "UPDATE runs SET status = 'paused'", "UPDATE run_items SET status = 'half'")
    problems = "\n".join(_record_problems(case_path))
    assert "table runs, column status" in problems and "table run_items, column status" in problems
    with Workstation(tmp_path / "home").open_case(case_path, readonly=True) as case:
        (run,) = case.overview().runs  # the overview still opens; the odd status reads as failed
        assert run.status == RunStatus.FAILED and run.run.status == "paused"


def test_bookmark_statuses_the_program_never_writes_are_reported(store, case_path, evidence_files):
    item = store.add_evidence(evidence_files[0])
    store.add_note(item.id, "n")
    store.add_bookmark(item.id, 0, "b", "warning")
    store.add_bookmark(item.id, 0, "c")
    store.close()
    assert _record_problems(case_path) == ()
    _edit(case_path, "UPDATE annotations SET status = 'ok' WHERE kind = 'note'")
    # The wrong kind of value, and (from the audit log's replay) a value the log never recorded.
    assert _record_problems(case_path) == ("table annotations, column status: values of the wrong kind (rows 1)",
                                           "note/tag/bookmark 1: status differ(s) from what the audit log recorded")
    _edit(case_path, "UPDATE annotations SET status = NULL WHERE kind = 'note'",
          "UPDATE annotations SET status = 'red' WHERE id = 2", "UPDATE annotations SET status = NULL WHERE id = 3")
    assert _record_problems(case_path)[0] == "table annotations, column status: values of the wrong kind (rows 2, 3)"
    assert len(_record_problems(case_path)) == 3


def test_bulk_added_evidence_is_checked_by_its_logged_digest(store, case_path):
    rows = [{"path_given": f"/e/{i}.jpg", "sha256": f"{i:064x}", "size": 100 + i} for i in range(5)]
    assert store.bulk_add_evidence_records(rows) == 5
    store.close()
    assert _record_problems(case_path) == ()
    _edit(case_path, "UPDATE evidence SET size = 999 WHERE id = 3")
    assert any("evidence 1–5" in p for p in _record_problems(case_path))


def test_verify_of_a_write_protected_case_checks_read_only(store, case_path, evidence_files, monkeypatch, capsys):
    store.add_evidence(evidence_files[0])
    store.close()
    monkeypatch.setattr(store_module.os, "access", lambda path, mode: False)
    code = main(["verify", case_path])
    out = capsys.readouterr().out
    assert code == 0 and "VERIFIED" in out and "write-protected" in out
    assert main(["case", "add", case_path, evidence_files[1]]) == 2


def test_an_unexpected_error_is_one_line_not_a_traceback(store, case_path, evidence_files, capsys):
    item = store.add_evidence(evidence_files[0])
    _with_a_result(store, item.id)
    store.close()
    _edit(case_path, "INSERT INTO verdicts (run_id, evidence_id, model, score, rule, rule_params, threshold, label, "
                     "details, created_at) VALUES (1, ?, 'm', 'high', 'mean', '{}', 0.5, 'x', '{}', 'now')",
          params=(item.id,))
    code = main(["case", "show", case_path])
    err = capsys.readouterr().err
    # A value of the wrong shape is named where it is read: row and field, one line.
    assert code == 2 and err == "error: case file is damaged: verdicts row 1, field score: expected a number, " \
                                "found 'high'\n"


def test_a_bug_is_one_line_that_says_how_to_see_the_traceback(store, case_path, evidence_files, capsys, monkeypatch):
    from engine.api import Case

    store.add_evidence(evidence_files[0])
    store.close()

    def broken(self, *args, **kwargs):
        raise RuntimeError("a bug in the program")

    monkeypatch.setattr(Case, "overview", broken)
    code = main(["case", "show", case_path])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: unexpected") and err.count("\n") == 1
    assert "DFW_DEBUG" in err
