"""Training in the editor window, wired: the session, its toolbar and menu, the settings and runs docks,
the banner on the canvas, and the live views dock. The window only creates this."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDockWidget

from graphedit.compiler.analysis import analyze, summary_text
from graphedit.errors import GraphEditError
from graphedit.model.project import project_from_json
from graphedit.model.starters import live_view_for
from graphedit.training.runs import FINAL, point_project_to
from graphedit.training.user_folders import STAND_IN, join_run
from graphedit.ui.live import LiveViewsDock
from graphedit.ui.runner.banner import CanvasBanner, SnapshotDialog, show_failure, snapshot_text
from graphedit.ui.runner.edits import WeightsCommand
from graphedit.ui.runner.process import TrainingSession
from graphedit.ui.runner.run_records import RunRecord, weights_problem
from graphedit.ui.runner.runs_panel import RunsDock
from graphedit.ui.runner.settings_panel import TrainingSettingsDock
from graphedit.ui.runner.toolbar import TrainingToolbar
from graphedit.ui.trust_prompt import OutsidePathsPrompt, TrustPrompts, confirm_outside_paths

if TYPE_CHECKING:
    from graphedit.model.document import GraphDocument
    from graphedit.model.project import Project
    from graphedit.ui.main_window import MainWindow


ADOPT = ("finished", "early_stopped", "stopped", "interrupted")  # runs whose final weights the project takes


class TrainingFeature(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.controller, self.files, self.canvas = window.controller, window.files, window.canvas
        self.session = TrainingSession(window)
        # asks before reading data outside the project's folder
        self.trust_prompts: OutsidePathsPrompt = TrustPrompts(window)
        marks = getattr(window, "sweep_marks", None)
        self.settings_dock = TrainingSettingsDock(self.controller, self.files, window, marks=marks)
        self.runs_dock = RunsDock(self.controller, self.files, self.session, window)
        self.toolbar = TrainingToolbar(self.session, window)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        self.banner = CanvasBanner(self.canvas)
        self.live = LiveViewsDock(self.controller, window)
        self.live.attach(self.session)
        self.runs_dock.live = self.live
        # the view a project opens with is the one that teaches it
        # (a view picked to fit the graph is not a choice: the project keeps none, and the next run picks again)
        self._fitting_view = False
        self.live.viewChanged.connect(
            lambda name: None if self._fitting_view else self.files.project.view.__setitem__("live_view", name)
        )
        self._snapshot_dialog: SnapshotDialog | None = None
        # what open views ask of the next run (the Inside dock: embeddings, weight snapshots): run overrides,
        # never project settings
        self.run_requests: list[Any] = []
        self._trained: Project | None = None  # the Project the current run belongs to (another may be opened meanwhile)
        self.files.run_guard = self.session  # opening another project or closing asks first while a run trains
        self.toolbar.runRequested.connect(self.run)
        self.runs_dock.continueRequested.connect(self.continue_run)
        self.runs_dock.message.connect(self.say)
        self.session.started.connect(self._started)
        self.session.finished.connect(self._finished)
        self.session.failed.connect(self._failed)
        self.session.message.connect(lambda text: self.say(text, False))
        self.files.loaded.connect(self._project_replaced)
        # the analysis checks the training settings and the dataset too: the Problems panel, the status bar
        # and Run all read the controller's one list
        self.controller.analysis_context = self.analysis_context
        self.settings_dock.datasetInfo.connect(lambda _info: self.controller.reanalyze())
        self.files.loaded.connect(self.controller.reanalyze)
        self._refused = False  # the banner shows a refusal to start: it goes once the errors are fixed
        self.controller.problemsChanged.connect(self._problems_changed)

    def docks(self) -> list[QDockWidget]:
        return [self.settings_dock, self.runs_dock, self.live]

    def place_docks(self, beside: QDockWidget, bottom: QDockWidget) -> None:
        """Settings tabbed with ``beside`` (the inspector); runs and live views tabbed with ``bottom``."""
        w = self.window
        w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.settings_dock)
        w.tabifyDockWidget(beside, self.settings_dock)
        beside.raise_()
        w.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.runs_dock)
        w.tabifyDockWidget(bottom, self.runs_dock)
        # the live views: a tab with the others below the canvas, raised when a run starts
        w.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.live)
        w.tabifyDockWidget(bottom, self.live)
        bottom.raise_()

    # -------------------------------------------------------------- runs
    def analysis_context(self) -> tuple[dict[str, Any], Any]:
        """The project's training settings and, when the panel has read it, what the dataset holds."""
        project = self.files.project
        dock = self.settings_dock
        info = dock.info if dock.info is not None and dock._info_spec == project.dataset else None
        return project.training, info

    def refuse_with_problems(self, problems: list[Any]) -> bool:
        """Show the errors instead of starting a worker: the Problems panel in front, the first node selected."""
        errors = [p for p in problems if p.is_error]
        if not errors:
            return False
        w = self.window
        w.problems.refresh()
        w.problems.show()
        w.problems.raise_()
        first = next((p.node_id for p in errors if p.node_id and p.node_id in self.controller.document), None)
        if first is not None:
            self.controller.set_selection([first])
        text = f"<b>Not started: {summary_text(problems)}.</b> {errors[0]}"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        self.banner.show_text(text + more, "error", "Show problems", w.problems.raise_)
        self._refused = True
        self.say(f"Training not started: {summary_text(problems)} — see the Problems panel.", False)
        return True

    def _problems_changed(self) -> None:
        if self._refused and self.banner.kind == "error" and not any(p.is_error for p in self.controller.analysis()):
            self.banner.hide()
            self._refused = False

    def project(self) -> Any:
        project = self.files.project
        project.document = self.controller.root
        return project

    def run(self, overrides: dict[str, Any] | None = None) -> str | None:
        """Train the project as it is now; returns the run folder (``None`` when it could not start).

        The analysis runs first: with an error-level problem no worker starts and the list shows at once."""
        if self.refuse_with_problems(self.controller.reanalyze()):
            return None
        return self._start(self.project(), overrides)

    def continue_run(self, record: RunRecord) -> str | None:
        """Train a run further from its checkpoint, with the graph it was trained with, for as many epochs again."""
        snapshot = record.snapshot()
        if snapshot is None:
            self.say(f"Run {record.name} has no recorded graph, so it cannot be continued here.", True)
            return None
        try:
            project = project_from_json(snapshot, str(record.folder), self.controller.registry)
        except GraphEditError as exc:
            self.say(str(exc), True)
            return None
        project.path = self.files.project.path
        if self.refuse_with_problems(analyze(project.document, training=project.training)):
            return None
        per_run = int(record.training.get("epochs") or project.training.get("epochs") or 1)
        return self._start(project, {"epochs": record.epochs + per_run}, resume_dir=record.folder)

    def _start(self, project: Project, overrides: dict[str, Any] | None, resume_dir: Path | None = None) -> str | None:
        from graphedit.training.binding import project_binding_problem

        problem = project_binding_problem(project.document, project.dataset)  # before a process is spawned
        if problem:
            self._failed(f"the run could not start: {problem}", "")
            return None
        if not confirm_outside_paths(self.trust_prompts, project):
            self.say("Run cancelled: the dataset's files outside the project's folder were not allowed.", True)
            return None
        self.canvas.set_badges({})
        if not self.files.project.view.get("live_view"):  # the user never chose: the view that fits the graph
            self._show_fitting_view(project.document)
        try:
            self.session.scratch = self.files.unsaved_home  # an unsaved project's runs: its own per-user folder
            requested = {k: v for request in self.run_requests for k, v in request().items()}
            overrides = {**requested, **(overrides or {})}
            run_dir = self.session.start(project, overrides, resume_dir=resume_dir, name=STAND_IN)
            self._trained = self.files.project
        except (GraphEditError, OSError) as exc:
            self._failed(f"the run could not start: {exc}", "")
            return None
        self._refused = False
        self.banner.show_text(snapshot_text(self.session.snapshot_time), "info", "Show snapshot", self.show_snapshot)
        self.runs_dock.refresh()
        self.live.show()
        self.live.raise_()
        return run_dir

    def show_snapshot(self) -> SnapshotDialog | None:
        if self.session.snapshot is None:
            return None
        dialog = SnapshotDialog(
            self.session.snapshot, self.session.snapshot_time, self.controller.registry, self.window
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self._snapshot_dialog = dialog
        return dialog

    # ----------------------------------------------------------- outcomes
    def _started(self, message: dict[str, Any]) -> None:
        self.say(f"Training started: run {Path(message.get('run_dir', '')).name}", False)

    def _finished(self, message: dict[str, Any]) -> None:
        summary = message.get("summary") or {}
        status = str(summary.get("status", "finished"))
        name = Path(message.get("run_dir") or "").name
        values = summary.get("val") or summary.get("train") or {}
        which = "validation" if summary.get("val") else "training"
        metrics = " · ".join(f"{k} {v:.4g}" for k, v in values.items() if isinstance(v, (int, float)))
        text = f"<b>Run {name} {status.replace('_', ' ')}</b> after {summary.get('epochs', 0)} epochs"
        text += f" — {which} {metrics}" if metrics else ""
        adopted = self._adopt(message.get("run_dir"), status)
        if adopted:
            text += f"<br>{adopted}"
        self.banner.show_text(text, "done", hide_after_ms=10_000)
        self.say(f"Run {name} {status.replace('_', ' ')}.", False)
        self.runs_dock.refresh()
        self.files.changed.emit()  # trained weights of an unsaved project are unsaved work: the title says so

    def _adopt(self, run_dir: str | None, status: str) -> str:
        """Point the project to the run's final weights (one undo step) if they still fit the graph.

        A run whose unsaved project was saved while it trained first joins the runs folder beside the file."""
        trained, project = self._trained, self.files.project
        if run_dir and trained is not None and trained.path is not None:
            try:
                run_dir = str(join_run(Path(run_dir), trained.path))
            except OSError as exc:
                return f"The run stays in {run_dir}: it could not be moved beside the project ({exc})."
        if project is not trained:
            return "Another project was opened during the run: its weights stay in that project's Runs panel."
        weights = Path(run_dir or "") / FINAL
        if status not in ADOPT or not weights.exists():
            return ""
        problem = weights_problem(self.controller.root, weights, shapes=self.controller.root_shapes)
        if problem:
            return f"The graph changed during the run ({problem}); its weights stay in the Runs panel."
        pointer = point_project_to(SimpleNamespace(path=self.files.runs_base(), weights=None), weights, save=False)
        self.controller.undo_stack.push(WeightsCommand(project, pointer, f"Use weights of run {weights.parent.name}"))
        if project.path is None:
            return "The project now uses these weights: save the project to keep them with it."
        return "The project now uses these weights (save to keep them)."

    def _failed(self, message: str, node_id: str) -> None:
        show_failure(self.canvas, self.banner, message, node_id)
        self.say(f"Training failed: {message}", True)

    def say(self, text: str, error: bool = False) -> None:
        self.window.statusBar().showMessage(text, 10000)
        if error and not self.banner.isVisible():
            self.canvas.show_message(text, error=True)

    def _project_replaced(self) -> None:
        if not self.session.is_running():
            self.banner.hide()
        self.canvas.set_badges({})
        name = self.files.project.view.get("live_view")
        if name in self.live.views():
            self.live.show_view(name)
        elif not name:
            self._show_fitting_view(self.controller.root)

    def _show_fitting_view(self, document: GraphDocument) -> None:
        self._fitting_view = True
        try:
            self.live.show_view(live_view_for(document))
        finally:
            self._fitting_view = False

    def shutdown(self) -> None:
        self.session.shutdown()
