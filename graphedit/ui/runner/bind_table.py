"""The Dataset panel's mapping of a dataset's named inputs and targets to the graph's Input and Target nodes.

Each row is one array or column group (from the preview's ``fields``): its name, role and shape, and the node
it feeds, chosen among the graph's nodes of that role. A choice is written to the dataset spec's ``bind``
(only names that differ from their node's); a name whose node is missing says so in red.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QComboBox, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

MISSING = QColor("#d04040")


class BindTable(QTableWidget):
    """Data name → node, edited through ``on_bind(new_bind)``."""

    def __init__(self, on_bind: Callable[[dict[str, str]], None], parent: QWidget | None = None) -> None:
        super().__init__(0, 4, parent)
        self.setObjectName("bind_table")
        self.on_bind = on_bind
        self.fields: list[dict[str, Any]] = []
        self.bind: dict[str, str] = {}
        self.setHorizontalHeaderLabels(["Data", "Role", "Shape", "Feeds node"])
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.setToolTip("Each array or column group of the dataset feeds the Input or Target node chosen here")

    def show_fields(self, fields: list[dict[str, Any]], bind: dict[str, str], nodes: dict[str, list[str]]) -> None:
        """``nodes``: the graph's node ids by role (``input``, ``target``)."""
        self.fields, self.bind = fields, dict(bind)
        self.setVisible(bool(fields))
        self.setRowCount(len(fields))
        for row, field in enumerate(fields):
            name, role = field["name"], field["role"]
            node = self.bind.get(name, name)
            for col, text in enumerate((name, role, "[" + ", ".join(map(str, field["shape"])) + "]")):
                self.setItem(row, col, QTableWidgetItem(text))
            combo = QComboBox()
            combo.setObjectName(f"bind_{name}")
            choices = nodes.get(role, [])
            for node_id in choices:
                combo.addItem(node_id, node_id)
            if node not in choices:
                combo.addItem(f"{node} (no such {role.capitalize()} node)", node)
                combo.setItemData(combo.count() - 1, MISSING, 9)  # Qt.ForegroundRole
            combo.setCurrentIndex(combo.findData(node))
            combo.activated.connect(lambda _i, n=name, c=combo: self._chosen(n, c.currentData()))
            self.setCellWidget(row, 3, combo)
        self.setFixedHeight(self.horizontalHeader().height() + sum(self.rowHeight(r) for r in range(len(fields))) + 4)

    def _chosen(self, name: str, node: str) -> None:
        bind = {k: v for k, v in {**self.bind, name: node}.items() if k != v}
        if bind != {k: v for k, v in self.bind.items() if k != v}:
            self.on_bind(bind)
