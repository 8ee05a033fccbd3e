"""The model summary dock: node, type, output shape, parameters, memory and totals; a row click selects the node."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from graphedit.compiler.costs import flops_text
from graphedit.compiler.report import SummaryRow, byte_text, summarize, totals
from graphedit.ui.icons import node_icon
from graphedit.ui.summary_costs import CostCells, CostsBar, badges, time_text

HEADERS = (
    "node",
    "type",
    "output shape",
    "parameters",
    "param memory",
    "activations/example",
    "FLOPs/example",
    "receptive field",
    "time fwd + bwd",
    "time share",
)

if TYPE_CHECKING:
    from graphedit.ui.controller import EditorController

NUMBER_COLUMNS = (3, 4, 5, 6, 8, 9)
TIPS = {
    5: "Memory of the node's outputs for one example; × batch size, and about × 2 while training",
    6: "Floating-point operations of the node's forward pass for one example (torch's flop counter; "
    "elementwise operations count as zero)",
    7: "Input pixels one unit of this node can see, from the kernels, strides and dilations before it",
    8: "Measured time per training step (one batch), forward + backward: press Profile time",
    9: "The node's share of all nodes' forward + backward time",
}
ERROR_COLOR = QColor("#e53935")


class SummaryDock(QDockWidget):
    """A table like Keras' ``model.summary()``, kept current after every edit."""

    nodeActivated = Signal(str)  # a row was double-clicked: bring its node into view

    def __init__(self, controller: EditorController, parent: QWidget | None = None) -> None:
        super().__init__("Model summary", parent)
        self.setObjectName("summary")
        self.controller = controller
        self.rows: list[SummaryRow] = []
        self._cells: list[tuple[str, ...]] = []
        self._costs = CostCells()
        self.costs = CostsBar(parent, self)
        self.costs.changed.connect(self._costs_changed)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels([h[0].upper() + h[1:] for h in HEADERS])
        for column, tip in TIPS.items():
            self.table.horizontalHeaderItem(column).setToolTip(tip)
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
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.costs)
        layout.addWidget(self.table, 1)
        self.setWidget(body)
        self._syncing = False
        self._badges_shown = False
        self.table.itemSelectionChanged.connect(self._select_nodes)
        self.table.cellDoubleClicked.connect(self._activate)
        controller.shapesUpdated.connect(self._graph_changed)
        controller.documentReplaced.connect(self._graph_changed)
        controller.selectionChanged.connect(self._follow_selection)
        self.refresh()

    def total(self) -> int:
        return sum(r.params for r in self.rows)

    def row_of(self, node_id: str) -> int:
        return next(i for i, r in enumerate(self.rows) if r.node_id == node_id)

    def _graph_changed(self, *_: Any) -> None:
        self.costs.drop_times()  # measured on another graph
        self.refresh()

    def _costs_changed(self) -> None:
        self.refresh()

    def refresh(self, *_: Any) -> None:
        doc = self.controller.document
        before = self._cells
        self.rows = summarize(doc, self.controller.shapes) if len(doc) else []
        costs, flops = self._costs.cells(doc, self.controller.shapes)
        self._cells = [self._row_cells(row, costs) for row in self.rows]
        self._syncing = True
        self.table.setRowCount(len(self.rows) + 1)
        # after an edit most rows read as before: rewrite only the others (10,000 rows × 6 cells take a second)
        unchanged = len(before) == len(self.rows) and self.table.item(len(before), 0) is not None
        for i, row in enumerate(self.rows):
            if unchanged and before[i] == self._cells[i]:
                continue
            node_type = doc.node_type(row.node_id)
            for col, text in enumerate(self._cells[i]):
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
        self._total_row(len(self.rows), flops)
        self._syncing = False
        self._follow_selection()
        canvas = getattr(self.parent(), "canvas", None)
        if canvas is not None and self.costs.kind() != "none":
            canvas.set_badges(badges(self.costs.kind(), self.rows, costs, self.costs.times))
        elif canvas is not None and self._badges_shown:
            canvas.set_badges({})
        self._badges_shown = self.costs.kind() != "none"

    def _row_cells(self, row: SummaryRow, costs: dict[str, tuple[str, str]]) -> tuple[str, ...]:
        return (
            row.node_id,
            row.type_id,
            ", ".join(row.outputs),
            f"❄ {row.params:,}" if row.frozen else f"{row.params:,}",
            byte_text(row.param_bytes),
            byte_text(row.activation_bytes),
            *costs.get(row.node_id, ("", "")),
            *time_text(self.costs.times, row.node_id),
        )

    def _total_row(self, i: int, flops: int) -> None:
        font = QFont(self.table.font())
        font.setBold(True)
        t = totals(self.rows)
        split = f"trainable {t['trainable_params']:,} · frozen {t['frozen_params']:,}" if t["frozen_params"] else ""
        cells = ("Total", "", split, f"{t['params']:,}", byte_text(t["param_bytes"]))
        times = self.costs.times
        step = (f"{times.grand_total():.3g} ms", "100%") if times is not None else ("", "")
        cells = (*cells, byte_text(t["activation_bytes_per_example"]), flops_text(flops), "", *step)
        for col, text in enumerate(cells):
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
