"""The Runs dock: every run of the project with its settings and final metrics.

Tick runs to overlay their curves in the live views; use a run's weights (the
project then points to them, undoably); continue a run from its checkpoint;
delete a run. A run's tooltip lists all of its settings.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from graphedit.training.runs import point_project_to
from graphedit.ui.runner.edits import WeightsCommand
from graphedit.ui.runner.run_records import RunRecord, delete_run, list_runs, metrics_text, weights_problem

COLUMNS = ("Run", "Status", "Epochs", "Loss", "Val loss", "Val metrics", "Optimizer", "LR", "Batch", "Time")
FOLDER_ROLE = Qt.ItemDataRole.UserRole


def _ask(parent: QWidget | None) -> Callable[[str], bool]:
    def confirm(text: str) -> bool:
        answer = QMessageBox.question(parent, "Runs", text)
        return answer == QMessageBox.StandardButton.Yes

    return confirm


class RunsDock(QDockWidget):
    overlayChanged = Signal(list)  # folders (str) of the ticked runs
    continueRequested = Signal(object)  # a RunRecord to continue from its checkpoint
    message = Signal(str, bool)  # text, is an error

    def __init__(self, controller: Any, files: Any, session: Any, parent: QWidget | None = None) -> None:
        super().__init__("Runs", parent)
        self.setObjectName("runs")
        self.controller, self.files, self.session = controller, files, session
        self.live: Any = None  # the live views dock, when there is one: it overlays ticked runs
        self.confirm: Callable[[str], bool] = _ask(self)
        self.records: dict[str, RunRecord] = {}
        self._overlaid: list[str] = []  # the runs last overlaid on the curves
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.itemDoubleClicked.connect(lambda *_: self.use_weights())
        layout.addWidget(self.tree)
        buttons = QHBoxLayout()
        self.use_button = self._button(
            buttons, "Use weights", self.use_weights, "Point the project to this run's weights"
        )
        self.continue_button = self._button(
            buttons, "Continue", self.continue_selected, "Train this run further from its last checkpoint"
        )
        self.delete_button = self._button(buttons, "Delete", self.delete_selected, "Delete the run's folder")
        buttons.addStretch(1)
        self._button(buttons, "Refresh", self.refresh, "Read the runs folder again")
        layout.addLayout(buttons)
        self.setWidget(body)
        files.loaded.connect(self.refresh)
        files.changed.connect(self._maybe_moved)
        session.started.connect(lambda _m: self.refresh())
        session.finished.connect(lambda _m: self.refresh())
        session.failed.connect(lambda _m, _n: self.refresh())
        controller.undo_stack.indexChanged.connect(lambda _i: self._mark_current())
        self._path = files.project.path
        self.refresh()

    def _button(self, row: QHBoxLayout, text: str, slot: Callable[[], Any], tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.clicked.connect(lambda _c=False: slot())
        row.addWidget(button)
        return button

    # ------------------------------------------------------------ contents
    def project_path(self) -> Path:
        """The project file the runs sit beside; a project without a file records into a scratch folder."""
        path = self.files.project.path
        return Path(path) if path is not None else self.session.scratch_project(self.files.display_name())

    def _maybe_moved(self) -> None:
        if self.files.project.path != self._path:
            self._path = self.files.project.path
            self.refresh()

    def refresh(self) -> None:
        ticked = set(self.ticked())
        selected = self.selected()
        self.tree.blockSignals(True)
        try:
            self.tree.clear()
            self.records = {}
            for record in list_runs(self.project_path()):
                key = str(record.folder)
                self.records[key] = record
                item = QTreeWidgetItem([self._cell(record, c) for c in COLUMNS])
                item.setData(0, FOLDER_ROLE, key)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(0, Qt.CheckState.Checked if key in ticked else Qt.CheckState.Unchecked)
                item.setToolTip(0, _tooltip(record))
                if record.status == "failed":
                    item.setToolTip(1, record.message)
                    item.setForeground(1, Qt.GlobalColor.red)
                self.tree.addTopLevelItem(item)
                if selected is not None and key == str(selected.folder):
                    item.setSelected(True)
        finally:
            self.tree.blockSignals(False)
        self._mark_current()
        self._update_buttons()
        if ticked - set(self.records):
            self._overlay()

    @staticmethod
    def _cell(record: RunRecord, column: str) -> str:
        t = record.training
        if column == "Run":
            return record.name
        if column == "Status":
            return record.status.replace("_", " ")
        if column == "Epochs":
            return str(record.epochs)
        if column == "Loss":
            return _num((record.train or {}).get("loss"))
        if column == "Val loss":
            return _num((record.val or {}).get("loss"))
        if column == "Val metrics":
            return metrics_text(record.val, skip_loss=True)
        if column == "Optimizer":
            return str(t.get("optimizer", ""))
        if column == "LR":
            return _num(t.get("lr"))
        if column == "Batch":
            return str(t.get("batch_size", ""))
        return "" if record.seconds is None else f"{record.seconds:.1f} s"

    def _mark_current(self) -> None:
        """Bold: the run whose weights the project uses."""
        current = self.files.project.weights_file()
        folder = str(Path(current).resolve().parent) if current is not None else None
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            font = QFont(item.font(0))
            font.setBold(folder is not None and str(Path(item.data(0, FOLDER_ROLE)).resolve()) == folder)
            item.setFont(0, font)

    # ------------------------------------------------------------ selection
    def ticked(self) -> list[str]:
        out = []
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.checkState(0) == Qt.CheckState.Checked:
                out.append(item.data(0, FOLDER_ROLE))
        return out

    def set_ticked(self, folders: list[str]) -> None:
        wanted = {str(f) for f in folders}
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            state = Qt.CheckState.Checked if item.data(0, FOLDER_ROLE) in wanted else Qt.CheckState.Unchecked
            item.setCheckState(0, state)

    def selected(self) -> RunRecord | None:
        items = self.tree.selectedItems() if hasattr(self, "tree") else []
        return self.records.get(items[0].data(0, FOLDER_ROLE)) if items else None

    def select(self, folder: str | Path) -> None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            item.setSelected(item.data(0, FOLDER_ROLE) == str(folder))

    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        # itemChanged also fires for a new font (the bold current run): only a tick changes the overlay,
        # which switches the live dock to the curves and so away from the view the user or example chose
        if column == 0 and self.ticked() != self._overlaid:
            self._overlay()

    def _overlay(self) -> None:
        folders = self.ticked()
        self._overlaid = folders
        self.overlayChanged.emit(folders)
        overlay = getattr(self.live, "overlay_runs", None)
        if callable(overlay):
            overlay(folders)

    def _update_buttons(self) -> None:
        record = self.selected()
        busy = record is not None and self.session.is_running() and str(record.folder) == self.session.run_dir
        self.use_button.setEnabled(record is not None and record.weights() is not None and not busy)
        self.continue_button.setEnabled(record is not None and record.has_checkpoint() and not busy)
        self.delete_button.setEnabled(record is not None and not busy)

    # -------------------------------------------------------------- actions
    def use_weights(self) -> bool:
        """Point the project to the selected run's weights, if they fit the graph as it is now."""
        record = self.selected()
        project = self.files.project
        if record is None or record.weights() is None:
            return False
        if project.path is None:
            self.message.emit("Save the project first: its weights are stored beside the project file.", True)
            return False
        weights = record.weights()
        problem = weights_problem(self.controller.document, weights)
        if problem and problem.startswith(str(weights)):  # the file itself: one line naming it, with its fix
            self.message.emit(problem, True)
            return False
        if problem:
            self.message.emit(
                f"The weights of run {record.name} do not fit the graph as it is now: {problem}. "
                "Fix: undo the edits since that run, or train again.",
                True,
            )
            return False
        pointer = point_project_to(SimpleNamespace(path=project.path, weights=None), weights, save=False)
        self.controller.undo_stack.push(WeightsCommand(project, pointer, f"Use weights of run {record.name}"))
        self.message.emit(f"The project now uses the weights of run {record.name} (save to keep this).", False)
        return True

    def continue_selected(self) -> None:
        record = self.selected()
        if record is not None and record.has_checkpoint():
            self.continueRequested.emit(record)

    def delete_selected(self) -> bool:
        record = self.selected()
        if record is None:
            return False
        if self.session.is_running() and str(record.folder) == self.session.run_dir:
            self.message.emit("This run is in progress: stop it before deleting it.", True)
            return False
        if not self.confirm(f"Delete run {record.name} and its weights? This cannot be undone."):
            return False
        try:
            delete_run(record.folder)
        except (OSError, ValueError) as exc:
            self.message.emit(f"Could not delete run {record.name}: {exc}", True)
            return False
        self.refresh()
        self.message.emit(f"Deleted run {record.name}.", False)
        return True


def _num(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else ""


def _tooltip(record: RunRecord) -> str:
    settings = {"training": record.training, "dataset": record.dataset}
    text = json.dumps(settings, indent=1, ensure_ascii=False, default=str)
    return f"{record.folder}{os.linesep}{text}"
