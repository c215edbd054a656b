"""Why gui/qt_guard.py exists, and that it holds: PySide6 6.12 on CPython 3.11 runs down the
reference counts of None and True at every call from Qt into Python."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.engine.conftest import ROOT

STRESS = """
import sys
{guard}
from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot
app = QCoreApplication([])
class Pinger(QObject):
    ping = Signal(int)
    @Slot(int)
    def pong(self, value):
        pass
pinger = Pinger()
pinger.ping.connect(pinger.pong)
for i in range(50_000):
    pinger.ping.emit(i)
print("done")
"""


def _run(guard: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-c", STRESS.format(guard=guard)], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)


def test_with_the_guard_fifty_thousand_signals_are_fine():
    result = _run("import gui")
    assert result.returncode == 0 and result.stdout.strip() == "done", result.stderr[-500:]


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="CPython 3.12+ keeps these objects immortal itself")
def test_without_it_the_interpreter_aborts():
    result = _run("")
    assert result.returncode != 0 and "dealloc" in result.stderr  # the bug the guard stands in for
