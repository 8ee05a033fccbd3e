"""The main window: the canvas in the middle, docks around it, menus and a status bar. It wires; it decides little."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QUndoView, QWidget

from graphedit.compiler.analysis import summary_text
from graphedit.model.document import GraphDocument
from graphedit.model.project import SUFFIX
from graphedit.nodes.registry import Registry, default_registry
from graphedit.ui import APP_NAME
from graphedit.ui.actions import WindowActions
from graphedit.ui.background import finish_jobs
from graphedit.ui.block_palette import BlocksSection
from graphedit.ui.canvas.view import CanvasView
from graphedit.ui.code_view import CodeViewDock
from graphedit.ui.controller import EditorController
from graphedit.ui.experiments.marks import SweepMarks
from graphedit.ui.experiments.panel import ExperimentsDock
from graphedit.ui.files import AUTOSAVE_MS, ProjectFiles, Prompts
from graphedit.ui.help_menu import HelpMenu
from graphedit.ui.icons import app_icon
from graphedit.ui.inside import InsideDock
from graphedit.ui.inspector import InspectorDock
from graphedit.ui.lesson_panel import LessonDock
from graphedit.ui.model_io import ModelIO
from graphedit.ui.palette import PaletteDock
from graphedit.ui.problems import ProblemsDock
from graphedit.ui.recovery import RecoveryStore
from graphedit.ui.runner.feature import TrainingFeature
from graphedit.ui.summary import SummaryDock
from graphedit.ui.theme import apply_theme
from graphedit.ui.workspaces import Workspaces

__all__ = ["APP_NAME", "MainWindow"]


JOB_GRACE_S = 10.0  # on close, how long the window waits for a background computation to end


class MainWindow(QMainWindow):
    """The editor window.

    ``prompts``, ``settings`` and ``recovery_dir`` are injectable so tests stay off the user's files.
    """

    def __init__(
        self,
        registry: Registry | None = None,
        prompts: Prompts | None = None,
        settings: QSettings | None = None,
        recovery_dir: str | Path | None = None,
        offer_recovery: bool = True,
        autosave_ms: int = AUTOSAVE_MS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.resize(1400, 850)  # before the docks: their sizes below are shares of this width
        self.setWindowIcon(app_icon())
        self.settings = settings or QSettings(APP_NAME, APP_NAME)
        registry = registry or default_registry()
        self.controller = EditorController(GraphDocument(registry), self)
        self.canvas = CanvasView(self.controller, self)
        self.setCentralWidget(self.canvas)
        self.files = ProjectFiles(
            self.controller,
            prompts or Prompts(self),
            self.settings,
            RecoveryStore(recovery_dir),
            self,
            autosave_ms,
        )
        self._make_docks(registry)
        self.session, self.live = self.training.session, self.training.live
        self.commands = WindowActions(self)
        self.export_menu = self.commands.export_menu
        self.model_io = ModelIO(self)  # File ▸ Import model… and File ▸ Export ▸ each format
        self.workspaces = Workspaces(self)  # Build / Train / Inspect, from the toolbar and View ▸ Workspace
        self.workspaces.fill_menu(self.commands.view_menu.addMenu("&Workspace"))
        self.training.session.launched.connect(self._launched)
        self.help = HelpMenu(self)  # shortcuts, file format, node reference, about
        self._make_status_bar()
        self.files.changed.connect(self.update_title)
        self.files.loaded.connect(self._on_loaded)
        self.files.aboutToSave.connect(lambda: self.files.project.view.update(self.canvas.view_state()))
        self.setAcceptDrops(True)
        self.set_snap(self.commands.snap.isChecked())
        self.set_theme(str(self.settings.value("theme", "system")), save=False)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._follow_system)
        self.resize(1400, 850)
        self._restore_layout()
        self.update_title()
        if offer_recovery:
            self.files.offer_recovery()

    # ------------------------------------------------------------- building
    def _make_docks(self, registry: Registry) -> None:
        left, right, bottom = (
            Qt.DockWidgetArea.LeftDockWidgetArea,
            Qt.DockWidgetArea.RightDockWidgetArea,
            Qt.DockWidgetArea.BottomDockWidgetArea,
        )
        self.palette = PaletteDock(registry, self)
        self.palette.typeActivated.connect(self.add_at_center)
        self.blocks = BlocksSection(self.palette, self.canvas)  # the project's blocks and the user's library
        self.sweep_marks = SweepMarks(self.controller, self.files, self)  # parameters marked for sweeping
        self.inspector = InspectorDock(self.controller, self, marks=self.sweep_marks)
        self.summary = SummaryDock(self.controller, self)
        self.code_view = CodeViewDock(self.controller, self)
        self.problems = ProblemsDock(self.controller, self)
        self.problems.nodeActivated.connect(self.canvas.go_to_problem)  # into a block, to the inner node
        self.summary.nodeActivated.connect(self.canvas.focus_node)
        self.history = QDockWidget("History", self)
        self.history.setObjectName("history")
        self.undo_view = QUndoView(self.controller.undo_stack)
        self.undo_view.setEmptyLabel("<opened>")
        self.history.setWidget(self.undo_view)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.addDockWidget(left, self.palette)
        self.addDockWidget(right, self.inspector)
        self.addDockWidget(right, self.summary)
        self.splitDockWidget(self.inspector, self.summary, Qt.Orientation.Vertical)
        self.addDockWidget(bottom, self.problems)
        self.tabifyDockWidget(self.problems, self.code_view)
        self.tabifyDockWidget(self.code_view, self.history)
        self.training = TrainingFeature(self)  # its settings, runs and live views docks join the tabs
        self.training.place_docks(self.inspector, self.problems)
        self.lesson = LessonDock(self)  # beside the canvas, tabbed with the inspector; in front when a lesson opens
        self.addDockWidget(right, self.lesson)
        self.tabifyDockWidget(self.inspector, self.lesson)
        self.inspector.raise_()
        self.inside = InsideDock(self)  # backprop, saliency, embeddings, landscape: a tab beside the live views
        self.addDockWidget(bottom, self.inside)
        self.tabifyDockWidget(self.training.live, self.inside)
        # sweeps: the project's plan, run from here; trials land in the runs dock
        self.experiments = ExperimentsDock(self.controller, self.files, self.sweep_marks, self.training.runs_dock, self)
        self.addDockWidget(bottom, self.experiments)
        self.tabifyDockWidget(self.problems, self.experiments)
        self.problems.raise_()
        self.resizeDocks([self.palette, self.inspector], [260, 360], Qt.Orientation.Horizontal)
        self.resizeDocks([self.inspector, self.summary], [480, 260], Qt.Orientation.Vertical)
        self.resizeDocks([self.problems], [300], Qt.Orientation.Vertical)  # room for the live curves

    def docks(self) -> list[QDockWidget]:
        base = [self.palette, self.inspector, self.summary, self.problems, self.code_view, self.history]
        return base + self.training.docks() + [self.lesson, self.inside, self.experiments]

    def _make_status_bar(self) -> None:
        self.status_label = QLabel()
        self.statusBar().addPermanentWidget(self.status_label)
        self.controller.shapesUpdated.connect(self.update_status)
        self.controller.problemsChanged.connect(self.update_status)
        self.controller.documentReplaced.connect(self.update_status)
        self.controller.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.update_status()

    def _restore_layout(self) -> None:
        geometry = self.settings.value("window_geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        self.workspaces.restore()  # the workspace the user was in, as they left it

    def _launched(self) -> None:
        """While training, the live views get most of the window. The docks move at launch, while the worker starts
        (imports torch, loads the data), not once it trains: arranging them and making the pages that come into view
        holds the editor's thread for a few tenths of a second."""
        if self.workspaces.current == "build":
            self.workspaces.switch("train")

    # ---------------------------------------------------------------- state
    def update_title(self) -> None:
        dirty = "*" if self.files.is_dirty() else ""
        self.setWindowTitle(f"{self.files.display_name()}{dirty} — {APP_NAME}")

    def update_status(self) -> None:
        shapes = self.controller.shapes
        nodes = len(self.controller.document)
        problems = summary_text(self.controller.analysis())  # the Problems panel's list: the two agree
        self.status_label.setText(f"{nodes} nodes · {shapes.total_params():,} parameters · {problems}")

    def _on_loaded(self) -> None:
        view = self.files.project.view
        if view.get("zoom", 1.0) != 1.0 or list(view.get("center", [0, 0])) != [0, 0]:
            # after the canvas's own zoom-to-fit, which it queues on documentReplaced
            QTimer.singleShot(0, lambda: self.canvas.set_view_state(view))
        if self.files.recovered:
            self.statusBar().showMessage("Recovered unsaved work from the last session: save it to keep it.", 10000)

    def new_project(self, starter: str | None = None) -> bool:
        """File ▸ New From Template: the new project opens on its dataset preview (the Training panel)."""
        if not self.files.new(starter):
            return False
        dock = self.training.settings_dock
        dock.show()
        dock.raise_()
        QTimer.singleShot(0, lambda: _scroll_to(dock.widget(), dock.preview))  # once laid out
        return True

    def set_snap(self, on: bool) -> None:
        self.canvas.set_snap(on)
        self.settings.setValue("snap", on)

    def set_theme(self, theme: str, save: bool = True) -> None:
        self.theme = theme if theme in self.commands.themes else "system"
        self.commands.themes[self.theme].setChecked(True)
        apply_theme(self.theme)
        if save:
            self.settings.setValue("theme", self.theme)

    def _follow_system(self, *_: Any) -> None:
        if self.theme == "system":
            apply_theme("system")

    def add_at_center(self, type_id: str) -> None:
        center = self.canvas.mapToScene(self.canvas.viewport().rect().center())
        with self.controller.batch(f"Add {type_id}"):
            node_id = self.controller.add_node(type_id, self.canvas.scene().free_spot(center))
            self.canvas.keep_in_view(node_id)
        self.controller.set_selection([node_id])

    # ------------------------------------------------------- window events
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _project_urls(event):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: Any) -> None:
        if _project_urls(event):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = _project_urls(event)
        if not paths:
            super().dropEvent(event)
            return
        event.acceptProposedAction()
        self.files.open(paths[0])

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.files.maybe_save():
            event.ignore()
            return
        self.experiments.shutdown()  # a running sweep stops; the next Start runs its unfinished trials again
        self.training.shutdown()
        finish_jobs(self, JOB_GRACE_S)  # no background computation outlives the window it draws in
        self.files.close()
        self.settings.setValue("window_geometry", self.saveGeometry())
        self.workspaces.save()
        event.accept()


def _scroll_to(area: Any, widget: QWidget) -> None:
    """Scroll a scroll area down to ``widget`` (only down: its left edge stays where it is)."""
    area.verticalScrollBar().setValue(widget.mapTo(area.widget(), widget.rect().topLeft()).y() - 6)


def _project_urls(event: Any) -> list[Path]:
    """The ``.gproj`` files a drag carries."""
    mime = event.mimeData()
    if not mime.hasUrls():
        return []
    return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile() and u.toLocalFile().endswith(SUFFIX)]
