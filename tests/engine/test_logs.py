"""The log: a rotating file under the app home, stderr too with --verbose, no doubled handlers."""

from __future__ import annotations

import logging
import logging.handlers

import pytest

from engine.cli import main
from engine.errors import EngineError
from engine.logs import BACKUP_COUNT, MAX_BYTES, close_logging, setup_logging
from tests.engine.conftest import run_main


@pytest.fixture(autouse=True)
def _release_the_log():
    yield
    close_logging()


def _own_handlers():
    return [h for h in logging.getLogger().handlers if getattr(h, "_dfw_handler", False)]


def test_log_file_rotates_under_the_app_home(tmp_path):
    path = setup_logging(tmp_path, verbose=False)
    logging.getLogger("engine.test").info("written to the file")
    (handler,) = _own_handlers()
    handler.flush()
    assert path == tmp_path / "logs" / "workstation.log"
    assert isinstance(handler, logging.handlers.RotatingFileHandler)
    assert (handler.maxBytes, handler.backupCount) == (MAX_BYTES, BACKUP_COUNT)
    assert 1024 * 1024 <= MAX_BYTES <= 10 * 1024 * 1024 and 2 <= BACKUP_COUNT <= 10
    assert "written to the file" in path.read_text("utf-8")
    logging.getLogger("engine.test").debug("not without --verbose")
    handler.flush()
    assert "not without --verbose" not in path.read_text("utf-8")


def test_a_second_setup_replaces_its_handlers(tmp_path):
    setup_logging(tmp_path / "a", verbose=True)
    setup_logging(tmp_path / "b", verbose=False)
    (handler,) = _own_handlers()
    assert handler.baseFilename == str(tmp_path / "b" / "logs" / "workstation.log")


def test_an_unwritable_log_folder_is_one_engine_error(tmp_path):
    blocker = tmp_path / "home"
    blocker.mkdir()
    (blocker / "logs").write_text("a file where the folder should be")
    with pytest.raises(EngineError, match="cannot write the log file"):
        setup_logging(blocker, verbose=False)


def test_verbose_logs_to_stderr_and_errors_stay_one_line(tmp_path):
    home = tmp_path / "home"
    quiet = run_main("case", "show", str(tmp_path / "missing.dfwcase"), home=home)
    loud = run_main("--verbose", "case", "show", str(tmp_path / "missing.dfwcase"), home=home)
    assert quiet.returncode == loud.returncode == 2
    assert len(quiet.stderr.strip().splitlines()) == 1 and quiet.stderr.startswith("error: ")
    assert "INFO" in loud.stderr and "engine.cli" in loud.stderr
    assert quiet.stderr.strip().splitlines()[0] in loud.stderr
    log = (home / "logs" / "workstation.log").read_text("utf-8")
    assert log.count("case failed") == 2  # both runs wrote the error to the file


def test_an_unexpected_error_goes_to_the_log_with_its_traceback(tmp_path, capsys, monkeypatch):
    def bug(args):
        raise ZeroDivisionError("division by zero somewhere deep")

    home = tmp_path / "home"
    monkeypatch.setattr("engine.cli.selftest_cmd._self_test", bug)
    assert main(["--home", str(home), "self-test"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "unexpected ZeroDivisionError" in err
    log = (home / "logs" / "workstation.log").read_text("utf-8")
    assert "Traceback (most recent call last)" in log and "ZeroDivisionError: division by zero somewhere deep" in log
