"""The details panel (right dock): everything the case knows about the selected item.

Path, size, SHA-256 (with a copy button), what the file is (probe / EXIF), the verdicts of
every run that analysed it (per model and the ensemble, with the rule, its parameters and
the threshold), per-item errors, and the notes, tags and bookmarks. Rendered as escaped
rich text: selectable, copyable, and sized by the user's font. The item's provenance findings
(what its metadata and content credentials say) have their own tab, apart from the verdicts.
"""

from __future__ import annotations

import html
import os
from typing import Any

from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTabWidget, QTextBrowser, QVBoxLayout, QWidget

from engine.api import EvidenceDetails, verdict_note
from gui.present import STATUS_TEXT, human_size, media_facts, verdict_line, when
from gui.provenance_jobs import ProvenanceView
from gui.widgets.provenance import SEVERITY_COLOURS, ProvenancePanel, strongest, tab_title

# Metadata keys shown elsewhere (the Provenance tab), not as raw rows under "What the file says".
NOT_LISTED = frozenset({"provenance", "provenance_error"})


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _metadata_rows(metadata: dict[str, Any]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for group, values in metadata.items():
        if group in NOT_LISTED:
            continue
        if isinstance(values, dict):
            rows += [(f"{group} {key}".replace("_", " "), str(value)) for key, value in values.items()
                     if value not in (None, "", False)]
        else:
            rows.append((group.replace("_", " "), str(values)))
    return rows


def severity_dot(colour: str, size: int) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(colour))
    painter.setPen(QColor("#ffffff"))
    painter.drawEllipse(1, 1, size - 2, size - 2)
    painter.end()
    return QIcon(pixmap)


def _verdict_small(details: dict[str, Any]) -> str:
    """What the verdict rests on, under it; amber when it rests on face tracks seen too seldom."""
    note = verdict_note(details)
    if not note:
        return ""
    colour = " style='color:#8a5a00'" if details.get("caution") else ""
    return f"<br><small{colour}>{_e(note)}</small>"


def details_html(details: EvidenceDetails) -> str:
    summary = details.summary
    evidence = summary.evidence
    parts = [f"<h3>{_e(os.path.basename(evidence.path_given) or evidence.path_given)}</h3>", "<table>"]
    facts = [("Item", evidence.id), ("Path", evidence.path_given),
             ("Resolved", evidence.path_resolved if evidence.path_resolved != evidence.path_given else None),
             ("Size", f"{human_size(evidence.size)} ({evidence.size:,} bytes)"), ("SHA-256", evidence.sha256),
             ("Type", evidence.media_description), ("Media", media_facts(evidence.metadata) or None),
             ("Status", STATUS_TEXT.get(summary.status, summary.status)),
             ("Added", f"{when(evidence.added_at)} by {evidence.added_by}")]
    parts += [f"<tr><td><b>{_e(k)}</b>&nbsp;</td><td style='font-family:monospace'>{_e(v)}</td></tr>"
              if k == "SHA-256" else f"<tr><td><b>{_e(k)}</b>&nbsp;</td><td>{_e(v)}</td></tr>"
              for k, v in facts if v not in (None, "")]
    parts.append("</table>")
    if not details.runs:
        parts.append("<p><i>Not analysed yet.</i></p>")
    for of_item in details.runs:
        run = of_item.run.run
        parts.append(f"<h4>Run {run.id} · {_e(of_item.run.status)} · {_e(when(run.started_at))} · {_e(run.provider)}</h4>")
        parts += [f"<p>{_e(verdict_line(v))}" + _verdict_small(v.details) + "</p>" for v in of_item.verdicts]
        parts += [f"<p style='color:#c62828'>{_e(e.stage)} failed{' (' + _e(e.model) + ')' if e.model else ''}: "
                  f"{_e(e.message)}</p>" for e in of_item.errors]
        if not of_item.verdicts and not of_item.errors:
            parts.append("<p><i>No verdict from this run yet.</i></p>")
    if details.annotations:
        parts.append("<h4>Notes, tags and bookmarks</h4>")
        for a in details.annotations:
            where = f" at frame {a.frame_index}" if a.frame_index is not None else ""
            parts.append(f"<p><b>{_e(a.kind)}</b>{_e(where)}: {_e(a.text) or '<i>(no text)</i>'}<br>"
                         f"<small>{_e(a.author)}, {_e(when(a.created_at))}</small></p>")
    rows = _metadata_rows(evidence.metadata)
    if rows:
        parts.append("<h4>What the file says</h4><table>")
        parts += [f"<tr><td>{_e(k)}&nbsp;</td><td>{_e(v)}</td></tr>" for k, v in rows]
        parts.append("</table>")
    return "".join(parts)


class DetailsPanel(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.copy_sha = QPushButton("Copy SHA-256")
        self.copy_sha.clicked.connect(self._copy_sha)
        self.copy_path = QPushButton("Copy path")
        self.copy_path.clicked.connect(self._copy_path)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_sha)
        buttons.addWidget(self.copy_path)
        buttons.addStretch(1)
        self.provenance = ProvenancePanel()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.browser, "Item")
        self.tabs.addTab(self.provenance, "Provenance")
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.tabs, 1)
        self.details: EvidenceDetails | None = None
        self.show_details(None)

    def show_provenance(self, view: ProvenanceView | None, waiting_for: int | None = None) -> None:
        """The item's findings; with `waiting_for` and no view, that they are being read."""
        if view is not None:
            self.provenance.show_provenance(view)
        elif waiting_for is not None:
            self.provenance.show_waiting(waiting_for)
        else:
            self.provenance.show_nothing()
        index = self.tabs.indexOf(self.provenance)
        self.tabs.setTabText(index, tab_title(view))
        # A dot in the severity's colour beside the word (text in the palette's colour, readable in both).
        severity = strongest(view)
        marked = severity is not None and tab_title(view) != "Provenance"
        self.tabs.setTabIcon(index, severity_dot(SEVERITY_COLOURS[severity][0], self.fontMetrics().height())
                             if marked and severity is not None else QIcon())

    def show_details(self, details: EvidenceDetails | None) -> None:
        self.details = details
        self.copy_sha.setEnabled(details is not None)
        self.copy_path.setEnabled(details is not None)
        self.browser.setHtml(details_html(details) if details else "<p><i>Select an item to see its details.</i></p>")

    def _copy_sha(self) -> None:
        if self.details is not None:
            QGuiApplication.clipboard().setText(self.details.summary.evidence.sha256)

    def _copy_path(self) -> None:
        if self.details is not None:
            QGuiApplication.clipboard().setText(self.details.summary.evidence.path_given)
