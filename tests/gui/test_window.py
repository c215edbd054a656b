"""The workstation window driven through its actions, offscreen, with the real engine thread."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog

from engine.api import AnalysisJob, EvidenceStatus, Workstation
from gui.dialogs.new_case import NewCaseDialog
from gui.item_models.evidence import CHIP_ROLE, NAME, STATUS
from tests.engine.conftest import ROOT

TIMEOUT = 60_000


def wait_idle(qtbot, window, timeout=TIMEOUT):
    qtbot.waitUntil(lambda: not window.engine.busy and not window.engine.reads, timeout=timeout)


def create_case(qtbot, window, path: Path, title="Case one", examiner="Ann"):
    def fill(dialog):
        assert isinstance(dialog, NewCaseDialog)
        dialog.title.setText(title)
        dialog.examiner.setText(examiner)
        dialog.number.setText("2026-17")
        dialog.location.setText(str(path))
        return dialog.problem_with(dialog.values()) is None

    window.run_dialog = fill
    window.actions_by_name["new_case"].trigger()
    qtbot.waitUntil(lambda: window.overview is not None, timeout=TIMEOUT)
    wait_idle(qtbot, window)


def names(window) -> list[str]:
    model = window.case_panel.proxy
    return sorted(model.index(row, NAME).data() for row in range(model.rowCount()))


def test_a_case_is_created_and_evidence_added_through_the_action_and_a_drop(qtbot, make_window, home, media,
                                                                              tmp_path, monkeypatch):
    window = make_window(home)
    assert window.windowTitle() == "Deepfake Forensic Workstation"
    create_case(qtbot, window, tmp_path / "one.dfwcase")
    assert window.windowTitle() == "Case one — 2026-17 — Deepfake Forensic Workstation"
    assert window.settings.recent_cases() == [str(tmp_path / "one.dfwcase")]
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(media["face"]), str(media["clip"])], ""))
    window.actions_by_name["add_files"].trigger()
    wait_idle(qtbot, window)
    assert names(window) == ["clip.mp4", "face.png"]
    # A drop of a folder adds what is new in it; the two already there are reported, not added again.
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(media["folder"]))])
    view = window.case_panel.table
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    view.dropEvent(drop)
    wait_idle(qtbot, window)
    assert names(window) == ["clip.mp4", "face.png", "gray.png", "photo.jpg"]
    lines = [m.text for m in window.messages.messages()]
    assert any("2 added, 2 already in the case, 0 refused" in line for line in lines)
    assert window.overview is not None and len(window.overview.evidence) == 4


def test_rows_update_while_a_run_goes_and_a_cancelled_run_resumes(qtbot, make_window, home, media, tmp_path):
    case_path = tmp_path / "run.dfwcase"
    with Workstation(home).create_case(case_path, title="Run", examiner="Ann") as case:
        case.add_evidence([media["folder"]])
    window = make_window(home, str(case_path))
    qtbot.waitUntil(lambda: window.overview is not None, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    updates: list[int] = []
    window.engine.rows_changed.connect(lambda rows: updates.extend(r.evidence.id for r in rows))
    done: list[object] = []
    job = AnalysisJob(models=("vit_optimum",), provider="cpu", allow_test_fixtures=True, batch_size=1,
                      frames_per_clip=4)
    from gui.jobs import Analyze

    window.engine.submit(Analyze(job), on_done=done.append)
    qtbot.waitUntil(lambda: bool(updates), timeout=TIMEOUT)
    assert not done, "a row changed before the run ended"
    qtbot.waitUntil(lambda: bool(done), timeout=TIMEOUT)
    wait_idle(qtbot, window)
    chips = {window.case_panel.proxy.index(r, NAME).data(): window.case_panel.proxy.index(r, NAME).data(CHIP_ROLE)
             for r in range(window.case_panel.proxy.rowCount())}
    assert set(chips) == {"clip.mp4", "face.png", "gray.png", "photo.jpg"}
    assert all(chip in ("likely manipulated", "inconclusive", "no indication") for chip in chips.values())

    # A second run on the same items, cancelled after its first item, then resumed.
    scored: list[object] = []
    ticket = window.engine.submit(Analyze(job), on_event=scored.append)

    def first_item_done():
        from engine.api import ItemScored

        return any(isinstance(e, ItemScored) for e in scored)

    qtbot.waitUntil(first_item_done, timeout=TIMEOUT)
    window.actions_by_name["cancel"].trigger()
    assert ticket.cancelled
    wait_idle(qtbot, window)
    assert window.overview.resumable_run is not None
    assert window.actions_by_name["resume"].isEnabled()
    window.actions_by_name["resume"].trigger()
    wait_idle(qtbot, window)
    assert window.overview.resumable_run is None
    statuses = {window.case_panel.proxy.index(r, STATUS).data() for r in range(window.case_panel.proxy.rowCount())}
    assert statuses == {"analysed"}
    assert [r.status for r in window.overview.runs] == ["completed", "completed"]


def test_a_case_with_a_planted_trigger_opens_read_only_and_is_repaired_into_a_copy(qtbot, make_window, home, tmp_path,
                                                                                   monkeypatch):
    import sqlite3

    case_path = tmp_path / "planted.dfwcase"
    Workstation(home).create_case(case_path, title="Planted", examiner="Ann").close()
    with sqlite3.connect(case_path) as conn:
        conn.execute("CREATE TRIGGER quiet AFTER INSERT ON annotations BEGIN DELETE FROM annotations; END")
    window = make_window(home, str(case_path))
    qtbot.waitUntil(lambda: window.overview is not None, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    assert window.overview.readonly and window.readonly_banner.isVisible()
    assert "trigger quiet" in window.readonly_banner.label.text()
    assert window.readonly_banner.button.text() == "Repair…"
    assert not window.actions_by_name["add_files"].isEnabled()
    copy = tmp_path / "clean.dfwcase"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(copy), ""))
    window.readonly_banner.action.emit()
    qtbot.waitUntil(lambda: window.overview is not None and window.overview.path == str(copy), timeout=TIMEOUT)
    wait_idle(qtbot, window)
    assert not window.overview.readonly and not window.readonly_banner.isVisible()
    assert window.actions_by_name["add_files"].isEnabled()


@contextlib.contextmanager
def held_by_another_process(case_path) -> Iterator[subprocess.Popen]:
    """Another program holding the case open for writing while the block runs."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from engine.case.store import CaseStore; "
         f"s = CaseStore.open({str(case_path)!r}); print('ready', flush=True); sys.stdin.read()"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        yield holder
    finally:
        holder.stdin.close()
        holder.wait(10)


def test_a_case_held_by_another_process_opens_read_only(qtbot, make_window, home, tmp_path):
    case_path = tmp_path / "held.dfwcase"
    Workstation(home).create_case(case_path, title="Held", examiner="Ann").close()
    with held_by_another_process(case_path) as holder:
        window = make_window(home, str(case_path))
        qtbot.waitUntil(lambda: window.overview is not None, timeout=TIMEOUT)
        wait_idle(qtbot, window)
        assert window.overview.readonly
        assert window.readonly_banner.isVisible()
        assert f"pid {holder.pid}" in window.readonly_banner.label.text()
        for name in ("add_files", "add_folder", "analyze_all", "export"):
            assert not window.actions_by_name[name].isEnabled(), name
        assert window.actions_by_name["verify"].isEnabled()
        assert window.status_readonly.text() == "read-only"


def test_a_corrupt_file_gives_one_dialog_and_is_not_touched(qtbot, make_window, home, tmp_path):
    bad = tmp_path / "broken.dfwcase"
    bad.write_bytes(b"SQLite format 3\x00" + os.urandom(3000))  # now and then a header that says WAL
    before = bad.read_bytes()
    window = make_window(home)
    window.open_case_file(str(bad))
    wait_idle(qtbot, window)
    assert window.overview is None
    notice = window.last_notice
    assert notice.windowTitle() == "Cannot open the case" and "broken.dfwcase" in notice.text()
    assert bad.read_bytes() == before
    assert not any(p.name.startswith("broken.dfwcase-") for p in tmp_path.iterdir())  # no -wal, no -shm


def test_export_and_a_verify_after_evidence_changed(qtbot, make_window, home, media, tmp_path):
    case_path = tmp_path / "report.dfwcase"
    with Workstation(home).create_case(case_path, title="Report", examiner="Ann") as case:
        case.add_evidence([media["photo"], media["face"]])
        list(case.analyze(AnalysisJob(models=("vit_optimum",), provider="cpu", allow_test_fixtures=True)))
    window = make_window(home, str(case_path))
    qtbot.waitUntil(lambda: window.overview is not None, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    out = tmp_path / "out" / "report.html"
    out.parent.mkdir()

    def fill_export(dialog):
        dialog.out.setText(str(out))
        return True

    window.run_dialog = fill_export
    window.actions_by_name["export"].trigger()
    wait_idle(qtbot, window)
    assert out.is_file() and (out.parent / "report.html.sha256").is_file()
    shown = window.last_dialog
    assert shown.windowTitle() == "Report exported" and shown.result.ok
    assert not window.verify_banner.isVisible()
    media["photo"].write_bytes(b"\xff\xd8\xff\xe0 not the photo any more")
    window.actions_by_name["verify"].trigger()
    wait_idle(qtbot, window)
    assert window.verify_banner.isVisible() and "found differences" in window.verify_banner.label.text()
    assert window.last_dialog.windowTitle() == "Verification FAILED"
    assert any("content changed" in m.text for m in window.messages.messages())
    # The banner comes back when the case is opened again, until a verify passes.
    window.close_case()
    wait_idle(qtbot, window)
    window.open_case_file(str(case_path))
    qtbot.waitUntil(lambda: window.overview is not None, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    assert window.verify_banner.isVisible()


def test_no_models_shows_the_welcome_page_with_what_a_model_folder_is(qtbot, make_window, tmp_path):
    window = make_window(tmp_path / "empty home")
    wait_idle(qtbot, window)
    welcome = window.centre.welcome
    assert window.centre.currentWidget() is welcome
    assert "No models imported yet" in welcome.models_line.text()
    assert "Optimum export" in welcome.layouts.text() and "bare .onnx" in welcome.layouts.text()


def test_details_panel_follows_the_selection(qtbot, make_window, home, media, tmp_path):
    case_path = tmp_path / "details.dfwcase"
    with Workstation(home).create_case(case_path, title="Details", examiner="Ann") as case:
        item = case.add_evidence([media["photo"]]).added[0].evidence
        case.add_note(item.id, "a <b>bold</b> claim")
    window = make_window(home, str(case_path))
    qtbot.waitUntil(lambda: window.overview is not None, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    assert window.case_panel.select(item.id)
    qtbot.waitUntil(lambda: window.details.details is not None, timeout=TIMEOUT)
    text = window.details.browser.toPlainText()
    assert item.sha256 in text and "a <b>bold</b> claim" in text  # shown as text, not markup
    assert window.details.details.summary.status == EvidenceStatus.NOT_ANALYSED
    window.details.copy_sha.click()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == item.sha256
    menu_point = window.case_panel.table.visualRect(window.case_panel.proxy.index(0, NAME)).center()
    assert isinstance(menu_point, QPoint)


def test_the_dock_layout_comes_back_but_not_one_an_older_arrangement_saved(qtbot, make_window, settings, tmp_path):
    from gui.main_window import LAYOUT_VERSION

    window = make_window(tmp_path / "home")
    wait_idle(qtbot, window)  # closing while a job runs would ask first
    window.messages_dock.hide()
    window.close()  # saves geometry and layout
    assert not make_window(tmp_path / "home").messages_dock.isVisible()

    # A layout saved under another version (an older default arrangement) is not restored.
    old = make_window(tmp_path / "home")
    old.messages_dock.show()
    old.jobs_dock.hide()
    settings.setValue("window/state", old.saveState(LAYOUT_VERSION - 1))
    fresh = make_window(tmp_path / "home")
    assert fresh.jobs_dock.isVisible() and fresh.messages_dock.isVisible()
    assert fresh.tabifiedDockWidgets(fresh.details_dock) == [fresh.compare_dock, fresh.bookmarks_dock] \
        or set(fresh.tabifiedDockWidgets(fresh.details_dock)) == {fresh.compare_dock, fresh.bookmarks_dock}
