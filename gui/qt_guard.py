"""Keep None, True and False alive under PySide6 6.12 on CPython 3.11.

PySide6 / shiboken 6.12.0 drops a reference to None or True each time Qt calls into Python
(a signal delivered to a Python slot, a Python override of a virtual method such as
paintEvent): measured here, one per call. CPython 3.12 made these objects immortal, so the
lost references do no harm there; on 3.11 their counts run down and the interpreter aborts
("Fatal Python error: none_dealloc" / "bool_dealloc") after a few thousand calls — within
seconds of real use of a window. tests/gui/test_qt_guard.py shows both.

The guard does what CPython 3.12 does: it makes the three singletons immortal, by raising
their reference counts so far (2**60) that no session could ever run them down. They are
never freed in any case, so nothing else changes. On 3.12 and later it does nothing.
"""

from __future__ import annotations

import ctypes
import sys

HEADROOM = 1 << 60
_applied = False


def keep_singletons_alive() -> bool:
    """Apply the guard once; True when it was needed here (CPython before 3.12)."""
    global _applied
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    if not _applied:
        for singleton in (None, True, False):
            # ob_refcnt is the first field of every object (a Py_ssize_t) in a release build.
            ctypes.c_ssize_t.from_address(id(singleton)).value += HEADROOM
        _applied = True
    return True
