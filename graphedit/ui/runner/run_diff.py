"""Two runs side by side, and putting a run's graph, settings and weights back into the project.

The diff dialog lists what changed from the older run to the newer one (settings, nodes added and
removed, node parameters, wires) with both values side by side, and offers to restore either run.
Restoring replaces the graph, the training and dataset sections and the weights in one undo step
(a macro on the controller's stack), so Undo takes it all back at once.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from graphedit.errors import GraphEditError
from graphedit.training.run_compare import RunDiff, diff_runs
from graphedit.training.runs import point_project_to
from graphedit.ui.runner.edits import SettingCommand, WeightsCommand
from graphedit.ui.runner.run_records import RunRecord, weights_problem

if TYPE_CHECKING:
    from graphedit.model.project import Project
    from graphedit.ui.controller import EditorController
    from graphedit.ui.runner.runs_panel import RunsDock


ABSENT = "—"


def diff_rows(diff: RunDiff) -> list[tuple[str, str, str]]:
    """(what, in run A, in run B) for every difference, settings first."""
    rows = [(key, _text(a), _text(b)) for key, (a, b) in sorted(diff.settings.items())]
    rows += [(f"node {n}", ABSENT, "added") for n in diff.added]
    rows += [(f"node {n}", "present", "removed") for n in diff.removed]
    rows += [(f"{n} type", a, b) for n, (a, b) in sorted(diff.types.items())]
    rows += [(key, _text(a), _text(b)) for key, (a, b) in sorted(diff.params.items())]
    rows += [(f"wire {w}", ABSENT, "added") for w in diff.wires_added]
    rows += [(f"wire {w}", "present", "removed") for w in diff.wires_removed]
    return rows


def _settings_only(record: RunRecord) -> dict[str, Any]:
    return {"training": record.training, "dataset": record.dataset}


def _text(value: Any) -> str:
    if value is None:
        return ABSENT
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


class RunDiffDialog(QDialog):
    """What differs between two runs' projects, and buttons to restore either run."""

    def __init__(self, a: RunRecord, b: RunRecord, runs_dock: RunsDock, parent: QWidget | None = None) -> None:
        super().__init__(parent or runs_dock)
        self.setWindowTitle(f"Runs {a.name} and {b.name}")
        self.resize(720, 420)
        self.a, self.b, self.runs_dock = a, b, runs_dock
        layout = QVBoxLayout(self)
        pa, pb = a.project(), b.project()
        if pa is None or pb is None:
            missing = a.name if pa is None else b.name
            layout.addWidget(QLabel(f"Run {missing}: graph not recorded (an older run), so only settings compare."))
        diff = diff_runs(pa or _settings_only(a), pb or _settings_only(b))
        rows = diff_rows(diff)
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["", f"run {a.name}", f"run {b.name}"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        layout.addWidget(QLabel("The runs trained the same project." if diff.empty else f"{len(rows)} differences:"))
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        for record in (a, b):
            button = QPushButton(f"Restore run {record.name}")
            button.setEnabled(record.project() is not None)
            button.clicked.connect(lambda _c=False, r=record: self._restore(r))
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _restore(self, record: RunRecord) -> None:
        self.runs_dock.select(record.folder)
        if self.runs_dock.restore_selected():
            self.accept()


def restore_run(controller: EditorController, project: Project, record: RunRecord) -> str | None:
    """Replace the graph, training and dataset sections and the weights by the run's, as one undo step.

    Returns why it could not (the recorded project no longer loads), or ``None``.
    """
    from graphedit.model.project import project_from_json

    recorded = record.project()
    if recorded is None:
        return "the run did not record its graph"
    try:  # through the loader, so an older run's project is migrated and checked like a file
        graph = project_from_json(recorded, str(record.folder)).document.to_json()
    except GraphEditError as exc:
        return str(exc)
    stack = controller.undo_stack
    stack.beginMacro(f"Restore run {record.name}")
    try:
        controller.replace_graph(graph, f"Graph of run {record.name}")
        for section in ("training", "dataset"):
            if isinstance(recorded.get(section), dict) and recorded[section] != getattr(project, section):
                stack.push(SettingCommand(project, section, (), recorded[section], f"{section} of run {record.name}"))
        weights = record.weights()
        if (
            weights is not None
            and project.path is not None
            and weights_problem(controller.root, weights, shapes=controller.root_shapes) is None
        ):
            pointer = point_project_to(SimpleNamespace(path=Path(project.path), weights=None), weights, save=False)
            stack.push(WeightsCommand(project, pointer, f"Weights of run {record.name}"))
    finally:
        stack.endMacro()
    return None
