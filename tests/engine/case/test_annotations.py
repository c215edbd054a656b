"""Bookmarks with a status, frame checks for every annotation, and what the audit log keeps."""

from __future__ import annotations

import pytest

from engine.case.annotations import bookmark_status, frame_problem
from engine.errors import CaseError
from engine.vocab import BookmarkStatus


@pytest.fixture
def items(store, evidence_files):
    """(image id, video id) in a fresh case."""
    image, video = store.add_evidence(evidence_files[0]), store.add_evidence(evidence_files[2])
    assert (image.media_kind, video.media_kind) == ("image", "video")
    return image.id, video.id


def test_a_bookmark_has_a_status_notes_and_tags_have_none(store, items):
    image, video = items
    plain = store.add_bookmark(video, 12)
    flagged = store.add_bookmark(video, 40, "mouth blurs", BookmarkStatus.WARNING, author="alice")
    named = store.add_bookmark(image, 0, "as a word", "check")
    store.add_note(video, "sound ahead of the lips", frame_index=12)
    store.add_tag(video, "priority")
    found = {a.id: a for a in store.annotations()}
    assert (found[plain].status, found[plain].text, found[plain].frame_index) == ("ok", "", 12)
    assert (found[flagged].status, found[flagged].author) == ("warning", "alice")
    assert found[named].status == "check"
    assert [a.status for a in store.annotations(kind="note") + store.annotations(kind="tag")] == [None, None]
    logged = [e for e in store.audit_entries() if e.action == "bookmark added"]
    assert [e.details["status"] for e in logged] == ["ok", "warning", "check"]
    assert logged[1].details["text"] == "mouth blurs" and logged[1].actor == "alice"
    assert "status" not in next(e for e in store.audit_entries() if e.action == "note added").details


@pytest.mark.parametrize("frame, message", [
    (-1, "frame index -1 is negative"),
    (2.5, "a frame index is a whole number, not '2.5'"),
    (True, "a frame index is a whole number, not 'True'"),
    ("3", "a frame index is a whole number, not '3'"),
])
def test_bad_frame_indexes_are_refused_for_every_kind(store, items, frame, message):
    _, video = items
    before = len(store.audit_entries())
    for add in (lambda: store.add_bookmark(video, frame), lambda: store.add_note(video, "x", frame_index=frame),
                lambda: store.add_tag(video, "x", frame_index=frame)):
        with pytest.raises(CaseError, match=message):
            add()
    assert store.annotations() == [] and len(store.audit_entries()) == before


def test_a_still_image_has_only_frame_0(store, items):
    image, video = items
    with pytest.raises(CaseError, match="frame 1 does not exist: only a video has frames after 0, and this item is image"):
        store.add_bookmark(image, 1)
    with pytest.raises(CaseError, match="frame 7 does not exist"):
        store.add_note(image, "x", frame_index=7)
    assert store.add_bookmark(image, 0) and store.add_bookmark(video, 10_000)
    with pytest.raises(CaseError, match="a bookmark marks a frame"):
        store.add_bookmark(video, None)


def test_unknown_status_and_missing_item_are_refused(store, items):
    _, video = items
    with pytest.raises(CaseError, match="unknown bookmark status 'fine'; choose one of ok, check, warning"):
        store.add_bookmark(video, 0, status="fine")
    with pytest.raises(CaseError, match="no evidence item 99"):
        store.add_bookmark(99, 0)
    assert store.annotations() == []


def test_update_changes_status_and_comment_and_logs_before_and_after(store, items):
    _, video = items
    mark = store.add_bookmark(video, 5, "looks fine")
    changed = store.update_bookmark(mark, status="warning", actor="bob")
    assert (changed.status, changed.text, changed.author) == ("warning", "looks fine", "tester")
    entry = store.audit_entries()[-1]
    assert entry.action == "bookmark changed" and entry.actor == "bob"
    assert entry.details == {"annotation_id": mark, "evidence_id": video, "frame_index": 5,
                             "before": {"status": "ok"}, "after": {"status": "warning"}}
    again = store.update_bookmark(mark, status=BookmarkStatus.CHECK, text="ear edge doubles")
    assert (again.status, again.text) == ("check", "ear edge doubles")
    assert store.audit_entries()[-1].details["before"] == {"status": "warning", "text": "looks fine"}
    count = len(store.audit_entries())
    assert store.update_bookmark(mark, status="check") == again  # nothing changes, nothing is logged
    assert len(store.audit_entries()) == count
    assert store.update_bookmark(mark, text="").text == ""


def test_update_refuses_what_is_not_a_bookmark_or_changes_nothing(store, items):
    _, video = items
    note = store.add_note(video, "n")
    mark = store.add_bookmark(video, 0)
    with pytest.raises(CaseError, match=f"annotation {note} is a note, not a bookmark"):
        store.update_bookmark(note, status="ok")
    with pytest.raises(CaseError, match="nothing to change"):
        store.update_bookmark(mark)
    with pytest.raises(CaseError, match="unknown bookmark status"):
        store.update_bookmark(mark, status="red")
    with pytest.raises(CaseError, match="no note, tag or bookmark 77"):
        store.update_bookmark(77, status="ok")
    assert store.get_annotation(mark).status == "ok"


def test_removing_a_bookmark_logs_its_status(store, items):
    _, video = items
    mark = store.add_bookmark(video, 3, "gone soon", "warning")
    store.remove_annotation(mark, actor="carol")
    entry = store.audit_entries()[-1]
    assert entry.action == "bookmark removed" and entry.actor == "carol"
    assert (entry.details["status"], entry.details["text"], entry.details["frame_index"]) == ("warning", "gone soon", 3)
    with pytest.raises(CaseError, match=f"no note, tag or bookmark {mark}"):
        store.get_annotation(mark)


def test_the_helpers_name_the_choices():
    assert bookmark_status("warning") is BookmarkStatus.WARNING
    assert frame_problem(0, "image") is None and frame_problem(9, "video") is None
    assert frame_problem(1, None) == "frame 1 does not exist: only a video has frames after 0, and this item is not media"
