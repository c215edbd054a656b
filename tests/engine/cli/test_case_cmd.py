"""The `case` and `verify` commands, run in-process through the CLI dispatcher."""

from __future__ import annotations

import json
import os

from engine.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_new_add_show_verify_round_trip(tmp_path, capsys, evidence_files):
    case = str(tmp_path / "c.dfwcase")
    code, out, _ = run(capsys, "case", "new", case, "--title", "Fraud", "--examiner", "Ann", "--number", "7", "--json")
    assert code == 0 and json.loads(out)["title"] == "Fraud"

    fifo = tmp_path / "evidence" / "pipe"
    os.mkfifo(fifo)
    code, out, _ = run(capsys, "case", "add", case, str(tmp_path / "evidence"), "--json", "--actor", "ann")
    data = json.loads(out)
    assert code == 1  # the FIFO was refused, the rest added
    assert sorted(a["path"] for a in data["added"]) == sorted(evidence_files)
    assert len(data["refused"]) == 1 and "FIFO" in data["refused"][0]["error"]

    code, out, _ = run(capsys, "case", "add", case, evidence_files[0])
    assert code == 0 and "already in the case" in out

    code, out, _ = run(capsys, "case", "show", case, "--json")
    shown = json.loads(out)
    assert code == 0 and shown["case"]["number"] == "7"
    assert [e["status"] for e in shown["evidence"]] == ["not analysed"] * 3
    code, out, _ = run(capsys, "case", "show", case)
    assert code == 0 and "Fraud" in out and "not analysed" in out

    code, out, _ = run(capsys, "verify", case, "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["recorded"]
    # created + 3 added + their 3 media descriptions; the duplicate is not logged, verification comes after
    assert report["audit"]["rows"] == 7

    with open(evidence_files[1], "r+b") as handle:
        handle.seek(100)
        handle.write(b"TAMPERED")
    code, out, _ = run(capsys, "verify", case)
    assert code == 1
    assert "CHANGED" in out and evidence_files[1] in out and "FAILED: 1 difference" in out


def test_verify_reports_missing_file_and_audit_edit(tmp_path, capsys, evidence_files):
    case = str(tmp_path / "c.dfwcase")
    run(capsys, "case", "new", case, "--title", "T", "--examiner", "E")
    run(capsys, "case", "add", case, *evidence_files)
    os.remove(evidence_files[2])
    import sqlite3

    conn = sqlite3.connect(case)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET actor = 'someone else' WHERE seq = 2")
    conn.commit()
    conn.close()
    code, out, _ = run(capsys, "verify", case, "--json")
    report = json.loads(out)
    assert code == 1 and not report["ok"]
    statuses = {e["evidence_id"]: e["status"] for e in report["evidence"]}
    assert statuses == {1: "ok", 2: "ok", 3: "missing"}
    assert any(p.startswith("row 2: content changed") for p in report["audit"]["problems"])


def test_errors_are_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.dfwcase"
    bad.write_bytes(b"PK\x03\x04 not a case")
    code, _, err = run(capsys, "case", "show", str(bad))
    assert code == 2 and err.strip() == f"error: not a case file: {bad} is a ZIP archive"
    code, _, err = run(capsys, "verify", str(tmp_path / "missing.dfwcase"))
    assert code == 2 and "case file not found" in err


def test_verify_while_open_elsewhere_still_checks(tmp_path, capsys, evidence_files):
    from engine.case import CaseStore

    case = str(tmp_path / "c.dfwcase")
    with CaseStore.create(case, "T", "E") as store:
        store.add_evidence(evidence_files[0])
        code, out, _ = run(capsys, "verify", case, "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and not report["recorded"]
    assert "open for writing elsewhere" in report["notes"][0]


def test_a_case_inside_its_evidence_folder_never_adds_its_own_files(tmp_path, capsys, evidence_files):
    folder = tmp_path / "evidence"
    case = str(folder / "c.dfwcase")
    assert run(capsys, "case", "new", case, "--title", "T", "--examiner", "E")[0] == 0
    (folder / "c.dfwcase.bak-v1").write_bytes(b"an old backup")
    code, out, _ = run(capsys, "case", "add", case, str(folder), "--json")
    data = json.loads(out)
    assert code == 1  # the case's own files refused, the evidence added
    assert sorted(a["path"] for a in data["added"]) == sorted(evidence_files)
    refused = {os.path.basename(p["path"]) for p in data["refused"]}
    assert {"c.dfwcase", "c.dfwcase.lock", "c.dfwcase.bak-v1"} <= refused
    assert all("belongs to this case" in p["error"] for p in data["refused"])
    code, out, _ = run(capsys, "verify", case)
    assert code == 0 and "VERIFIED" in out  # writing the case did not break its evidence


def test_adding_nothing_at_all_exits_2(tmp_path, capsys):
    case = str(tmp_path / "c.dfwcase")
    run(capsys, "case", "new", case, "--title", "T", "--examiner", "E")
    assert run(capsys, "case", "add", case, case)[0] == 2
    assert run(capsys, "case", "add", case, str(tmp_path / "missing.jpg"))[0] == 2


def test_titles_and_names_cannot_forge_lines_or_drive_the_terminal(tmp_path, capsys):
    from engine.cli.output import shown

    assert shown("a\nb\x1b[31mc\tdé😀") == "a\\nb\\x1b[31mc\\tdé😀"
    case = str(tmp_path / "c.dfwcase")
    run(capsys, "case", "new", case, "--title", "T\nVERIFIED: no differences", "--examiner", "E\x1b[2J")
    weird = tmp_path / "new\nline.png"
    weird.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(100))
    run(capsys, "case", "add", case, str(weird))
    code, out, _ = run(capsys, "case", "show", case)
    assert code == 0 and "\x1b" not in out
    assert not any(line.startswith("VERIFIED") for line in out.splitlines())
    assert "new\\nline.png" in out
