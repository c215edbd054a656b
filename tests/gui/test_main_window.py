"""The window lists imported detectors from the engine's store and hides test fixtures."""

from __future__ import annotations

from engine.models.loader import ModelOverrides
from engine.models.store import ModelStore
from gui.main_window import MainWindow
from tests.engine.conftest import MODELS, make_linear_classifier


def test_models_listed_and_fixtures_hidden(qtbot, tmp_path):
    home = tmp_path / "home"
    store = ModelStore(home)
    store.import_model(MODELS / "vit_optimum", "fixture", allow_test_fixture=True)
    onnx_path = make_linear_classifier(tmp_path / "detector.onnx")
    store.import_model(onnx_path, "detector",
                       overrides=ModelOverrides(labels=["real", "fake"], preprocess="hf", input_size=8))
    window = MainWindow(str(home))
    qtbot.addWidget(window)
    names = [window.models.topLevelItem(i).text(0) for i in range(window.models.topLevelItemCount())]
    assert names == ["detector"]
    assert window.models.topLevelItem(0).text(2) == "authenticity"
    assert "1 model(s)" in window.statusBar().currentMessage()
