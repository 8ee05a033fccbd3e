"""The model summary dock: node, type, output shape, parameters, memory and totals; a row click selects the node."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QDockWidget, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from graphedit.compiler.report import SummaryRow, byte_text, summarize, totals
from graphedit.ui.icons import node_icon

HEADERS = ("node", "type", "output shape", "parameters", "param memory", "activations/example")
NUMBER_COLUMNS = (3, 4, 5)
ERROR_COLOR = QColor("#e53935")


class SummaryDock(QDockWidget):
    """A table like Keras' ``model.summary()``, kept current after every edit."""

    nodeActivated = Signal(str)  # a row was double-clicked: bring its node into view

    def __init__(self, controller: Any, parent: QWidget | None = None) -> None:
        super().__init__("Model summary", parent)
        self.setObjectName("summary")
        self.controller = controller
        self.rows: list[SummaryRow] = []
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels([h.capitalize() for h in HEADERS])
        self.table.horizontalHeaderItem(5).setToolTip(
            "Memory of the node's outputs for one example; × batch size, and about × 2 while training"
        )
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # long type names elide, shapes stay whole
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setWidget(self.table)
        self._syncing = False
        self.table.itemSelectionChanged.connect(self._select_nodes)
        self.table.cellDoubleClicked.connect(self._activate)
        controller.shapesUpdated.connect(self.refresh)
        controller.documentReplaced.connect(self.refresh)
        controller.selectionChanged.connect(self._follow_selection)
        self.refresh()

    def total(self) -> int:
        return sum(r.params for r in self.rows)

    def row_of(self, node_id: str) -> int:
        return next(i for i, r in enumerate(self.rows) if r.node_id == node_id)

    def refresh(self, *_: Any) -> None:
        doc = self.controller.document
        before = self.rows
        self.rows = summarize(doc, self.controller.shapes) if len(doc) else []
        self._syncing = True
        self.table.setRowCount(len(self.rows) + 1)
        # after an edit most rows read as before: rewrite only the others (10,000 rows × 6 cells take a second)
        unchanged = len(before) == len(self.rows) and self.table.item(len(before), 0) is not None
        for i, row in enumerate(self.rows):
            if unchanged and before[i] == row:
                continue
            node_type = doc.node_type(row.node_id)
            cells = (
                row.node_id,
                row.type_id,
                ", ".join(row.outputs),
                f"❄ {row.params:,}" if row.frozen else f"{row.params:,}",
                byte_text(row.param_bytes),
                byte_text(row.activation_bytes),
            )
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 0:
                    item.setIcon(node_icon(node_type.category, node_type.title))
                    item.setData(Qt.ItemDataRole.UserRole, row.node_id)
                if col in NUMBER_COLUMNS:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if row.error:
                    item.setForeground(QBrush(ERROR_COLOR))
                    item.setToolTip(row.error)
                self.table.setItem(i, col, item)
        self._total_row(len(self.rows))
        self._syncing = False
        self._follow_selection()

    def _total_row(self, i: int) -> None:
        font = QFont(self.table.font())
        font.setBold(True)
        t = totals(self.rows)
        split = f"trainable {t['trainable_params']:,} · frozen {t['frozen_params']:,}" if t["frozen_params"] else ""
        cells = ("Total", "", split, f"{t['params']:,}", byte_text(t["param_bytes"]))
        for col, text in enumerate((*cells, byte_text(t["activation_bytes_per_example"]))):
            item = QTableWidgetItem(text)
            item.setFont(font)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            if col in NUMBER_COLUMNS:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(i, col, item)

    def _select_nodes(self) -> None:
        if self._syncing:
            return
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        ids = [self.rows[r].node_id for r in rows if r < len(self.rows)]
        if ids:
            self.controller.set_selection(ids)

    def _activate(self, row: int, _column: int) -> None:
        if row < len(self.rows):
            self.nodeActivated.emit(self.rows[row].node_id)

    def _follow_selection(self, *_: Any) -> None:
        """Show the canvas selection in the table without echoing it back."""
        selected = set(self.controller.selection())
        self._syncing = True
        self.table.clearSelection()
        for i, row in enumerate(self.rows):
            if row.node_id in selected:
                self._select_row(i)
        self._syncing = False

    def _select_row(self, i: int) -> None:
        for col in range(self.table.columnCount()):
            item = self.table.item(i, col)
            if item is not None:
                item.setSelected(True)
