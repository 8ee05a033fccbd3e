"""The Experiments dock: the search space the marks declare, how the sweep runs, Start/Stop, its views, Apply best.

The settings are the project's ``experiment`` section, edited undoably like the training settings
(so they are saved with the project and ``graphedit sweep PROJECT`` runs the same sweep). Start
runs the sweep off the GUI thread (:class:`~graphedit.ui.experiments.runner.SweepRunner`); each
trial is an ordinary run, so it arrives in the Runs table as a row (a pruned one marked pruned).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from graphedit.errors import GraphEditError
from graphedit.model.experiment import DIRECTIONS, PRUNERS, SAMPLERS, experiment_params
from graphedit.model.project import project_to_json
from graphedit.training.sweep import SweepConfig
from graphedit.training.sweep_results import best_row
from graphedit.training.sweep_space import check_params
from graphedit.ui.experiments.apply import apply_trial
from graphedit.ui.experiments.marks import MarkDialog
from graphedit.ui.experiments.runner import SweepRunner
from graphedit.ui.runner.edits import push_setting

if TYPE_CHECKING:
    from graphedit.ui.controller import EditorController
    from graphedit.ui.experiments.marks import SweepMarks
    from graphedit.ui.experiments.views import SweepView
    from graphedit.ui.files import ProjectFiles
    from graphedit.ui.runner.runs_panel import RunsDock

ERROR_COLOR = "#d04040"


class ExperimentsDock(QDockWidget):
    def __init__(
        self,
        controller: EditorController,
        files: ProjectFiles,
        marks: SweepMarks,
        runs_dock: RunsDock,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Experiments", parent)
        self.setObjectName("experiments")
        self.controller, self.files, self.marks, self.runs_dock = controller, files, marks, runs_dock
        self.runner = SweepRunner(self)
        self.rows: dict[int, Any] = {}  # trial number -> TrialRow of the sweep shown
        self.curves: dict[int, list[tuple[int, float]]] = {}  # trial number -> (epoch, objective) reported so far
        self.params: list[Any] = []  # the search space of the sweep shown
        self.objective, self.direction = "val.loss", "minimize"
        self.total = 0
        self.swept: Any = None  # the Project the sweep shown ran on (another may be opened since)
        self.ran = 0  # trials this sweep finished (0: the study had all it asked for already)
        self.dialog: MarkDialog | None = None
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._settings())
        self.tabs = QTabWidget()  # the plot views' tabs, added when the panel first shows (views)
        self._views: list[SweepView] | None = None
        self.tabs.currentChanged.connect(lambda _i: self._redraw())
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([360, 900])
        # a narrow or short dock scrolls instead of squeezing its controls below what they need
        splitter.setMinimumSize(splitter.minimumSizeHint())
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(splitter)
        self.setWidget(scroll)
        self.runner.opened.connect(self._opened)
        self.runner.event.connect(self._event)
        self.runner.trialFinished.connect(self._trial_finished)
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(self._failed)
        marks.changed.connect(self.refresh)
        files.loaded.connect(self._project_replaced)
        self.visibilityChanged.connect(lambda visible: self.views if visible else None)
        self.refresh()

    @property
    def views(self) -> list[SweepView]:
        """The plot views (history, curves, parallel coordinates, importance), made on first use: an editor whose
        panel is behind another tab starts without them, and without importing pyqtgraph."""
        if self._views is None:
            from graphedit.ui.experiments.views import CurvesView, HistoryView, ImportanceView, ParallelView

            self._views = [HistoryView(), CurvesView(), ParallelView(), ImportanceView()]
            for view in self._views:
                self.tabs.addTab(view, view.title)  # the first one added is current: drawn (_redraw)
        return self._views

    # ------------------------------------------------------------ layout
    def _settings(self) -> QWidget:
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(QLabel("Search space: parameters marked “sweep” (Inspector, Training)"))
        self.space = QTreeWidget()
        self.space.setRootIsDecorated(False)
        self.space.setHeaderLabels(["Parameter", "Values"])
        self.space.itemDoubleClicked.connect(lambda item, _c: self.edit_mark(item.text(0)))
        layout.addWidget(self.space, 1)
        form = QFormLayout()
        self.sampler = self._combo(form, "Sampler", "sampler", SAMPLERS, "tpe: Bayesian (TPE); grid: every combination")
        self.pruner = self._combo(form, "Pruner", "pruner", PRUNERS, "median: stop trials worse than the median")
        self.trials = self._spin(form, "Trials", "trials", "Finished trials the study should reach")
        self.jobs = self._spin(form, "Jobs", "jobs", "Trials trained at once, one process each")
        self.objective_box = QComboBox()
        self.objective_box.setEditable(True)
        self.objective_box.setToolTip("SPLIT.METRIC: val.loss, val.accuracy, train.loss, …")
        self.objective_box.lineEdit().editingFinished.connect(self._objective_edited)
        self.objective_box.textActivated.connect(lambda _t: self._objective_edited())
        form.addRow("Objective", self.objective_box)
        self.direction_box = self._combo(
            form, "Direction", "direction", DIRECTIONS, "Whether lower or higher is better"
        )
        self.study = QLineEdit()
        self.study.setPlaceholderText("the project's name")
        self.study.setToolTip("Another name starts a new study; the same name resumes it up to the number of trials")
        form.addRow("Study", self.study)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(lambda _c=False: self.start())
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(lambda _c=False: self.stop())
        self.apply_button = QPushButton("Apply best")
        self.apply_button.setToolTip("Write the best trial's values (and its weights) into the project; undoable")
        self.apply_button.clicked.connect(lambda _c=False: self.apply_best())
        for button in (self.start_button, self.stop_button, self.apply_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.status = QLabel("Mark parameters for sweeping, then Start.")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        return body

    def _combo(self, form: QFormLayout, label: str, key: str, items: tuple[str, ...], tip: str) -> QComboBox:
        box = QComboBox()
        box.addItems(list(items))
        box.setToolTip(tip)
        box.activated.connect(lambda _i: self._set(key, box.currentText()))
        form.addRow(label, box)
        return box

    def _spin(self, form: QFormLayout, label: str, key: str, tip: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(1, 100_000)
        spin.setKeyboardTracking(False)
        spin.setToolTip(tip)
        spin.valueChanged.connect(lambda v: self._set(key, int(v)))
        form.addRow(label, spin)
        return spin

    # ----------------------------------------------------------- settings
    def _set(self, key: str, value: Any) -> None:
        project = self.files.project
        push_setting(self.controller.undo_stack, project, "experiment", (key,), value, f"Sweep {key}: {value}")

    def _objective_edited(self) -> None:
        text = self.objective_box.currentText().strip()
        if not text or text == self.files.project.experiment.get("objective"):
            return
        stack = self.controller.undo_stack
        stack.beginMacro(f"Sweep objective: {text}")
        self._set("objective", text)
        self._set("direction", self._direction_for(text.rpartition(".")[2]))
        stack.endMacro()

    def _direction_for(self, key: str) -> str:
        """Lower is better for the loss and a loss node's value; higher for a metric node's (accuracy)."""
        doc = self.controller.document
        role = doc.node_type(key).role if key in doc else None
        return "maximize" if role == "metric" or (role is None and "acc" in key) else "minimize"

    def refresh(self) -> None:
        """Show the project's experiment section (after an edit, an undo, or opening another project)."""
        experiment = self.files.project.experiment
        widgets = (self.sampler, self.pruner, self.trials, self.jobs, self.objective_box, self.direction_box)
        for widget in widgets:
            widget.blockSignals(True)
        try:
            self.sampler.setCurrentText(experiment["sampler"])
            self.pruner.setCurrentText(experiment["pruner"])
            self.trials.setValue(int(experiment["trials"]))
            self.jobs.setValue(int(experiment["jobs"]))
            self.objective_box.clear()
            self.objective_box.addItems(self._objectives())
            self.objective_box.setCurrentText(experiment["objective"])
            self.direction_box.setCurrentText(experiment["direction"])
        finally:
            for widget in widgets:
                widget.blockSignals(False)
        self.space.clear()
        for name, values in (experiment.get("params") or {}).items():
            self.space.addTopLevelItem(QTreeWidgetItem([name, values]))
        self.space.resizeColumnToContents(0)
        self._update_buttons()

    def _objectives(self) -> list[str]:
        """val.loss, train.loss, then each loss and metric node's value on both splits."""
        doc = self.controller.document
        ids = [n for n in doc.node_ids() if doc.node_type(n).role in ("loss", "metric")]
        return [f"{split}.{key}" for key in ["loss", *ids] for split in ("val", "train")]

    def edit_mark(self, name: str) -> None:
        """Change or remove a mark from the search-space list."""
        current = self.marks.mark(name)
        if current is None:
            return
        self.dialog = MarkDialog(name, current, None, True, self)
        self.dialog.accepted.connect(
            lambda d=self.dialog: self.marks.set_mark(name, None if d.removed else d.result_text)
        )
        self.dialog.open()

    # ------------------------------------------------------------ a sweep
    def start(self) -> bool:
        """Start the sweep the project declares; ``False`` (and the reason shown) when it cannot."""
        if self.runner.is_running():
            return False
        project = self.files.project
        project.document = self.controller.document
        data = project_to_json(project)
        config = SweepConfig.from_experiment(project.experiment, study_name=self.study.text().strip() or None)
        try:
            config.check()
            check_params(config.params, data)
        except GraphEditError as exc:
            self._say(str(exc), error=True)
            return False
        self.params, self.objective, self.direction = config.params, config.objective, config.direction
        self.rows, self.curves, self.total, self.swept, self.ran = {}, {}, config.trials, project, 0
        base = self.files.runs_base()
        base.parent.mkdir(parents=True, exist_ok=True)  # an unsaved project's folder: its study and runs live there
        self.runner.start(data, base, config)
        self._say("Opening the study…")
        self._update_buttons()
        return True

    def stop(self) -> None:
        if self.runner.is_running():
            self.runner.stop()
            self._say("Stopping: running trials end at their next step (the next Start runs them again)…")

    def is_running(self) -> bool:
        return self.runner.is_running()

    def _opened(self, rows: list[Any]) -> None:
        self.rows = {r.number: r for r in rows}
        if self._finished_count() >= self.total:
            self._say(
                f"The study already has {self._finished_count()} finished trials: raise Trials, "
                "or give a new Study name, to run more."
            )
        else:
            self._say(f"Sweep running: {self._progress()}")
        self._redraw()

    def _event(self, event: dict[str, Any]) -> None:
        if event.get("type") == "started":
            self.runs_dock.refresh()  # the trial's run appears as a row while it trains
            self.curves[event["trial"]] = []
        elif event.get("type") == "epoch":
            self.curves.setdefault(event["trial"], []).append((event["epoch"], event["value"]))
            if self._views is not None and self.tabs.currentWidget() is self._views[1]:
                self._redraw()

    def _trial_finished(self, row: Any) -> None:
        self.ran += 1
        self.rows[row.number] = row
        self.runs_dock.refresh()
        self._say(f"Sweep running: {self._progress()}")
        self._redraw()

    def _finished(self, rows: list[Any]) -> None:
        self.rows = {r.number: r for r in rows}
        self.runs_dock.refresh()
        if self.ran or self._finished_count() < self.total:  # else the hint of _opened stays: nothing was left to run
            self._say(f"Sweep ended: {self._progress()}")
        self._redraw()
        self._ended()

    def _failed(self, message: str) -> None:
        self._say(f"The sweep could not run: {message}", error=True)
        self._ended()

    def _ended(self) -> None:
        """The sweep's thread sent its last signal: let it end before the buttons read whether it runs (read at
        once, the thread could still be alive, and Start stayed disabled for good)."""
        self.runner.wait(5.0)
        self._update_buttons()

    def _finished_count(self) -> int:
        return sum(
            1
            for r in self.rows.values()
            if r.state in ("complete", "pruned") or (r.state == "failed" and r.message != "interrupted")
        )

    def _progress(self) -> str:
        pruned = sum(1 for r in self.rows.values() if r.state == "pruned")
        text = f"{self._finished_count()}/{self.total} trials finished ({pruned} pruned)"
        best = self.best()
        if best is not None:
            text += f"; best {self.objective} {best.value:.4g} (trial {best.number})"
        return text

    def best(self) -> Any | None:
        return best_row(list(self.rows.values()), self.direction)

    def _redraw(self) -> None:
        view = self.tabs.currentWidget()  # only the tab in front: importance fits a model each time
        if view is not None:
            rows = sorted(self.rows.values(), key=lambda r: r.number)
            params = self.params or experiment_params(self.files.project.experiment)
            view.update_rows(rows, params, self.objective, self.direction, self.curves)

    def _project_replaced(self) -> None:
        """Another project: its own plan shows; a finished sweep's views and results no longer apply."""
        if not self.runner.is_running():
            self.rows, self.curves, self.params, self.swept = {}, {}, [], None
            self._say("Mark parameters for sweeping, then Start.")
            self._redraw()
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = self.runner.is_running()
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        ours = self.swept is self.files.project
        self.apply_button.setEnabled(not running and ours and self.best() is not None)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {ERROR_COLOR};" if error else "")

    # ---------------------------------------------------------- apply best
    def apply_best(self) -> bool:
        """Write the best trial's values (and its weights, when they fit) into the project as one undo step."""
        best = self.best()
        if best is None or self.swept is not self.files.project:
            return False
        text = f"Apply best trial {best.number}"
        problem = apply_trial(self.controller, self.files, self.params, best.params, best.run, text)
        if problem:
            self._say(f"Could not apply trial {best.number}: {problem}", error=True)
            return False
        values = ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}" for k, v in best.params.items())
        self._say(f"Applied trial {best.number}: {values} (undo takes it back).")
        return True

    def shutdown(self, timeout: float = 40.0) -> None:
        """Stop a running sweep and wait for its thread (closing the window)."""
        if self.runner.is_running():
            self.runner.stop()
            self.runner.wait(timeout)
