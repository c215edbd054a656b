"""What the command line says: counted in one named unit, verdicts as they are made, a hint
after Ctrl-C, quiet on a closed pipe, one line for a file-system error, terminal-safe values."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys

import pytest

import engine.cli.analyze_cmd as analyze_cmd
from engine.api import Case, EvidenceVerdicts, Workstation
from engine.case import CaseStore
from engine.cli import main
from engine.cli.notes import print_notes
from tests.engine.conftest import IMAGES, MODELS, ROOT, run_main


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    Workstation(home).import_model(MODELS / "vit_optimum", name="vit", allow_test_fixture=True)
    return home


@pytest.fixture
def case_path(tmp_path):
    folder = tmp_path / "evidence"
    folder.mkdir()
    shutil.copy(IMAGES / "rgb_640x480.jpg", folder / "one.jpg")
    shutil.copy(IMAGES / "tiny_17x31.png", folder / "two.png")
    path = str(tmp_path / "case.dfwcase")
    with CaseStore.create(path, "Messages", "Ann") as store:
        for name in ("one.jpg", "two.png"):
            store.add_evidence(folder / name)
    return path


def _analyze(case_path, home, *extra):
    return main(["--home", str(home), "analyze", case_path, "--model", "vit", "--allow-test-fixture", *extra])


def test_counts_are_in_evidence_files_and_each_verdict_is_printed_as_it_is_made(case_path, home, monkeypatch,
                                                                                capsys):
    happened: list[str] = []
    real_analyze = Case.analyze

    def watched(self, *args, **kwargs):
        for event in real_analyze(self, *args, **kwargs):
            happened.append(type(event).__name__)
            yield event

    monkeypatch.setattr(Case, "analyze", watched)
    monkeypatch.setattr(analyze_cmd, "print_above",
                        lambda text, file=None: happened.append("printed " + text.split()[1]))
    assert _analyze(case_path, home, "--model", str(MODELS / "timm_vit")) == 0
    # The first item's verdict lines come before the second item is judged, not all at the end.
    first_print = happened.index("printed 1")
    assert first_print < happened.index("EvidenceVerdicts", happened.index("EvidenceVerdicts") + 1)
    assert first_print < happened.index("RunFinished")
    captured = capsys.readouterr()
    assert "2 model(s) on cpu, 2 evidence file(s), 2 frame(s)" in captured.err
    assert captured.out.strip().splitlines()[-1] == "run 1 completed: 2 evidence file(s) done"


def test_a_failed_file_counts_once_whatever_the_number_of_models(tmp_path, home, capsys):
    path = str(tmp_path / "bad.dfwcase")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(200))
    with CaseStore.create(path, "Bad", "Ann") as store:
        store.add_evidence(IMAGES / "rgb_640x480.jpg")
        store.add_evidence(broken)
    assert _analyze(path, home, "--model", str(MODELS / "timm_vit")) == 1
    assert capsys.readouterr().out.strip().splitlines()[-1] == \
        "run 1 completed: 1 evidence file(s) done, 1 failed (see above)"


def test_ctrl_c_keeps_the_run_and_says_how_to_resume_it(case_path, home, monkeypatch, capsys):
    real_analyze = Case.analyze

    def interrupted(self, *args, **kwargs):
        for event in real_analyze(self, *args, **kwargs):
            yield event
            if isinstance(event, EvidenceVerdicts):
                raise KeyboardInterrupt

    monkeypatch.setattr(Case, "analyze", interrupted)
    assert _analyze(case_path, home) == 130
    err = capsys.readouterr().err
    assert "interrupted: run 1 is kept with 1 evidence file(s) done" in err
    assert f"finish it with `python main.py analyze {case_path} --resume`" in err
    monkeypatch.setattr(Case, "analyze", real_analyze)
    assert _analyze(case_path, home, "--resume") == 0
    captured = capsys.readouterr()
    assert "resuming run 1: 1 model(s) on cpu, 1 evidence file(s) still to do" in captured.err
    assert "run 1 completed" in captured.out


def test_the_first_ctrl_c_stops_after_the_batch_in_hand_and_keeps_the_run(case_path, home, monkeypatch, capsys):
    import signal

    real_analyze = Case.analyze
    after_stop = []

    def ctrl_c_after_the_first_verdict(self, job, progress=None, is_cancelled=None):
        for event in real_analyze(self, job, progress, is_cancelled):
            yield event
            if isinstance(event, EvidenceVerdicts):
                if not after_stop:
                    os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, caught by the command's handler
                after_stop.append(event)

    monkeypatch.setattr(Case, "analyze", ctrl_c_after_the_first_verdict)
    before = signal.getsignal(signal.SIGINT)
    # One region per batch: with the default 8, both images may be decoded before the first
    # batch runs, and then "the batch in hand" rightly holds both and the run completes.
    assert _analyze(case_path, home, "--batch-size", "1") == 130
    assert signal.getsignal(signal.SIGINT) is before  # the handler is the command's only while it runs
    err = capsys.readouterr().err
    assert "stopping the run after the batch in hand, keeping what is done (Ctrl-C again to stop at once)" in err
    assert f"stopped: run 1 is kept with what was scored; finish it with `python main.py analyze {case_path} " \
           "--resume`" in err
    assert len(after_stop) == 1  # the second item was not judged after the stop
    with CaseStore.open(case_path, readonly=True) as store:
        run = store.get_run(1)
        assert run.status == "cancelled" and run.items_done == 1
    monkeypatch.setattr(Case, "analyze", real_analyze)
    assert _analyze(case_path, home, "--resume") == 0


def test_a_closed_pipe_ends_quietly(case_path):
    process = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "case", "show", case_path, "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    process.stdout.close()  # `| head -0`: the reader is gone before anything is written
    _, err = process.communicate(timeout=120)
    text = err.decode("utf-8", "replace")
    assert "BrokenPipe" not in text and "a bug" not in text and "Traceback" not in text, text
    assert process.returncode == 141


def test_a_file_system_error_is_one_line_with_reason_and_path(case_path, monkeypatch, capsys):
    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "/cases/out.html")

    monkeypatch.setattr(Case, "overview", full)
    assert main(["case", "show", case_path]) == 2
    assert capsys.readouterr().err == "error: No space left on device: /cases/out.html\n"


def test_values_from_a_case_cannot_drive_the_terminal(tmp_path):
    path = str(tmp_path / "evil.dfwcase")
    title = "invoice\u202egpj.exe \x1b[2J\x1b[31mred\rforged"
    with CaseStore.create(path, title, "Ann\u2066x") as store:
        store.add_evidence(IMAGES / "rgb_640x480.jpg")
        store.db.execute("UPDATE evidence SET media_format = 'jp\x1b]0;owned\x07g'")  # written around the program
    result = run_main("case", "show", path)
    assert result.returncode == 0, result.stderr
    for raw in ("\u202e", "\x1b", "\x07", "\u2066", "\r"):
        assert raw not in result.stdout
    assert "invoice\\u202egpj.exe \\x1b[2J" in result.stdout and "\\x1b]0;owned\\x07" in result.stdout


def test_a_gpu_fallback_note_is_said_once_per_app_home(tmp_path, capsys):
    note = "cuda is listed by onnxruntime but could not start (missing library libcublasLt.so.13): running on the CPU"
    other = "vit int8: top-1 agreement 100.0 %"
    print_notes([note, other], tmp_path)
    first = capsys.readouterr().err
    assert "could not start" in first and "said once for this app home" in first and other in first
    print_notes([note, other], tmp_path)
    assert capsys.readouterr().err == f"note: {other}\n"
    print_notes([note], tmp_path, verbose=True)
    assert "could not start" in capsys.readouterr().err
    print_notes([note], tmp_path / "another home")
    assert "could not start" in capsys.readouterr().err


def _run_column(out: str) -> list[str]:
    """The "run" column of the evidence table of `case show`."""
    table = out.split("Evidence (", 1)[1].split("Runs (", 1)[0].splitlines()[2:]
    return [line.split()[3] for line in table if line.strip()]


def test_case_show_names_the_run_of_each_verdict_and_shows_another_run_on_request(case_path, home, capsys):
    assert _analyze(case_path, home) == 0
    assert _analyze(case_path, home, "--threshold", "0.99", "--faces", "off") == 0
    capsys.readouterr()
    assert main(["case", "show", case_path]) == 0
    out = capsys.readouterr().out
    assert "each item's verdict from the latest run that judged it" in out
    assert "rule topk_mean, threshold 0.99" in out and "faces off" in out
    assert _run_column(out) == ["2", "2"]
    assert main(["case", "show", case_path, "--run", "1"]) == 0
    out = capsys.readouterr().out
    assert "verdicts of run 1" in out
    assert _run_column(out) == ["1", "1"]
    assert main(["case", "show", case_path, "--run", "9"]) == 2
    assert "no run 9" in capsys.readouterr().err


def test_the_lock_message_says_what_can_be_done_meanwhile(case_path, home):
    with CaseStore.open(case_path):
        result = run_main("analyze", case_path, "--model", "vit", home=home)
    assert result.returncode == 2
    assert "meanwhile it can be read (`case show`, `verify`" in result.stderr


def test_case_add_names_a_folder_it_cannot_read(case_path, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "more"
    (folder / "locked").mkdir(parents=True)
    shutil.copy(IMAGES / "la_64x48.png", folder / "three.png")
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path).endswith("locked"):  # as a folder without read permission would (tests may run as root)
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    code = main(["case", "add", case_path, str(folder)])
    captured = capsys.readouterr()
    assert code == 1
    assert f"{folder / 'locked'}: the folder cannot be read (Permission denied)" in captured.out + captured.err
    assert "1 added" in captured.out
