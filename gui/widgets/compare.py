"""Models side by side for the selected item: each model's verdict and score with the rule and
threshold, the frames each puts over the threshold, and how their frame scores correlate.
Where the ensemble sits below every single model, the panel says why."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QLabel, QTextBrowser, QVBoxLayout, QWidget

from engine.api import ENSEMBLE, ModelAgreement, Verdict
from gui.present import score_text


def compare_html(verdicts: tuple[Verdict, ...], agreement: ModelAgreement | None) -> str:
    """One short block per model (the dock is narrow), the rule stated once, then the agreement."""
    if not verdicts:
        return "<p><i>No verdicts for this item in this run.</i></p>"
    over = agreement.over_threshold if agreement else {}
    frames = agreement.frames if agreement else 0
    lead = next((v for v in verdicts if v.rule), verdicts[0])
    params = " ".join(f"{k}={x}" for k, x in sorted(lead.rule_params.items()))
    margin = lead.details.get("margin")
    rule = f"{lead.rule or ''} {params}".strip()
    threshold = "" if lead.threshold is None else f", threshold {lead.threshold:g}" + (
        f" ± {margin:g}" if isinstance(margin, (int, float)) and margin else "")
    parts = [f"<p>Frames → item: <b>{html.escape(rule)}</b>{html.escape(threshold)}</p>"]
    for v in verdicts:
        name = html.escape(v.model)
        line = f"<b>{name}</b>: {html.escape(v.label)}" + (f" <b>{score_text(v.score)}</b>" if v.score is not None else "")
        if v.model in over:
            line += f"<br><small>{over[v.model]} of {frames} frames at or over the threshold</small>"
        elif v.model == ENSEMBLE and v.details.get("worst_track"):
            line += f"<br><small>decided by the {html.escape(str(v.details['worst_track']))}</small>"
        parts.append(f"<p>{line}</p>")
    if agreement and agreement.correlation:
        pairs = "<br>".join(f"{html.escape(a)} ~ {html.escape(b)}: {'n/a' if r is None else f'{r:+.2f}'}"
                            for (a, b), r in agreement.correlation.items())
        parts.append(f"<p>Correlation of the frame scores:<br>{pairs}</p>")
    scores = {v.model: v.score for v in verdicts if v.score is not None}
    ensemble = scores.pop(ENSEMBLE, None)
    if ensemble is not None and scores and ensemble < min(scores.values()):
        parts.append(f"<p><b>The ensemble ({ensemble:.3f}) sits below every model.</b> "
                     f"{html.escape(agreement.why_lower if agreement else '')}</p>")
    elif agreement:
        parts.append(f"<p><small>{html.escape(agreement.why_lower)}</small></p>")
    return "".join(parts)


class ComparePanel(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.heading = QLabel()
        self.browser = QTextBrowser()
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.browser, 1)
        self.show_comparison(None, (), None)

    def show_comparison(self, run_id: int | None, verdicts: tuple[Verdict, ...], agreement: ModelAgreement | None) -> None:
        self.verdicts, self.agreement = verdicts, agreement
        self.heading.setText(f"Run {run_id}" if run_id is not None else "")
        self.browser.setHtml(compare_html(verdicts, agreement) if run_id is not None
                             else "<p><i>Select an analysed item.</i></p>")
