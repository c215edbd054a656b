"""Models menu actions: the model manager, importing with the label meaning confirmed,
verifying, removing, and validated faster variants (INT8, OpenVINO bf16) from the open case's
evidence."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QFileDialog

from engine.api import ModelCheck, ModelOverrides, ModelSummary, QuantizeOutcome, describe_quantization
from engine.errors import MeaningUnknown
from gui.dialogs.model_import import BareModelDialog, ConfirmImportDialog, MeaningDialog
from gui.dialogs.model_manager import ModelManager
from gui.item_models.models import ModelsTableModel
from gui.model_jobs import ImportModel, InspectModel, ListModels, Quantize, RemoveModel, VerifyModel, variant_label

if TYPE_CHECKING:
    from gui.main_window import MainWindow

    Base = MainWindow
else:
    Base = object


class ModelActions(Base):
    def offered_models(self) -> list[ModelSummary]:
        """Models a run may use: test fixtures only where the window was told to allow them."""
        return [m for m in self.models if self.allow_test_fixtures or not m.is_test_fixture]

    def refresh_models(self) -> None:
        self.engine.submit(ListModels(), on_done=self._models_listed)

    def _models_listed(self, models: list[ModelSummary]) -> None:
        self.models = list(models)
        self.models_table().set_models(self.offered_models())
        if self.overview is None:
            self.centre.welcome.show_state(len(self.offered_models()), self.settings.recent_cases())

    def models_table(self) -> ModelsTableModel:
        if not hasattr(self, "_models_table"):
            self._models_table = ModelsTableModel()
        return self._models_table

    def show_model_manager(self) -> None:
        self.model_manager = ModelManager(self, self.models_table())
        self.model_manager.open()

    # -- importing ------------------------------------------------------------------------------
    def import_model_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a model folder", os.path.expanduser("~"))
        if folder:
            self.import_model_path(folder)

    def import_model_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import an ONNX file", os.path.expanduser("~"), "ONNX (*.onnx)")
        if path:
            self.import_model_path(path)

    def import_model_path(self, path: str, overrides: ModelOverrides | None = None) -> None:
        if overrides is None and os.path.isfile(path):
            dialog = BareModelDialog(self, path)
            if not self.run_dialog(dialog):
                return
            overrides = dialog.overrides()
        self.engine.submit(InspectModel(path, overrides), on_done=lambda spec: self._inspected(path, overrides, spec),
                           on_error=lambda error: self._not_inspected(path, overrides, error))

    def _not_inspected(self, path: str, overrides: ModelOverrides | None, error: BaseException) -> None:
        if isinstance(error, MeaningUnknown):
            dialog = MeaningDialog(self, error.labels)
            if self.run_dialog(dialog):
                self.import_model_path(path, dialog.stated(overrides))
            return
        self.notify("warning", "Cannot import the model", str(error))

    def _inspected(self, path: str, overrides: ModelOverrides | None, spec: Any) -> None:
        dialog = ConfirmImportDialog(self, path, spec)
        if not self.run_dialog(dialog):
            return
        name = dialog.name.text().strip() or None
        self.engine.submit(ImportModel(path, name, overrides, allow_test_fixture=self.allow_test_fixtures),
                           on_done=self._imported, on_error=self._import_failed)

    def _imported(self, summary: ModelSummary) -> None:
        self.message(f"imported model {summary.name}: {summary.architecture}, judges {summary.judges}"
                     + ("  [TEST FIXTURE]" if summary.is_test_fixture else ""))
        self.refresh_models()

    def _import_failed(self, error: BaseException) -> None:
        self.notify("warning", "Cannot import the model", str(error))

    # -- the rest -------------------------------------------------------------------------------
    def verify_model(self, name: str) -> None:
        self.engine.submit(VerifyModel(name), on_done=self._model_verified)

    def _model_verified(self, check: ModelCheck) -> None:
        self.models_table().set_check(check)
        if check.ok:
            self.message(f"model {check.name}: every file matches its import hash")
        else:
            self.message(f"model {check.name}: files differ from the import: changed {list(check.changed)}, missing "
                         f"{list(check.missing)}, unexpected {list(check.unexpected)}", "error")

    def remove_model(self, name: str) -> None:
        if self.confirm("Remove model", f"Remove {name} from the model store? Cases that used it keep its name, "
                        "hash and results."):
            self.engine.submit(RemoveModel(name), on_done=lambda _: self._removed(name))

    def _removed(self, name: str) -> None:
        self.message(f"removed model {name}")
        self.refresh_models()

    def quantize_model(self, name: str, target: str = "int8") -> None:
        if self.overview is None or self.overview.readonly:
            return
        self.engine.submit(Quantize(name, target=target), on_done=self._quantized,
                           on_error=lambda error: self._quantize_refused(target, error))

    def _quantized(self, outcome: QuantizeOutcome) -> None:
        text = describe_quantization(outcome.figures)
        self.message(f"{outcome.name}: variant {outcome.variant} stored: {text}")
        self.refresh_models()
        self.notify("info", f"Validated {variant_label(outcome.variant)} variant", f"{outcome.name}: {text}")

    def _quantize_refused(self, target: str, error: BaseException) -> None:
        self.notify("warning", f"{variant_label(target)} variant refused", str(error))
