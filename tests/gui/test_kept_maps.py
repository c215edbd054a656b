"""Keeping the forensic map the viewer shows in the case, and removing it from the details panel."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog

from engine.api import Workstation
from gui.item_models.kept_maps import KEPT_MAP_ROLE
from gui.kept_map_jobs import KeepMap, LoadKeptMaps, RemoveKeptMap
from gui.menus import shortcut_table
from gui.present import when
from tests.gui.test_forensics import open_case_on, photo_case, submitted  # noqa: F401 (a fixture)
from tests.gui.test_window import TIMEOUT, held_by_another_process, wait_idle


def comment_with(monkeypatch, text: str, ok: bool = True) -> list[str]:
    """Answers the keep dialog with `text`; returns the labels it was shown with."""
    asked: list[str] = []

    def get_text(parent, title, label, *args, **kwargs):
        asked.append(label)
        return text, ok

    monkeypatch.setattr(QInputDialog, "getText", get_text)
    return asked


def kept_in(home, case_path, evidence_id=None) -> list:
    with Workstation(home).open_case(case_path, readonly=True) as case:
        return case.kept_maps(evidence_id)


def panel_rows(window) -> list[list[str]]:
    """The lines of each entry the Provenance tab lists under "Kept maps"."""
    model = window.details.provenance.kept.model
    return [model.index(row).data().split("\n") for row in range(model.rowCount())]


@pytest.fixture
def kept_case(photo_case, home):
    case_path, photo = photo_case
    with Workstation(home).open_case(case_path) as case:
        first = case.keep_map(photo, 0, "ela", note="first look", quality=80)
        second = case.keep_map(photo, 0, "spectrum", tile=128)
    return case_path, photo, first.id, second.id


def test_keeping_the_error_level_map_on_screen_stores_it_with_its_parameters(qtbot, make_window, home, photo_case,
                                                                              monkeypatch):
    case_path, photo = photo_case
    window = open_case_on(qtbot, make_window, home, case_path, photo)
    jobs = submitted(window, monkeypatch)
    action = window.actions_by_name["keep_map"]
    assert action.shortcut().toString() == "K" and ("K", "Keep this map in the case") in shortcut_table()
    layers = window.viewer.layers
    layers.set_forensic_kind("ela")
    layers.parameter.setValue(70)
    qtbot.waitUntil(lambda: window.viewer.current_map() is not None
                    and window.viewer.current_map().params == (("quality", 70),), timeout=TIMEOUT)
    assert action.isEnabled()
    shown = window.viewer.current_map()
    asked = comment_with(monkeypatch, "  the table's corner stands out  ")
    action.trigger()
    assert len(asked) == 1 and asked[0].startswith("The error level map of the picture (quality 70) is kept")
    qtbot.waitUntil(lambda: "as map" in window.statusBar().currentMessage(), timeout=TIMEOUT)
    wait_idle(qtbot, window)
    kept = kept_in(home, case_path)
    assert len(kept) == 1
    made = kept[0]
    assert (made.evidence_id, made.frame_index, made.kind) == (photo, 0, "ela")
    assert made.params == shown.map.params and made.params["quality"] == 70
    assert made.note == "the table's corner stands out" and made.author  # the case's actor, recorded
    assert window.statusBar().currentMessage() == f"kept the error level map of the picture as map {made.id}"
    keeps = [job for job in jobs if isinstance(job, KeepMap)]
    assert keeps == [KeepMap(photo, 0, "ela", (("quality", 70),), "the table's corner stands out")]
    assert not KeepMap.reads_only and LoadKeptMaps.reads_only
    # The Provenance tab lists it, read again after the keep.
    qtbot.waitUntil(lambda: len(panel_rows(window)) == 1, timeout=TIMEOUT)
    assert panel_rows(window) == [[f"Map {made.id} · Error level (ELA) · the picture", "quality 70, ceiling 0",
                                   f"{made.author} · {when(made.created_at)}", "“the table's corner stands out”"]]
    entry = window.details.provenance.kept.model.index(0)
    assert entry.data(KEPT_MAP_ROLE) == made and made.statement in entry.data(Qt.ItemDataRole.ToolTipRole)
    assert window.details.provenance.kept.heading.text() == "Kept maps · 1"


def test_a_map_of_a_clip_frame_is_kept_with_that_frame_and_a_cancelled_dialog_keeps_nothing(
        qtbot, make_window, home, tmp_path, media, monkeypatch):
    case_path = tmp_path / "clip.dfwcase"
    with Workstation(home).create_case(case_path, title="Clip", examiner="Ann") as case:
        clip = case.add_evidence([media["clip"]]).added[0].evidence.id
    window = open_case_on(qtbot, make_window, home, case_path, clip)
    viewer = window.viewer
    viewer.go_to(7)
    qtbot.waitUntil(lambda: viewer.bundle is not None and viewer.bundle.frame_index == 7
                    and viewer.bundle.image is not None, timeout=TIMEOUT)
    viewer.layers.set_forensic_kind("noise")
    viewer.layers.parameter.setValue(24)
    qtbot.waitUntil(lambda: viewer.current_map() is not None
                    and viewer.current_map().params == (("block", 24),), timeout=TIMEOUT)
    comment_with(monkeypatch, "ignored", ok=False)
    window.actions_by_name["keep_map"].trigger()
    wait_idle(qtbot, window)
    assert kept_in(home, case_path) == []
    comment_with(monkeypatch, "")
    viewer.setFocus()
    qtbot.keyClick(viewer, Qt.Key.Key_K)  # the window's shortcut, pressed in the viewer
    qtbot.waitUntil(lambda: "as map" in window.statusBar().currentMessage(), timeout=TIMEOUT)
    wait_idle(qtbot, window)
    (made,) = kept_in(home, case_path, clip)
    assert (made.frame_index, made.kind, made.params["block"], made.note) == (7, "noise", 24, "")
    assert window.statusBar().currentMessage() == f"kept the noise level map of frame 7 as map {made.id}"
    qtbot.waitUntil(lambda: len(panel_rows(window)) == 1, timeout=TIMEOUT)
    assert panel_rows(window)[0][:2] == [f"Map {made.id} · Noise level · frame 7", "block 24"]
    assert len(panel_rows(window)[0]) == 3  # no comment, no line for it


def test_keeping_is_off_without_a_forensic_layer_on_screen(qtbot, make_window, home, photo_case, monkeypatch):
    case_path, photo = photo_case
    window = open_case_on(qtbot, make_window, home, case_path, photo)
    action = window.actions_by_name["keep_map"]
    assert window.viewer.layers.forensic_kind is None and not action.isEnabled()
    asked = comment_with(monkeypatch, "should not be asked")
    action.trigger()  # disabled: nothing happens
    window.keep_map()  # and the handler itself refuses without a map
    assert asked == []
    window.viewer.layers.set_forensic_kind("residual")
    qtbot.waitUntil(action.isEnabled, timeout=TIMEOUT)
    window.viewer.layers.set_forensic_kind(None)
    assert not action.isEnabled()
    assert kept_in(home, case_path) == []


def test_keeping_and_removing_are_off_in_a_read_only_case(qtbot, make_window, home, kept_case):
    case_path, photo, first, _ = kept_case
    with held_by_another_process(case_path):
        window = open_case_on(qtbot, make_window, home, case_path, photo)
        assert window.overview.readonly
        window.viewer.layers.set_forensic_kind("ela")
        qtbot.waitUntil(window.viewer.shows_map, timeout=TIMEOUT)
        assert not window.actions_by_name["keep_map"].isEnabled()
        panel = window.details.provenance.kept
        qtbot.waitUntil(lambda: len(panel_rows(window)) == 2, timeout=TIMEOUT)  # listed all the same
        assert panel.select(first) and not panel.remove.isEnabled()


def test_removing_the_selected_kept_map_from_the_panel_asks_first(qtbot, make_window, home, kept_case, monkeypatch):
    case_path, photo, first, second = kept_case
    window = open_case_on(qtbot, make_window, home, case_path, photo)
    panel = window.details.provenance.kept
    qtbot.waitUntil(lambda: len(panel_rows(window)) == 2, timeout=TIMEOUT)
    assert panel.heading.text() == "Kept maps · 2" and not panel.remove.isEnabled()  # nothing selected yet
    assert [row[0] for row in panel_rows(window)] == [f"Map {first} · Error level (ELA) · the picture",
                                                      f"Map {second} · Spectrum · the picture"]
    assert panel_rows(window)[0][1] == "quality 80, ceiling 0" and panel_rows(window)[0][3] == "“first look”"
    assert panel_rows(window)[1][1] == "tile 128, source gradient"
    jobs = submitted(window, monkeypatch)
    asked: list[str] = []
    window.confirm = lambda title, text: asked.append(text) or False
    assert panel.select(first) and panel.remove.isEnabled()
    panel.remove.click()
    wait_idle(qtbot, window)
    assert len(asked) == 1 and f"map {first}" in asked[0]
    assert [m.id for m in kept_in(home, case_path)] == [first, second]  # declined: nothing removed
    window.confirm = lambda title, text: True
    panel.remove.click()
    qtbot.waitUntil(lambda: len(panel_rows(window)) == 1, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    assert [m.id for m in kept_in(home, case_path)] == [second]
    assert [job for job in jobs if isinstance(job, RemoveKeptMap)] == [RemoveKeptMap(first, photo)]
    assert panel_rows(window)[0][0] == f"Map {second} · Spectrum · the picture"
    assert panel.heading.text() == "Kept maps · 1"
    with Workstation(home).open_case(case_path, readonly=True) as case:
        assert case._store.last_audit_entry("forensic map removed").details["map_id"] == first


def test_a_damaged_kept_map_row_is_named_and_the_readable_maps_are_still_listed(qtbot, make_window, home, kept_case):
    import sqlite3

    case_path, photo, first, second = kept_case
    connection = sqlite3.connect(case_path)
    connection.execute("UPDATE kept_maps SET params = 'not json' WHERE id = ?", [first])  # written around the program
    connection.commit()
    connection.close()
    window = open_case_on(qtbot, make_window, home, case_path, photo)
    panel = window.details.provenance.kept
    qtbot.waitUntil(lambda: len(panel_rows(window)) == 1 and panel.hint.isVisibleTo(panel), timeout=TIMEOUT)
    assert panel_rows(window)[0][0] == f"Map {second} · Spectrum · the picture"
    assert f"cannot be read (row {first}; see Messages)" in panel.hint.text() and "verify" in panel.hint.text()
    (line,) = [m for m in window.messages.messages() if f"kept map row {first} cannot be read" in m.text]
    assert line.level == "error" and line.evidence_id == photo
