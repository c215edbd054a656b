"""The export dialog's runs choice and its replace question, and an export from the window that
shows its stages moving and replaces the file the dialog asked about."""

from __future__ import annotations

import json

from PySide6.QtWidgets import QDialog

from engine.api import AnalysisJob, Workstation
from gui.dialogs.export import ExportDialog
from tests.gui.test_window import TIMEOUT, wait_idle


def test_the_runs_choice_gives_latest_all_or_the_runs_typed(qtbot, tmp_path):
    dialog = ExportDialog(None, str(tmp_path / "c.dfwcase"), (), run_ids=(1, 2, 3))
    qtbot.addWidget(dialog)
    dialog.out.setText(str(tmp_path / "r.html"))
    assert dialog.request().runs == "latest"
    dialog.runs_all.setChecked(True)
    assert dialog.request().runs == "all"
    qtbot.keyClicks(dialog.runs_text, "3, 1")  # typing picks "These runs"
    assert dialog.runs_chosen.isChecked() and dialog.request().runs == (3, 1)
    dialog.runs_text.setText("1, 7")
    dialog._accept()
    assert dialog.result() != QDialog.DialogCode.Accepted and "no run 7" in dialog.problem.text()
    dialog.runs_text.setText("latest, 2")
    dialog._accept()
    assert "not a mixture" in dialog.problem.text()
    dialog.runs_text.setText("2")
    dialog._accept()
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_a_typed_name_that_exists_is_replaced_only_on_a_second_export(qtbot, tmp_path):
    existing = tmp_path / "r.html"
    existing.write_text("older")
    dialog = ExportDialog(None, str(tmp_path / "c.dfwcase"), ())
    qtbot.addWidget(dialog)
    dialog.out.setText(str(existing))
    dialog._accept()
    assert dialog.result() != QDialog.DialogCode.Accepted and "already exists" in dialog.problem.text()
    dialog._accept()
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_an_export_from_the_window_shows_its_stages_and_replaces_what_the_dialog_confirmed(qtbot, make_window, home,
                                                                                        media, tmp_path):
    case_path = tmp_path / "runs.dfwcase"
    with Workstation(home).create_case(case_path, title="Runs", examiner="Ann") as case:
        case.add_evidence([media["photo"], media["face"]])
        for frames in (2, 3):
            list(case.analyze(AnalysisJob(models=("vit_optimum",), provider="cpu", allow_test_fixtures=True,
                                          face_mode="off", frames_per_clip=frames)))
    window = make_window(home, str(case_path))
    qtbot.waitUntil(lambda: window.overview is not None, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    out = tmp_path / "report.json"
    seen: list[tuple[int, int, str]] = []
    window.engine.job_progress.connect(lambda ticket, done, total, message: seen.append((done, total, message)))

    def fill(dialog):
        assert dialog.run_ids == (1, 2)
        dialog.fmt.setCurrentIndex(dialog.fmt.findData("json"))
        dialog.out.setText(str(out))
        dialog.runs_chosen.setChecked(True)
        dialog.runs_text.setText("1")
        return True

    window.run_dialog = fill
    for _ in range(2):  # the second export replaces the first: the dialog had asked
        window.actions_by_name["export"].trigger()
        wait_idle(qtbot, window)
        assert window.last_dialog.windowTitle() == "Report exported", window.messages.messages()[-1].text
    document = json.loads(out.read_text("utf-8"))
    assert document["report"]["selection"]["runs"] == [1]
    assert {r["run_id"] for e in document["evidence"] for r in e["runs"]} == {1}
    # It moves: from the first stage at the start to the end (the engine thread sends at most 20
    # changes a second, but always the first and the last).
    assert seen and seen[0][2].startswith("verifying") and seen[0][0] < seen[-1][0] == seen[-1][1]
