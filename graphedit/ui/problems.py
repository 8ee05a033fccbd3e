"""The problems dock: every node error with its fix; clicking one selects the node."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDockWidget, QListWidget, QListWidgetItem, QStyle, QWidget

from graphedit.errors import NodeError

NODE_ROLE = Qt.ItemDataRole.UserRole


class ProblemsDock(QDockWidget):
    """Errors of shape inference in graph order, plus node packs that failed to load."""

    nodeActivated = Signal(str)  # a problem was clicked: bring its node into view

    def __init__(self, controller: Any, parent: QWidget | None = None) -> None:
        super().__init__("Problems", parent)
        self.setObjectName("problems")
        self.controller = controller
        self.errors: list[NodeError] = []
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.setWidget(self.list)
        self.list.itemClicked.connect(self._select)
        self.list.itemActivated.connect(self._select)
        controller.shapesUpdated.connect(self.refresh)
        controller.documentReplaced.connect(self.refresh)
        self.refresh()

    def refresh(self, *_: Any) -> None:
        self.errors = self.controller.shapes.errors() if len(self.controller.document) else []
        self.list.clear()
        error_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical)
        warn_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        for error in self.errors:
            fix = f"\n    Fix: {error.fix}" if error.fix else ""
            item = QListWidgetItem(error_icon, f"{error.node_id}: {error.problem}{fix}")
            item.setData(NODE_ROLE, error.node_id)
            item.setToolTip(str(error))
            self.list.addItem(item)
        for message in getattr(self.controller.document.registry, "pack_errors", []):
            self.list.addItem(QListWidgetItem(warn_icon, message))
        count = len(self.errors)
        self.setWindowTitle(f"Problems ({count})" if count else "Problems")
        if not self.list.count():
            item = QListWidgetItem("No problems: every node has its shapes.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(item)

    def _select(self, item: QListWidgetItem) -> None:
        node_id = item.data(NODE_ROLE)
        if node_id and node_id in self.controller.document:
            self.controller.set_selection([node_id])
            self.nodeActivated.emit(node_id)
