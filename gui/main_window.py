"""The main window. For now it shows the model store; cases and the viewer build on it.

Everything it shows comes from engine calls (ModelStore, runtime); the window holds no
logic of its own, so the same facts are available headless through `main.py models list`.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from engine.api import APP_NAME, Workstation, __version__


class MainWindow(QMainWindow):
    def __init__(self, home: str | None = None) -> None:
        super().__init__()
        self.setWindowTitle(f"{APP_NAME} {__version__}")
        self.resize(960, 600)
        self.workstation = Workstation(home)
        self.models = QTreeWidget()
        self.models.setHeaderLabels(["Model", "Architecture", "Judges", "Labels", "SHA-256"])
        self.models.setRootIsDecorated(False)
        heading = QLabel("Imported detector models (python main.py models import PATH)")
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(heading)
        layout.addWidget(self.models)
        self.setCentralWidget(central)
        refresh = QAction("&Refresh models", self, shortcut=QKeySequence.StandardKey.Refresh, triggered=self.refresh)
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit, triggered=self.close)
        menu = self.menuBar().addMenu("&File")
        menu.addAction(refresh)
        menu.addAction(quit_action)
        self.refresh()

    def refresh(self) -> None:
        self.models.clear()
        shown = 0
        for model in self.workstation.list_models():
            if model.is_test_fixture:
                continue  # random-weight fixtures are never offered as detectors
            QTreeWidgetItem(self.models, [
                model.name, model.architecture or "", model.judges or "", ", ".join(model.labels),
                (model.sha256 or "")[:16],
            ])
            shown += 1
        for column in range(self.models.columnCount()):
            self.models.resizeColumnToContents(column)
        self.statusBar().showMessage(f"{shown} model(s) in {self.workstation.home}")
