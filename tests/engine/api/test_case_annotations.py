"""engine.api.Case: notes, tags and bookmarks through the one door, each in the audit log."""

from __future__ import annotations

import pytest

from engine.api import BookmarkStatus, Workstation
from engine.case import CaseStore
from engine.errors import CaseError, CaseNotWritable


@pytest.fixture
def case_with_items(tmp_path, evidence_files):
    workstation = Workstation(tmp_path / "home")
    with workstation.create_case(tmp_path / "a.dfwcase", title="A", examiner="Ann", actor="ann") as case:
        ids = [a.evidence.id for a in case.add_evidence(evidence_files).added]
        yield case, ids


def test_bookmarks_with_status_and_comment_and_their_changes(case_with_items):
    case, (image, _, video) = case_with_items
    first = case.add_bookmark(video, 30, "teeth smear")
    second = case.add_bookmark(image, 0, status=BookmarkStatus.WARNING)
    assert case.annotation(first).status == BookmarkStatus.OK and case.annotation(first).text == "teeth smear"
    assert case.annotation(second).status == "warning" and case.annotation(second).text == ""
    changed = case.update_bookmark(first, status="check", text="teeth smear, twice")
    assert (changed.status, changed.text, changed.frame_index) == ("check", "teeth smear, twice", 30)
    assert [a.id for a in case.annotations(kind="bookmark")] == [second, first]  # by evidence, then frame
    with CaseStore.open(case.path, readonly=True) as reader:
        entry = [e for e in reader.audit_entries() if e.action == "bookmark changed"][-1]
    assert entry.actor == "ann"
    assert entry.details["before"] == {"status": "ok", "text": "teeth smear"}
    assert entry.details["after"] == {"status": "check", "text": "teeth smear, twice"}
    with pytest.raises(CaseError, match="only a video has frames after 0"):
        case.add_bookmark(image, 2)


def test_tags_reach_the_evidence_table_rows(case_with_items):
    case, (image, png, video) = case_with_items
    case.add_tag(image, "priority")
    case.add_tag(video, "priority")
    case.add_tag(video, "  second look ")
    tagged = {s.evidence.id: s.tags for s in case.evidence_summaries()}
    assert tagged == {image: ("priority",), png: (), video: ("priority", "second look")}
    assert [s.evidence.id for s in case.evidence_summaries() if "priority" in s.tags] == [image, video]


def test_a_read_only_case_refuses_every_annotation_change(tmp_path, case_with_items):
    case, (image, _, _) = case_with_items
    mark = case.add_bookmark(image, 0)
    with Workstation(tmp_path / "home").open_case(case.path) as second:  # the first still holds the writer lock
        assert second.readonly
        for change in (lambda: second.add_note(image, "x"), lambda: second.add_tag(image, "x"),
                       lambda: second.add_bookmark(image, 0), lambda: second.update_bookmark(mark, status="ok"),
                       lambda: second.remove_annotation(mark)):
            with pytest.raises(CaseNotWritable):
                change()
        assert [a.id for a in second.annotations()] == [mark]
