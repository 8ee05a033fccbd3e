"""The runs table's columns and rows: one row per run, its metrics, and the settings and graph parameters that vary.

The fixed columns come first (the run, the sweep trial it was when any run is one, its status and
metrics, time and device; a pruned trial's status reads "pruned"); then the
training settings every run has (learning rate, batch size, optimiser) and every setting or node
parameter whose value is not the same in all runs (:func:`graphedit.training.run_compare.varying_columns`).
Rows sort by number where a column holds numbers; the header's context menu shows and hides
columns; the filter keeps the rows whose text holds every word typed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QTreeWidget, QTreeWidgetItem

from graphedit.training.run_compare import flat_settings, graph_params, varying_columns
from graphedit.ui.runner.run_records import RunRecord, metrics_text

FIXED = ("Run", "Status", "Epochs", "Loss", "Val loss", "Val metrics", "Best loss", "Time", "Device")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
NOT_RECORDED = "graph not recorded"
TRIAL = "Trial"


@dataclass(frozen=True)
class Column:
    title: str
    kind: str  # "fixed", "setting" or "param"
    key: str


def columns_for(records: list[RunRecord]) -> list[Column]:
    """The table's columns for these runs."""
    settings, params = varying_columns([r.project() for r in records])
    out = [Column(title, "fixed", title) for title in FIXED]
    if any(r.trial for r in records):
        out.insert(1, Column(TRIAL, "fixed", TRIAL))
    out += [Column(key.replace("_", " "), "setting", key) for key in settings if key != "epochs"]
    out += [Column(key, "param", key) for key in params]
    return out


def cell(record: RunRecord, column: Column) -> tuple[str, Any]:
    """The text of a cell and the value it sorts by."""
    if column.kind == "setting":
        value = {**flat_settings(record.project()), **record.training}.get(column.key)
        return _value(value)
    if column.kind == "param":
        project = record.project()
        if project is None:
            return NOT_RECORDED, None
        return _value(graph_params(project).get(column.key))
    key = column.key
    if key == "Run":
        return record.name, record.name
    if key == TRIAL:
        return trial_cell(record.trial)
    if key == "Status":
        status = str((record.trial or {}).get("state") or "") if record.status == "stopped" else ""
        status = status if status == "pruned" else record.status  # a pruned trial is a run the pruner stopped
        return status.replace("_", " "), status
    if key == "Epochs":
        return str(record.epochs), record.epochs
    if key == "Loss":
        return _value((record.train or {}).get("loss"))
    if key == "Val loss":
        return _value((record.val or {}).get("loss"))
    if key == "Val metrics":
        return metrics_text(record.val, skip_loss=True), None
    if key == "Best loss":
        return _value(record.best_loss)
    if key == "Device":
        return record.device or "", record.device or ""
    return ("" if record.seconds is None else f"{record.seconds:.1f} s"), record.seconds


def trial_cell(trial: dict[str, Any] | None) -> tuple[str, Any]:
    """``study #3`` for a sweep's trial (sorting by the number), empty for a run of its own."""
    if not trial or not isinstance(trial.get("trial"), int):
        return "", None
    return f"{trial.get('study') or 'sweep'} #{trial['trial']}", trial["trial"]


def _value(value: Any) -> tuple[str, Any]:
    if value is None:
        return "", None
    if isinstance(value, bool):
        return str(value).lower(), str(value)
    if isinstance(value, (int, float)):
        return f"{value:.4g}", float(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value), json.dumps(value)
    return str(value), str(value)


class RunItem(QTreeWidgetItem):
    """A row that sorts numbers as numbers and puts empty cells last."""

    def __lt__(self, other: QTreeWidgetItem) -> bool:  # Qt's sort calls this
        column = self.treeWidget().sortColumn() if self.treeWidget() is not None else 0
        a, b = self.data(column, SORT_ROLE), other.data(column, SORT_ROLE)
        if a is None or b is None:
            return a is not None and b is None
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            return a < b
        return str(a) < str(b)


def fill_row(item: QTreeWidgetItem, record: RunRecord, columns: list[Column]) -> None:
    for i, column in enumerate(columns):
        text, key = cell(record, column)
        item.setText(i, text)
        item.setData(i, SORT_ROLE, key)
        if text == NOT_RECORDED:
            item.setForeground(i, Qt.GlobalColor.gray)


def matches(item: QTreeWidgetItem, words: list[str]) -> bool:
    """Whether every word (lower case) appears in some cell of the row."""
    text = " ".join(item.text(i) for i in range(item.columnCount())).lower()
    return all(word in text for word in words)


def column_menu(tree: QTreeWidget, hidden: set[str], at: QPoint) -> QMenu:
    """A menu of the columns, each ticked when shown; toggling one shows or hides it (and remembers it)."""
    menu = QMenu(tree)
    header = tree.headerItem()
    for i in range(1, tree.columnCount()):  # the Run column always stays
        title = header.text(i)
        action = QAction(title, menu)
        action.setCheckable(True)
        action.setChecked(not tree.isColumnHidden(i))

        def toggle(checked: bool, i: int = i, title: str = title) -> None:
            tree.setColumnHidden(i, not checked)
            (hidden.discard if checked else hidden.add)(title)

        action.toggled.connect(toggle)
        menu.addAction(action)
    return menu
