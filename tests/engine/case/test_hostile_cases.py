"""A case edited by an attacker with `sqlite3`: each attack is built against a real case made
by the real pipeline, and each must end refused or reported, never in a clean verify, never in
a traceback. Resource bombs run in a child process under an address-space limit."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import zlib

import pytest

from engine.analysis.job import AnalysisJob
from engine.api import Workstation
from engine.case import CaseStore
from engine.case.intake import add_and_describe
from engine.case.verify import verify_case
from engine.errors import CaseError, CaseForeign, CaseNotWritable
from tests.engine.conftest import IMAGES, MODELS, ROOT, analyze, run_main

VIT = str(MODELS / "vit_optimum")
TIMM = str(MODELS / "timm_vit")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """A case with two images analysed by two models, a note and a bookmark: built once."""
    folder = tmp_path_factory.mktemp("hostile")
    evidence = folder / "evidence"
    evidence.mkdir()
    first = evidence / "a.jpg"
    shutil.copy(IMAGES / "rgb_640x480.jpg", first)
    second = evidence / "c.jpg"
    second.write_bytes(first.read_bytes() + b"\0")  # another file, the same picture
    paths = [first, second]
    case_path = str(folder / "case.dfwcase")
    with CaseStore.create(case_path, "Hostile", "Examiner") as store:
        ids = [add_and_describe(store, p).id for p in paths]  # as `case add` does: described, provenance found
        store.add_note(ids[0], "a note")
        store.add_bookmark(ids[0], 0, "look here", "warning")
    job = AnalysisJob(models=(VIT, TIMM), provider="cpu", allow_test_fixtures=True, explain=True,
                      occlusion_top_k=1)
    list(analyze(case_path, job, home=str(folder / "home")))
    return {"case": case_path, "ids": ids, "home": str(folder / "home"), "evidence": [str(p) for p in paths]}


@pytest.fixture
def case(pristine, tmp_path):
    path = str(tmp_path / "copy.dfwcase")
    shutil.copy(pristine["case"], path)
    return path


def edit(path, *statements):
    """What an attacker who knows the scheme does: the audit log's protection lifted for the
    edit and put back after, so the schema looks untouched."""
    conn = sqlite3.connect(path)
    kept = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'audit_no_%'").fetchall()
    conn.execute("DROP TRIGGER IF EXISTS audit_no_update")
    conn.execute("DROP TRIGGER IF EXISTS audit_no_delete")
    for statement in statements:
        conn.execute(*statement) if isinstance(statement, tuple) else conn.execute(statement)
    for (sql,) in kept:
        conn.execute(sql)
    conn.commit()
    conn.close()


def verified(path):
    with CaseStore.open(path, readonly=True) as store:
        return verify_case(store, record=False)


def test_the_pristine_case_verifies(case):
    report = verified(case)
    assert report.ok, report.problems
    assert report.record_problems == () and report.foreign == ()


# ----- 1. foreign schema objects ------------------------------------------------------------
SCORE_TRIGGER = ("CREATE TRIGGER zero_scores AFTER INSERT ON results BEGIN "
                 "UPDATE results SET p_manipulated = 0 WHERE id = new.id; END")
AUDIT_TRIGGER = ("CREATE TRIGGER relabel AFTER INSERT ON audit BEGIN "
                 "UPDATE verdicts SET label = 'no indication'; END")


def test_a_planted_trigger_makes_the_case_read_only_and_never_runs(case, pristine):
    edit(case, SCORE_TRIGGER)
    with pytest.raises(CaseForeign, match="trigger zero_scores on table results is not part of this program"):
        CaseStore.open(case)
    with Workstation(pristine["home"]).open_case(case) as opened:  # the window and the CLI fall back to read-only
        assert opened.readonly and "did not write" in (opened.readonly_reason or "")
    result = run_main("analyze", case, "--model", VIT, "--allow-test-fixture", home=pristine["home"])
    assert result.returncode != 0 and "case repair" in result.stderr and "Traceback" not in result.stderr
    with sqlite3.connect(case) as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1  # nothing was started
    report = verified(case)
    assert not report.ok and any("zero_scores" in p for p in report.problems)


def test_verify_of_a_case_with_an_audit_trigger_writes_nothing_and_reports_it(case, pristine):
    edit(case, AUDIT_TRIGGER)
    with sqlite3.connect(case) as conn:
        labels = conn.execute("SELECT label FROM verdicts ORDER BY id").fetchall()
    result = run_main("verify", case, home=pristine["home"])
    assert result.returncode != 0 and "relabel" in result.stdout and "VERIFIED" not in result.stdout
    with sqlite3.connect(case) as conn:
        assert conn.execute("SELECT label FROM verdicts ORDER BY id").fetchall() == labels  # the trigger never fired


@pytest.mark.parametrize("statement, named", [
    ("CREATE VIEW shadow AS SELECT * FROM verdicts", "view shadow"),
    ("ALTER TABLE results ADD COLUMN hidden TEXT", "table results differs"),
    ("CREATE INDEX spy ON results (p_manipulated)", "index spy on table results"),
    ("CREATE TABLE notes_of_mallory (x)", "table notes_of_mallory"),
    ("CREATE TRIGGER refuse BEFORE INSERT ON annotations BEGIN SELECT RAISE(ABORT, 'no'); END", "trigger refuse"),
    ("PRAGMA application_id = 1234", "application id is 0x4d2"),
    ("PRAGMA user_version = 99", "user version is 99"),
])
def test_every_kind_of_foreign_object_is_named(case, statement, named):
    edit(case, statement)
    with pytest.raises(CaseForeign, match=named):
        CaseStore.open(case)
    report = verified(case)
    assert not report.ok and any(named in p for p in report.foreign)


def test_a_view_standing_where_a_table_was_is_refused(case):
    edit(case, "ALTER TABLE verdicts RENAME TO verdicts_real",
         "CREATE VIEW verdicts AS SELECT * FROM verdicts_real WHERE 0")
    for readonly in (True, False):
        with pytest.raises(CaseError, match="table verdicts is missing"):
            CaseStore.open(case, readonly=readonly)


def test_repair_copies_only_what_the_program_wrote(case, tmp_path, pristine):
    edit(case, SCORE_TRIGGER, "ALTER TABLE results ADD COLUMN hidden TEXT", "CREATE TABLE extra (x)",
         "INSERT INTO extra VALUES (1)", "INSERT INTO meta VALUES ('planted', 'x')")
    before = open(case, "rb").read()
    out = str(tmp_path / "clean.dfwcase")
    result = run_main("case", "repair", case, out, home=pristine["home"])
    assert result.returncode == 0, result.stderr
    assert "zero_scores" in result.stdout and "1 row(s) of foreign table extra" in result.stdout
    assert open(case, "rb").read() == before  # the source is only read
    with CaseStore.open(out) as store:  # writable again
        assert store.foreign == ()
        entry = store.audit_entries()[-1]
        assert entry.action == "case repaired" and any("zero_scores" in d for d in entry.details["dropped"])
        report = verify_case(store, record=False)
        assert report.ok, report.problems  # nothing had fired yet: every record is intact
    with CaseStore.open(pristine["case"], readonly=True) as original, CaseStore.open(out, readonly=True) as copy:
        assert [r.p_manipulated for r in copy.results(1)] == [r.p_manipulated for r in original.results(1)]
    assert run_main("case", "repair", case, out, home=pristine["home"]).returncode != 0  # never over a file


# ----- 2. every record under the chain ----------------------------------------------------
@pytest.mark.parametrize("statement, expected", [
    ("UPDATE verdicts SET score = 0.01, label = 'no indication' WHERE model = 'ensemble'",
     ["the verdicts differ from what the audit log sealed", "stored 'no indication'"]),
    ("UPDATE results SET p_manipulated = 0.001 WHERE id = 1", ["results differ", "but its probabilities give"]),
    ("UPDATE results SET probabilities = json_set(probabilities, '$.FAKE', 0.5) WHERE id = 2",
     ["results differ"]),
    ("DELETE FROM results WHERE id = 3", ["sealed results row(s) are gone", "but the stored results give"]),
    ("UPDATE runs SET settings = json_set(settings, '$.verdict.threshold', 0.99)", ["run 1: its record"]),
    ("UPDATE runs SET status = 'cancelled'", ["status is 'cancelled'"]),
    ("UPDATE run_items SET status = 'pending' WHERE rowid = 1", ["marked pending but the audit log sealed it"]),
    ("UPDATE annotations SET text = 'nothing to see' WHERE kind = 'note'", ["text differ"]),
    ("DELETE FROM annotations WHERE kind = 'bookmark'", ["is gone, but the audit log never recorded"]),
    ("INSERT INTO track_exclusions (run_id, evidence_id, track_id, reason, author, created_at) "
     "VALUES (1, 1, 0, 'x', 'm', 'now')", ["excluded, but the audit log does not say so"]),
    ("UPDATE overlays SET meta = json_set(meta, '$.method_note', 'x')", ["overlays differ"]),
    ("UPDATE evidence SET metadata = json_set(metadata, '$.provenance', json('{}')) WHERE id = 1",
     ["evidence 1: its metadata (description, provenance findings) differs"]),
    ("UPDATE meta SET value = '5' WHERE key = 'schema_version'",
     ["user version is 6, but the case says schema version 5", "audit log last recorded version 6",
      "table kept_maps is not part of this program's schema (version 5)"]),
])
def test_an_edited_record_is_named_by_verify(case, statement, expected):
    edit(case, statement)
    report = verified(case)
    assert not report.ok
    text = "\n".join(report.problems)
    for phrase in expected:
        assert phrase in text, text


def test_an_overlay_that_does_not_match_its_hash_is_named(case):
    edit(case, ("UPDATE overlays SET data = ?, size = 11 WHERE id = 1", [zlib.compress(b"other bytes")]))
    report = verified(case)
    assert not report.ok and any("overlay 1 does not match its recorded SHA-256" in p for p in report.problems)


def test_verify_says_what_the_chain_can_and_cannot_prove(case, pristine):
    result = run_main("verify", case, home=pristine["home"])
    assert result.returncode == 0, result.stdout
    assert "cannot prove who wrote the file" in result.stdout and "head hash to compare:" in result.stdout


# ----- 3. evidence rows ----------------------------------------------------------------------
def test_a_swapped_evidence_row_is_suspect_even_when_its_file_matches(case, tmp_path):
    from engine.util.hashing import sha256_file

    doctored = tmp_path / "doctored.jpg"
    doctored.write_bytes((IMAGES / "rgb_640x480.jpg").read_bytes() + b"doctored")
    edit(case, ("UPDATE evidence SET sha256 = ?, size = ?, path_given = ?, path_resolved = ? WHERE id = 1",
                [sha256_file(doctored), doctored.stat().st_size, str(doctored), str(doctored)]))
    report = verified(case)
    assert report.evidence[0].ok  # the file matches the row...
    assert not report.ok and report.suspect_evidence == (1,)  # ...but the row is not what was added


# ----- 4. one writer, whatever the name --------------------------------------------------------
@pytest.mark.skipif(os.name == "nt", reason="links are a POSIX matter here; Windows has the sidecar only")
@pytest.mark.parametrize("link", [os.symlink, os.link])
def test_a_second_writer_through_a_link_is_refused(case, tmp_path, link):
    other = str(tmp_path / "other name.dfwcase")
    link(case, other)
    with CaseStore.open(case):
        with pytest.raises(CaseNotWritable, match="open elsewhere"):
            CaseStore.open(other)
    with CaseStore.open(other):  # and the other way round
        with pytest.raises(CaseNotWritable, match="open elsewhere"):
            CaseStore.open(case)


def _wal_of_another_case(folder, evidence) -> str:
    """The -wal file of another case, taken while that case was open: its last pages."""
    other = str(folder / "other.dfwcase")
    store = CaseStore.create(other, "Other", "Someone")
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.add_evidence(evidence)
    store.add_note(1, "from the other case")
    shutil.copy(other + "-wal", str(folder / "taken-wal"))
    store.close()
    return str(folder / "taken-wal")


def test_a_write_ahead_log_from_another_case_is_not_taken_for_this_one(tmp_path, pristine):
    # A case laid out like the other one: the other's pages fit, and SQLite alone would read it as the other case.
    case = str(tmp_path / "small.dfwcase")
    with CaseStore.create(case, "This case", "Me") as store:
        store.add_evidence(pristine["evidence"][0])
        store.add_note(1, "this case's note")
    shutil.copy(_wal_of_another_case(tmp_path, pristine["evidence"][1]), case + "-wal")
    before = open(case, "rb").read()
    for readonly in (True, False):
        with pytest.raises(CaseError, match="write-ahead log .* belongs to another case"):
            CaseStore.open(case, readonly=readonly)
    assert open(case, "rb").read() == before  # refused before SQLite could fold the pages in
    os.remove(case + "-wal")
    assert verified(case).ok  # moved away, the case is itself again


def test_a_foreign_write_ahead_log_beside_a_larger_case_is_refused_too(case, tmp_path, pristine):
    shutil.copy(_wal_of_another_case(tmp_path, pristine["evidence"][1]), case + "-wal")
    with pytest.raises(CaseError, match="belongs to another case|damaged"):
        CaseStore.open(case, readonly=True)


def test_a_live_write_ahead_log_of_the_case_itself_is_read(case, pristine):
    with CaseStore.open(case) as writer:
        writer.add_note(1, "written while a reader opens")
        assert os.path.exists(case + "-wal")
        with CaseStore.open(case, readonly=True) as reader:
            assert any(a.text == "written while a reader opens" for a in reader.annotations())


# ----- 8. resource bombs, under a memory limit -------------------------------------------------
BOMB_LIMIT = 2 * 1024 ** 3  # address space for the verifying child; the case file alone is tiny


def _verify_in_child(path) -> subprocess.CompletedProcess:
    script = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, ({BOMB_LIMIT}, {BOMB_LIMIT}))
        sys.path.insert(0, {str(ROOT)!r})
        from engine.case import CaseStore
        from engine.case.verify import verify_case
        with CaseStore.open({path!r}, readonly=True) as store:
            report = verify_case(store, record=False)
        print("OK" if report.ok else "FAILED")
        for p in report.problems:
            print(p)
    """)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS bounds memory reliably on Linux")
@pytest.mark.parametrize("statements, expected", [
    (["UPDATE meta SET value = '1000000000000' WHERE key = 'audit_count'"], "were cut off the end"),
    (["UPDATE audit SET seq = 1000000000000 WHERE id = (SELECT max(id) FROM audit)"], "missing"),
    ([("UPDATE overlays SET data = zeroblob(40 * 1024 * 1024) WHERE id = 1",)], "more than any overlay"),
    ([("UPDATE overlays SET data = ?, size = 1000 WHERE id = 1",
       [zlib.compress(b"\0" * (300 * 1024 * 1024), 9)])], "inflates past its recorded size"),
    ([("UPDATE overlays SET data = ?, size = 100000000000 WHERE id = 1", [zlib.compress(b"\0" * 1000)])],
     "declares 100,000,000,000 bytes"),
])
def test_resource_bombs_are_reported_within_bounded_memory(case, statements, expected):
    edit(case, *statements)
    result = _verify_in_child(case)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("FAILED") and expected in result.stdout, result.stdout[-2000:]


# ----- 9. JSON of the wrong shape --------------------------------------------------------------
@pytest.mark.parametrize("statement, field", [
    ("UPDATE runs SET models = '{\"name\": \"x\"}'", "runs row 1, field models"),
    ("UPDATE results SET probabilities = '[0.1, 0.9]' WHERE id = 1", "results row 1, field probabilities"),
    ("UPDATE results SET box = '[1, 2]' WHERE id = 1", "results row 1, field box"),
    ("UPDATE verdicts SET details = '\"text\"' WHERE id = 1", "verdicts row 1, field details"),
])
def test_json_of_the_wrong_shape_is_named_not_a_traceback(case, pristine, statement, field):
    edit(case, statement)
    report = verified(case)
    table, column = field.split(" row ")[0], field.rsplit("field ", 1)[1]
    assert not report.ok and any(f"table {table}, column {column}: values of the wrong kind" in p
                                 for p in report.problems), report.problems
    for args in (("case", "show", case, "--json"), ("report", case, "-o", case + ".html", "--format", "html")):
        result = run_main(*args, home=pristine["home"])
        assert "Traceback" not in result.stderr and "a bug" not in result.stderr, result.stderr
        if result.returncode != 0 and "report" not in args:
            assert field in result.stderr


def test_settings_of_the_wrong_kind_are_named(case):
    edit(case, "UPDATE runs SET settings = json_set(settings, '$.frames_per_clip', 'lots')")
    report = verified(case)
    assert not report.ok  # the run's record no longer matches its seal
    assert any("run 1: its record" in p for p in report.problems)


def test_nothing_in_the_pristine_copy_changed_by_these_reads(pristine):
    assert verified(pristine["case"]).ok
    assert json.loads(run_main("case", "show", pristine["case"], "--json", home=pristine["home"]).stdout)["case"]
