"""The Runs dock: a table of every run of the project with its metrics, settings and graph changes.

Sort by any column, filter rows by text, show or hide columns from the header's menu. Tick
runs to overlay their curves in the live views; use a run's weights (the project then points to
them, undoably); restore a run's graph, settings and weights as one undoable step; diff two
runs; continue a run from its checkpoint; delete a run. A run's tooltip lists all of its settings.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from graphedit.training.runs import point_project_to
from graphedit.ui.runner.edits import WeightsCommand
from graphedit.ui.runner.run_diff import RunDiffDialog, restore_run
from graphedit.ui.runner.run_records import RunRecord, delete_run, list_runs, weights_problem
from graphedit.ui.runner.runs_table import RunItem, column_menu, columns_for, fill_row, matches

if TYPE_CHECKING:
    from graphedit.ui.controller import EditorController
    from graphedit.ui.files import ProjectFiles
    from graphedit.ui.live.dock import LiveViewsDock
    from graphedit.ui.runner.process import TrainingSession


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

    def __init__(
        self, controller: EditorController, files: ProjectFiles, session: TrainingSession, parent: QWidget | None = None
    ) -> None:
        super().__init__("Runs", parent)
        self.setObjectName("runs")
        self.controller, self.files, self.session = controller, files, session
        self.live: LiveViewsDock | None = None  # the live views dock, when there is one: it overlays ticked runs
        self.confirm: Callable[[str], bool] = _ask(self)
        self.records: dict[str, RunRecord] = {}
        self._overlaid: list[str] = []  # the runs last overlaid on the curves
        self.hidden_columns: set[str] = set()  # titles the user hid from the header's menu
        self.diff_dialog: RunDiffDialog | None = None
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter runs: words that a row must contain (status, optimiser, values)…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(lambda _t: self._apply_filter())
        layout.addWidget(self.filter)
        self.tree = QTreeWidget()
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setSortingEnabled(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.header().customContextMenuRequested.connect(self._column_menu)
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.itemDoubleClicked.connect(lambda *_: self.use_weights())
        layout.addWidget(self.tree)
        buttons = QHBoxLayout()
        self.use_button = self._button(
            buttons, "Use weights", self.use_weights, "Point the project to this run's weights"
        )
        self.restore_button = self._button(
            buttons, "Restore", self.restore_selected, "Restore this run's graph, settings and weights (undoable)"
        )
        self.diff_button = self._button(buttons, "Diff", self.diff_selected, "Compare two selected runs side by side")
        self.continue_button = self._button(
            buttons, "Continue", self.continue_selected, "Train this run further from its last checkpoint"
        )
        self.delete_button = self._button(buttons, "Delete", self.delete_selected, "Delete the run's folder")
        buttons.addStretch(1)
        self._button(buttons, "Refresh", self.refresh, "Read the runs folder again")
        layout.addLayout(buttons)
        self.setWidget(body)
        # bound methods, never lambdas: Qt drops a connection when its receiver is deleted, and the undo stack and
        # session outlive this dock when the window is torn down (a lambda then called _mark_current on a dead tree)
        files.loaded.connect(self.refresh)
        files.changed.connect(self._maybe_moved)
        session.started.connect(self._run_event)
        session.finished.connect(self._run_event)
        session.failed.connect(self._run_event)
        controller.undo_stack.indexChanged.connect(self._mark_current)
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
        """The project file the runs sit beside; a project without a file records into its per-user folder."""
        return self.files.runs_base()

    def _run_event(self, *_: Any) -> None:
        self.refresh()

    def _maybe_moved(self) -> None:
        if self.files.project.path != self._path:
            self._path = self.files.project.path
            self.refresh()

    def refresh(self) -> None:
        ticked = set(self.ticked())
        selected = self.selected()
        self.tree.blockSignals(True)
        sort_column, order = self.tree.sortColumn(), self.tree.header().sortIndicatorOrder()
        self.tree.setSortingEnabled(False)
        try:
            self.tree.clear()
            records = list_runs(self.project_path())
            self.records = {str(r.folder): r for r in records}
            self.columns = columns_for(records)
            self.tree.setColumnCount(len(self.columns))
            self.tree.setHeaderLabels([c.title for c in self.columns])
            for i, column in enumerate(self.columns):
                self.tree.setColumnHidden(i, column.title in self.hidden_columns)
            for record in records:
                key = str(record.folder)
                item = RunItem()
                fill_row(item, record, self.columns)
                item.setData(0, FOLDER_ROLE, key)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(0, Qt.CheckState.Checked if key in ticked else Qt.CheckState.Unchecked)
                item.setToolTip(0, _tooltip(record))
                status = next(i for i, c in enumerate(self.columns) if c.key == "Status")
                if record.status == "failed":
                    item.setToolTip(status, record.message)
                    item.setForeground(status, Qt.GlobalColor.red)
                elif item.text(status) == "pruned":
                    item.setToolTip(status, "A sweep's pruner stopped this trial early: it trailed earlier trials")
                    item.setForeground(status, Qt.GlobalColor.gray)
                self.tree.addTopLevelItem(item)
                if selected is not None and key == str(selected.folder):
                    item.setSelected(True)
        finally:
            self.tree.setSortingEnabled(True)
            self.tree.sortByColumn(sort_column if sort_column >= 0 else 0, order)
            self.tree.blockSignals(False)
        self._apply_filter()
        self._mark_current()
        self._update_buttons()
        if ticked - set(self.records):
            self._overlay()

    def _apply_filter(self) -> None:
        words = self.filter.text().lower().split()
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            item.setHidden(not matches(item, words))

    def _column_menu(self, at: Any) -> None:
        column_menu(self.tree, self.hidden_columns, at).popup(self.tree.header().mapToGlobal(at))

    def _mark_current(self, *_: Any) -> None:
        """Bold: the run whose weights the project uses."""
        current = self.files.weights_file()
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
        if self.live is not None:
            self.live.overlay_runs(folders)

    def selected_records(self) -> list[RunRecord]:
        """The selected runs, in the table's order."""
        folders = [self.tree.topLevelItem(i).data(0, FOLDER_ROLE) for i in range(self.tree.topLevelItemCount())]
        chosen = {item.data(0, FOLDER_ROLE) for item in self.tree.selectedItems()}
        return [self.records[f] for f in folders if f in chosen and f in self.records]

    def _update_buttons(self) -> None:
        record = self.selected()
        busy = record is not None and self.session.is_running() and str(record.folder) == self.session.run_dir
        self.use_button.setEnabled(record is not None and record.weights() is not None and not busy)
        self.restore_button.setEnabled(record is not None and record.project() is not None and not busy)
        self.diff_button.setEnabled(len(self.tree.selectedItems()) == 2)
        self.continue_button.setEnabled(record is not None and record.has_checkpoint() and not busy)
        self.delete_button.setEnabled(record is not None and not busy)

    # -------------------------------------------------------------- actions
    def use_weights(self) -> bool:
        """Point the project to the selected run's weights, if they fit the graph as it is now."""
        record = self.selected()
        project = self.files.project
        if record is None or record.weights() is None:
            return False
        weights = record.weights()
        problem = weights_problem(self.controller.root, weights, shapes=self.controller.root_shapes)
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
        pointer = point_project_to(SimpleNamespace(path=self.files.runs_base(), weights=None), weights, save=False)
        self.controller.undo_stack.push(WeightsCommand(project, pointer, f"Use weights of run {record.name}"))
        self.message.emit(f"The project now uses the weights of run {record.name} (save to keep this).", False)
        return True

    def restore_selected(self) -> bool:
        """Put the selected run's graph, settings and weights back into the project, as one undo step."""
        record = self.selected()
        if record is None:
            return False
        if record.project() is None:
            self.message.emit(f"Run {record.name} did not record its graph (an older run): nothing to restore.", True)
            return False
        problem = restore_run(self.controller, self.files.project, record)
        if problem:
            self.message.emit(f"Could not restore run {record.name}: {problem}", True)
            return False
        self.message.emit(f"Restored the graph, settings and weights of run {record.name} (undo takes it back).", False)
        return True

    def diff_selected(self) -> RunDiffDialog | None:
        """Show the two selected runs side by side (older on the left)."""
        records = self.selected_records()
        if len(records) != 2:
            return None
        older, newer = sorted(records, key=lambda r: r.name)
        self.diff_dialog = RunDiffDialog(older, newer, self)
        self.diff_dialog.show()
        return self.diff_dialog

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


def _tooltip(record: RunRecord) -> str:
    settings = {"training": record.training, "dataset": record.dataset}
    text = json.dumps(settings, indent=1, ensure_ascii=False, default=str)
    return f"{record.folder}{os.linesep}{text}"
