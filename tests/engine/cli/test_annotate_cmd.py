"""`case note|tag|bookmark|edit-bookmark|unannotate|annotations`, run in-process through the CLI dispatcher."""

from __future__ import annotations

import json

import pytest

from engine.case import CaseStore
from engine.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def case(tmp_path, capsys, evidence_files):
    """A case holding an image (item 1), a PNG (item 2) and a video (item 3)."""
    path = str(tmp_path / "c.dfwcase")
    assert run(capsys, "case", "new", path, "--title", "T", "--examiner", "E")[0] == 0
    assert run(capsys, "case", "add", path, *evidence_files)[0] == 0
    return path


def test_note_tag_bookmark_edit_list_and_remove(case, capsys):
    code, out, _ = run(capsys, "case", "note", case, "3", "--frame", "7", "audio leads the lips", "--actor", "ann",
                       "--json")
    note = json.loads(out)
    assert code == 0 and (note["kind"], note["frame_index"], note["author"], note["status"]) == ("note", 7, "ann", None)
    code, out, _ = run(capsys, "case", "tag", case, "1", "priority")
    assert code == 0 and out.startswith("added tag 2 on evidence 1: priority")
    # Options before the optional comment: the order analysts type and the README shows.
    code, out, _ = run(capsys, "case", "bookmark", case, "3", "--frame", "12", "--status", "warning", "jaw wobbles",
                       "--json")
    mark = json.loads(out)
    assert code == 0 and (mark["frame_index"], mark["status"], mark["text"]) == (12, "warning", "jaw wobbles")
    code, out, _ = run(capsys, "case", "bookmark", case, "1")
    assert code == 0 and out.strip() == "added bookmark 4 on evidence 1, frame 0 (ok)"

    code, out, _ = run(capsys, "case", "edit-bookmark", case, str(mark["id"]), "--status", "check", "--comment", "",
                       "--actor", "bob")
    assert code == 0 and out.strip() == f"now bookmark {mark['id']} on evidence 3, frame 12 (check)"

    code, out, _ = run(capsys, "case", "annotations", case, "--json")
    listed = json.loads(out)["annotations"]
    assert [(a["id"], a["kind"], a["status"]) for a in listed] == [
        (2, "tag", None), (4, "bookmark", "ok"), (1, "note", None), (3, "bookmark", "check")]
    code, out, _ = run(capsys, "case", "annotations", case, "--evidence", "3", "--kind", "bookmark")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2 and lines[0].split() == [
        "id", "evidence", "frame", "kind", "status", "author", "time", "text"]
    assert lines[1].split()[:5] == ["3", "3", "12", "bookmark", "check"]

    code, out, _ = run(capsys, "case", "unannotate", case, "1", "--json")
    assert code == 0 and json.loads(out)["text"] == "audio leads the lips"
    with CaseStore.open(case, readonly=True) as store:
        entries = [(e.action, e.actor) for e in store.audit_entries()][-6:]
    assert [action for action, _ in entries] == ["note added", "tag added", "bookmark added", "bookmark added",
                                                 "bookmark changed", "note removed"]
    assert entries[0][1] == "ann" and entries[4][1] == "bob"


def test_texts_from_the_case_cannot_drive_the_terminal(case, capsys):
    hostile = "ok\n2  1  -  tag  forged\x1b[2J"
    assert run(capsys, "case", "note", case, "1", hostile)[0] == 0
    code, out, _ = run(capsys, "case", "annotations", case)
    assert code == 0 and "\x1b" not in out and len(out.splitlines()) == 2
    assert "ok\\n2  1  -  tag  forged\\x1b[2J" in out


@pytest.mark.parametrize("argv, message", [
    (("bookmark", "{case}", "1", "--frame", "3"), "frame 3 does not exist: only a video has frames after 0"),
    (("bookmark", "{case}", "3", "--frame", "-2"), "frame index -2 is negative"),
    (("note", "{case}", "9", "x"), "no evidence item 9 in this case"),
    (("note", "{case}", "1", " "), "a note needs some text"),
    (("edit-bookmark", "{case}", "1", "--status", "ok"), "no note, tag or bookmark 1 in this case"),
    (("edit-bookmark", "{case}", "1"), "nothing to change"),
    (("unannotate", "{case}", "5"), "no note, tag or bookmark 5"),
    (("annotations", "{case}", "--evidence", "8"), "no evidence item 8"),
])
def test_refusals_are_one_line_and_exit_2(case, capsys, argv, message):
    code, out, err = run(capsys, "case", *(a.format(case=case) for a in argv))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err


def test_a_status_outside_the_vocabulary_is_a_usage_error(case, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["case", "bookmark", case, "1", "--status", "red"])
    assert exit_info.value.code == 2 and "invalid choice: 'red'" in capsys.readouterr().err


def test_a_case_held_by_another_writer_is_not_annotated(case, capsys):
    with CaseStore.open(case):  # holds the writer lock
        code, _, err = run(capsys, "case", "bookmark", case, "1", "x")
    assert code == 2 and "case is open elsewhere" in err and err.count("\n") == 1
    with CaseStore.open(case, readonly=True) as store:
        assert store.annotations() == []
