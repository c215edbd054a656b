"""Analyze (F5 / Shift+F5): which models, fp32 or a validated variant (INT8, OpenVINO bf16),
frames, faces and the face detector (built in, the YuNet file of Preferences, or an imported
one), overlays, provider, the aggregation rule with its parameters, threshold, margin and
ensemble weights.
The dialog builds the frozen AnalysisJob; the engine checks it once more before a run is
recorded. Resume is offered when the case has a cancelled or interrupted run.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHeaderView, QLabel,
    QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from engine.api import (
    PROVIDER_PREFERENCES, RULES, AnalysisJob, ModelChoice, ModelSummary, ProviderFacts, RunSummary, VerdictSettings,
)
from engine.errors import EngineError
from gui.settings import RunChoices

FACE_MODES = (("auto", "faces where found, and the whole frame"), ("only", "face crops only"),
              ("off", "the whole frame only"))
FP32 = "fp32"


@dataclass(frozen=True)
class AnalyzeRequest:
    job: AnalysisJob
    choices: RunChoices


def usable_variants(model: ModelSummary) -> list[str]:
    """Variants the model offers besides fp32: validated ones, and forced ones (marked so)."""
    return [variant for variant, figures in model.quantization.items()
            if figures.get("passed", True) or figures.get("forced")]


class AnalyzeDialog(QDialog):
    def __init__(self, parent: QWidget | None, models: list[ModelSummary], providers: ProviderFacts,
                 choices: RunChoices, what: str, evidence_ids: tuple[int, ...], resumable: RunSummary | None,
                 face_detector: str, allow_test_fixtures: bool = False,
                 face_detectors: tuple[str, ...] = ()) -> None:
        super().__init__(parent)
        self.setWindowTitle("Analyze")
        self.models = models
        self.evidence_ids = evidence_ids
        self.face_detector = face_detector or None
        self.face_detectors = face_detectors  # names of imported face detectors
        self.allow_test_fixtures = allow_test_fixtures
        self.resume_requested = False
        heading = QLabel(what)
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self._models_box(choices))
        layout.addWidget(self._settings_box(choices, providers))
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #c62828")
        self.problem.setWordWrap(True)
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Run")
        if resumable is not None:
            resume = buttons.addButton(f"Resume run {resumable.id} ({resumable.status})",
                                       QDialogButtonBox.ButtonRole.ActionRole)
            resume.setToolTip("Finish what that run left undone, with its own models and settings.")
            resume.clicked.connect(self._resume)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 125)

    # -- building ---------------------------------------------------------------------------
    def _models_box(self, choices: RunChoices) -> QGroupBox:
        box = QGroupBox("Models")
        self.table = QTableWidget(len(self.models), 4)
        self.table.setHorizontalHeaderLabels(["Model", "Judges", "Variant", "Ensemble weight"])
        self.table.verticalHeader().hide()
        self.variant_boxes: list[QComboBox] = []
        self.weight_boxes: list[QDoubleSpinBox] = []
        chosen = set(choices.models) if choices.models else {m.name for m in self.models if m.judges == "authenticity"}
        for row, model in enumerate(self.models):
            name = QTableWidgetItem(model.name + ("  [TEST FIXTURE]" if model.is_test_fixture else ""))
            name.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
            name.setCheckState(Qt.CheckState.Checked if model.name in chosen else Qt.CheckState.Unchecked)
            name.setToolTip(model.meaning + ("\nA random-weight test fixture: its scores mean nothing."
                                             if model.is_test_fixture else ""))
            self.table.setItem(row, 0, name)
            authenticity = model.judges == "authenticity"
            judges = QTableWidgetItem("authenticity" if authenticity else "other: shown, never in a verdict")
            judges.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.table.setItem(row, 1, judges)
            variant = QComboBox()
            variant.addItem(FP32, None)
            for name_of in usable_variants(model):
                forced = " (forced)" if model.quantization[name_of].get("forced") else " (validated)"
                variant.addItem(name_of + forced, name_of)
            wanted = choices.variants.get(model.name)
            if wanted is not None and variant.findData(wanted) >= 0:
                variant.setCurrentIndex(variant.findData(wanted))
            variant.setEnabled(variant.count() > 1)
            self.table.setCellWidget(row, 2, variant)
            self.variant_boxes.append(variant)
            weight = QDoubleSpinBox()
            weight.setRange(0.01, 100.0)
            weight.setDecimals(2)
            weight.setValue(float(choices.weights.get(model.name, 1.0)))
            weight.setEnabled(authenticity)
            self.table.setCellWidget(row, 3, weight)
            self.weight_boxes.append(weight)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column in (2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.resizeRowsToContents()
        rows = sum(self.table.rowHeight(r) for r in range(min(len(self.models), 8)))
        self.table.setMinimumHeight(rows + header.sizeHint().height() + 2 * self.table.frameWidth())
        layout = QVBoxLayout(box)
        layout.addWidget(self.table)
        return box

    def _settings_box(self, choices: RunChoices, providers: ProviderFacts) -> QGroupBox:
        box = QGroupBox("Settings")
        form = QFormLayout(box)
        self.frames = QSpinBox()
        self.frames.setRange(1, 10_000)
        self.frames.setValue(choices.frames_per_clip)
        form.addRow("Frames per clip", self.frames)
        self.faces = QComboBox()
        for mode, text in FACE_MODES:
            self.faces.addItem(f"{mode}: {text}", mode)
        self.faces.setCurrentIndex(max(0, self.faces.findData(choices.face_mode)))
        form.addRow("Faces", self.faces)
        self.detector = QComboBox()
        self.detector.addItem(f"YuNet file of Preferences ({self.face_detector})" if self.face_detector
                              else "built in: OpenCV Haar cascade with eye and skin checks", None)
        for name in self.face_detectors:
            self.detector.addItem(f"imported: {name}", name)
        self.detector.setEnabled(bool(self.face_detectors))
        self.detector.setToolTip("Import CenterFace or YuNet files with: "
                                 "python main.py models import-face-detector FILE")
        form.addRow("Face detector", self.detector)
        self.explain = QCheckBox("Attention / occlusion maps of where each model looked")
        self.explain.setChecked(choices.explain)
        form.addRow("Overlays", self.explain)
        self.provider = QComboBox()
        for preference in PROVIDER_PREFERENCES:
            offered = preference == "auto" or preference in providers.available
            self.provider.addItem(preference if offered else f"{preference} (not on this machine)", preference)
            if not offered:
                self.provider.model().item(self.provider.count() - 1).setEnabled(False)
        self.provider.setCurrentIndex(max(0, self.provider.findData(choices.provider)))
        form.addRow("Provider", self.provider)
        note = QLabel(f"This machine offers {', '.join(providers.available)}; auto asks for {providers.planned} "
                      "first and falls back to the CPU. Every result records what really ran.")
        note.setWordWrap(True)
        form.addRow(note)
        self.rule = QComboBox()
        for name, rule in RULES.items():
            self.rule.addItem(f"{name}: {rule.description}", name)
        self.rule.setCurrentIndex(max(0, self.rule.findData(choices.rule)))
        self.rule.currentIndexChanged.connect(self._rule_changed)
        form.addRow("Frames → item", self.rule)
        self.k = QSpinBox()
        self.k.setRange(1, 1000)
        self.k.setValue(choices.k)
        form.addRow("k", self.k)
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(3)
        self.threshold.setValue(choices.threshold)
        form.addRow("Threshold", self.threshold)
        self.margin = QDoubleSpinBox()
        self.margin.setRange(0.0, 0.5)
        self.margin.setSingleStep(0.05)
        self.margin.setDecimals(3)
        self.margin.setValue(choices.margin)
        form.addRow("Inconclusive band ±", self.margin)
        self._rule_changed()
        return box

    def _rule_changed(self) -> None:
        self.k.setEnabled("k" in RULES[self.rule.currentData()].defaults)

    # -- results ------------------------------------------------------------------------------
    def _checked(self) -> list[int]:
        return [row for row in range(len(self.models))
                if self.table.item(row, 0).checkState() == Qt.CheckState.Checked]

    def request(self) -> AnalyzeRequest:
        rows = self._checked()
        rule = str(self.rule.currentData())
        params: dict[str, object] = {}
        if "k" in RULES[rule].defaults:
            params["k"] = self.k.value()
        if "threshold" in RULES[rule].defaults:
            params["threshold"] = self.threshold.value()
        choices_models = tuple(self.models[row].name for row in rows)
        variants = {self.models[row].name: self.variant_boxes[row].currentData() for row in rows
                    if self.variant_boxes[row].currentData()}
        weights = {self.models[row].name: self.weight_boxes[row].value() for row in rows
                   if self.models[row].judges == "authenticity" and self.weight_boxes[row].value() != 1.0}
        run_names = {name: f"{name}:{variants[name]}" if name in variants else name for name in choices_models}
        imported = self.detector.currentData()
        job = AnalysisJob(
            models=tuple(ModelChoice(name, variants.get(name)) for name in choices_models),
            evidence_ids=self.evidence_ids, frames_per_clip=self.frames.value(), face_mode=str(self.faces.currentData()),
            explain=self.explain.isChecked(), provider=str(self.provider.currentData()),
            yunet_path=None if imported else self.face_detector, face_detector=imported,
            allow_test_fixtures=self.allow_test_fixtures,
            verdict=VerdictSettings(rule=rule, params=params, threshold=self.threshold.value(),
                                    margin=self.margin.value(), weights={run_names[n]: w for n, w in weights.items()}))
        choices = RunChoices(choices_models, dict(variants), self.frames.value(), str(self.faces.currentData()),
                             self.explain.isChecked(), str(self.provider.currentData()), rule, self.k.value(),
                             self.threshold.value(), self.margin.value(), weights)
        return AnalyzeRequest(job, choices)

    def _accept(self) -> None:
        if not self._checked():
            self.problem.setText("Choose at least one model.")
            return
        request = self.request()
        try:
            request.job.check(tuple(m.label for m in request.job.models))
        except EngineError as exc:
            self.problem.setText(str(exc))
            return
        self.accept()

    def _resume(self) -> None:
        self.resume_requested = True
        self.accept()
