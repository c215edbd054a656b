"""Help (F1), Keyboard shortcuts and About: what the program is, how to drive it, what it runs on."""

from __future__ import annotations

import html
import platform

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from engine.api import APP_NAME, version_facts
from gui.menus import shortcut_table

HELP_HTML = f"""
<h2>{APP_NAME}</h2>
<p>Each investigation is a <b>case file</b> (.dfwcase). Evidence added to a case is hashed
(SHA-256) and only ever read; every analysis run, note, tag, bookmark and export is kept in
the case with a tamper-evident audit log.</p>
<h3>A first case</h3>
<ol>
<li><b>Import a model</b> (Models → Import model…): a detector folder you downloaded yourself.</li>
<li><b>New case</b> (Ctrl+N), then <b>add evidence</b> (Ctrl+I files, Ctrl+Shift+I a folder, or drop
them on the table).</li>
<li><b>Analyze</b> (F5 the selected items, Shift+F5 all): choose the models and settings; rows
update as items finish; Esc cancels, and a cancelled run can be resumed.</li>
<li><b>Verify</b> (Ctrl+Shift+V) re-hashes the evidence and checks the audit log; <b>Export</b>
(Ctrl+E) writes an HTML, PDF, JSON or CSV report with its own SHA-256.</li>
</ol>
<h3>Reading a verdict</h3>
<p>Each model's frame scores are aggregated per face track with the run's rule, and the item
takes its most suspicious track; the ensemble averages the authenticity models per region
first. Scores at or above the threshold plus the margin read <i>likely manipulated</i>, at or
below the threshold minus the margin <i>no indication</i>, in between <i>inconclusive</i>.
A model that judges something else (such as a deepfake-quality grader) is shown but never
part of a verdict. Overlays show where a model looked, not proof of manipulation.</p>
<p>Everything the window does can be done headless: <code>python main.py --help</code>.</p>
"""


def _browser_dialog(parent: QWidget | None, title: str, body: str) -> QDialog:
    dialog = QDialog(parent)
    dialog.setWindowTitle(title)
    browser = QTextBrowser()
    browser.setOpenExternalLinks(False)
    browser.setHtml(body)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(browser)
    layout.addWidget(buttons)
    metrics = dialog.fontMetrics()
    dialog.resize(metrics.averageCharWidth() * 90, metrics.height() * 32)
    return dialog


def help_dialog(parent: QWidget | None) -> QDialog:
    return _browser_dialog(parent, "Help", HELP_HTML)


def shortcuts_html() -> str:
    rows = "".join(f"<tr><td><b>{html.escape(keys)}</b>&nbsp;&nbsp;</td><td>{html.escape(what)}</td></tr>"
                   for keys, what in shortcut_table())
    return f"<h3>Keyboard shortcuts</h3><table>{rows}</table>"


def shortcuts_dialog(parent: QWidget | None) -> QDialog:
    return _browser_dialog(parent, "Keyboard shortcuts", shortcuts_html())


def about_facts() -> list[tuple[str, str]]:
    """The versions `main.py --version` prints, with the window's toolkit after the program."""
    facts = list(version_facts().items())
    return [facts[0], ("PySide6", pyside_version), ("Qt", qVersion()), *facts[1:],
            ("Operating system", platform.platform())]


def about_dialog(parent: QWidget | None) -> QDialog:
    rows = "".join(f"<tr><td><b>{html.escape(k)}</b>&nbsp;&nbsp;</td><td>{html.escape(v)}</td></tr>"
                   for k, v in about_facts())
    body = (f"<h2>{APP_NAME}</h2><p>An offline workstation for deepfake forensics. Nothing is downloaded at run "
            f"time; evidence files are only ever read.</p><table>{rows}</table>")
    return _browser_dialog(parent, "About", body)
