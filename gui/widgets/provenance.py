"""The Provenance tab of the details panel: what the file's own bytes say about how it was made.

Findings are listed strongest first, each with its severity as a coloured word (never colour
alone), its explanation, the field it came from and the tool that read it; then the content
credentials and JPEG facts in short, and, in a muted line each, the checks that were not
possible offline (a C2PA trust list, revocation), skipped or broken. These are facts about
the file's history, kept apart from the detectors' verdicts: nothing here feeds a verdict,
and no verdict is shown here. Rendered as escaped rich text, like the rest of the panel.
Under the findings stand the forensic maps kept in the case for the item (gui/widgets/kept_maps.py).
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from engine.api import CheckState, FindingSeverity, ProvenanceReport
from gui.present import when
from gui.provenance_jobs import COMPUTED, ON_REQUEST, STORED, ProvenanceView
from gui.widgets.kept_maps import KeptMapsPanel

# Severity → (background, text): a badge readable on light and dark palettes, in hues the
# verdict chips do not use, so a finding is never read as a detector's verdict.
SEVERITY_COLOURS = {
    FindingSeverity.STRONG: ("#ad1457", "#ffffff"),
    FindingSeverity.NOTEWORTHY: ("#ef6c00", "#ffffff"),
    FindingSeverity.INFORMATIVE: ("#546e7a", "#ffffff"),
}
MUTED = "color:#808080"
CHECK_NAMES = {
    "c2pa.manifest": "content credentials (C2PA)", "c2pa.signature": "C2PA signature", "c2pa.binding":
    "C2PA hash binding", "c2pa.trust": "C2PA trust list", "c2pa.revocation": "C2PA certificate revocation",
    "c2pa.remote": "remote C2PA manifest", "exif": "EXIF", "xmp": "XMP", "png.text": "PNG text chunks",
    "jpeg.tables": "JPEG quantisation tables", "jpeg.double_compression": "JPEG double compression",
    "jpeg.structure": "JPEG structure",
}


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def severity_badge(severity: FindingSeverity) -> str:
    background, text = SEVERITY_COLOURS.get(severity, ("#757575", "#ffffff"))
    return (f"<span style='background-color:{background}; color:{text}; font-weight:bold'>"
            f"&nbsp;{_e(severity.value.upper())}&nbsp;</span>")


def check_name(name: str) -> str:
    return CHECK_NAMES.get(name, name.replace(".", " ").replace("_", " "))


def _strongest_first(report: ProvenanceReport) -> list:
    # The engine sorts them already; sorted again here (stable) so a stored report of any age reads the same.
    return sorted(report.findings, key=lambda f: -f.severity.rank)


def _credentials_line(report: ProvenanceReport) -> str | None:
    cred = report.credentials
    if cred is None or not cred.present:
        return None
    parts = [f"{cred.manifest_count} manifest{'s' if cred.manifest_count != 1 else ''}"]
    if cred.claim_generator:
        parts.append(f"made with {cred.claim_generator}")
    if cred.signer_subject:
        parts.append(f"signed by {cred.signer_subject}" + (f" (issuer {cred.signer_issuer})" if cred.signer_issuer else ""))
    if cred.validation_state:
        parts.append(f"state {cred.validation_state}")
    if cred.binding_matches is not None:
        parts.append("the hash binding matches the bytes" if cred.binding_matches else
                     "the hash binding does NOT match the bytes")
    parts.append("trust not judged (no trust list offline)" if cred.trusted is None else
                 "signer trusted" if cred.trusted else "signer not trusted")
    return "Content credentials: " + "; ".join(parts)


def _jpeg_line(report: ProvenanceReport) -> str | None:
    jpeg = report.jpeg
    if jpeg is None:
        return None
    parts = []
    if jpeg.quality_estimate is not None:
        parts.append(f"quality ≈ {jpeg.quality_estimate}" + (" (libjpeg's standard tables)" if jpeg.standard_tables
                                                             else " (non-standard tables)"))
    if jpeg.subsampling:
        parts.append(f"subsampling {jpeg.subsampling}")
    if jpeg.process:
        parts.append(jpeg.process)
    if jpeg.double_compression is not None:
        parts.append(f"double compression: {jpeg.double_compression.state}")
    return "JPEG: " + ", ".join(parts) if parts else None


def provenance_html(view: ProvenanceView) -> str:
    """The tab's text for one item's provenance (or why there is none yet)."""
    if view.error:
        return f"<p style='color:#c62828'><b>Provenance not read:</b> {_e(view.error)}</p>" + (
            f"<p style='{MUTED}'>{_e(view.note)}</p>" if view.note else "")
    report = view.report
    if report is None:
        return ("<p><i>A clip's provenance is read on request: it means reading the whole file again "
                "(its content credentials).</i></p>" + (f"<p style='{MUTED}'>{_e(view.note)}</p>" if view.note else ""))
    parts = ["<p><small>What the file's own bytes say about how it was made: facts about its history, "
             "<b>not</b> a detector's verdict and never part of one.</small></p>"]
    findings = _strongest_first(report)
    if not findings:
        parts.append("<p><i>No finding: nothing in the file says how it was made. That shows nothing either way.</i></p>")
    for finding in findings:
        value = f"<br><small>value: <code>{_e(finding.value)}</code></small>" if finding.value else ""
        parts.append(f"<p>{severity_badge(finding.severity)} {_e(finding.explanation)}<br>"
                     f"<small>source: {_e(finding.source)} · read by {_e(finding.tool)} {_e(finding.tool_version)}"
                     f"</small>{value}</p>")
    facts = [line for line in (_credentials_line(report), _jpeg_line(report)) if line]
    if facts:
        parts.append("<p>" + "<br>".join(_e(line) for line in facts) + "</p>")
    parts += _checks_html(report)
    origin = {STORED: f"read when the item was added ({when(report.inspected_at)})",
              COMPUTED: f"read from the file just now ({when(report.inspected_at)})"}.get(view.origin, view.origin)
    parts.append(f"<p style='{MUTED}'><small>Findings {_e(origin)}, about the bytes with SHA-256 "
                 f"{_e(report.sha256[:16])}…" + (f"; {_e(view.note)}" if view.note else "") + "</small></p>")
    return "".join(parts)


def _checks_html(report: ProvenanceReport) -> list[str]:
    by_state: dict[CheckState, list[str]] = {}
    for check in report.checks:
        text = check_name(check.name) + (f" ({check.note})" if check.note and check.state != CheckState.DONE else "")
        by_state.setdefault(check.state, []).append(text)
    lines = []
    for state, label, style in ((CheckState.FAILED, "Checks that broke on this file", "color:#c62828"),
                                (CheckState.NOT_POSSIBLE, "Not possible offline or on this file", MUTED),
                                (CheckState.SKIPPED, "Skipped", MUTED),
                                (CheckState.DONE, "Checked", MUTED)):
        names = list(dict.fromkeys(by_state.get(state, ())))
        if names:
            lines.append(f"<p style='{style}'><small>{label}: {_e('; '.join(names))}.</small></p>")
    return lines


TAB_WORDS = {FindingSeverity.STRONG: "strong", FindingSeverity.NOTEWORTHY: "noteworthy"}


def strongest(view: ProvenanceView | None) -> FindingSeverity | None:
    return view.report.strongest if view is not None and view.report is not None else None


def tab_title(view: ProvenanceView | None) -> str:
    """"Provenance · strong": the tab says the strongest finding (above informative) unopened."""
    severity = strongest(view)
    word = TAB_WORDS.get(severity) if severity is not None else None
    return f"Provenance · {word}" if word else "Provenance"


class ProvenancePanel(QWidget):
    read_clip = Signal(int)  # evidence id: read a clip's provenance (all of the file)

    def __init__(self) -> None:
        super().__init__()
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.read_button = QPushButton("Read the clip's provenance")
        self.read_button.setToolTip("Reads the whole file again on the reader thread (its content credentials)")
        self.read_button.clicked.connect(self._read_clicked)
        top = QHBoxLayout()
        top.addWidget(self.read_button)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.browser, 1)
        self.kept = KeptMapsPanel()
        layout.addWidget(self.kept)
        self.view: ProvenanceView | None = None
        self.evidence_id: int | None = None
        self.show_nothing()

    def show_nothing(self) -> None:
        self.view, self.evidence_id = None, None
        self.read_button.hide()
        self.browser.setHtml("<p><i>Select an item to see its provenance findings.</i></p>")

    def show_waiting(self, evidence_id: int) -> None:
        self.view, self.evidence_id = None, evidence_id
        self.read_button.hide()
        self.browser.setHtml("<p><i>Reading the provenance findings…</i></p>")

    def show_provenance(self, view: ProvenanceView) -> None:
        self.view, self.evidence_id = view, view.evidence_id
        self.read_button.setVisible(view.report is None and view.origin == ON_REQUEST and not view.error)
        self.browser.setHtml(provenance_html(view))

    def _read_clicked(self) -> None:
        if self.evidence_id is not None:
            self.read_button.hide()
            self.browser.setHtml("<p><i>Reading the clip's provenance (the whole file)…</i></p>")
            self.read_clip.emit(self.evidence_id)
