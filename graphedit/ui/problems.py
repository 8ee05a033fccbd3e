"""The problems dock: the analysis of the graph (errors, then warnings) with fixes; clicking one selects the node."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDockWidget, QListWidget, QListWidgetItem, QStyle, QWidget

from graphedit.compiler.analysis import Problem, summary_text

if TYPE_CHECKING:
    from graphedit.ui.controller import EditorController


NODE_ROLE = Qt.ItemDataRole.UserRole


class ProblemsDock(QDockWidget):
    """What :func:`graphedit.compiler.analysis.analyze` finds, as the controller keeps it, plus node packs that
    failed to load. The status bar reads the same list, so the two always agree."""

    nodeActivated = Signal(str)  # a problem was clicked: bring its node into view

    def __init__(self, controller: EditorController, parent: QWidget | None = None) -> None:
        super().__init__("Problems", parent)
        self.setObjectName("problems")
        self.controller = controller
        self.problems: list[Problem] = []
        self.errors: list[Problem] = []
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.setWidget(self.list)
        self.list.itemClicked.connect(self._select)
        self.list.itemActivated.connect(self._select)
        controller.problemsChanged.connect(self.refresh)
        controller.documentReplaced.connect(self.refresh)
        self.refresh()

    def refresh(self, *_: Any) -> None:
        self.problems = self.controller.analysis()
        self.errors = [p for p in self.problems if p.is_error]
        self.list.clear()
        error_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical)
        warn_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        for problem in self.problems:
            fix = f"\n    Fix: {problem.fix}" if problem.fix else ""
            where = f"{problem.node_id}: " if problem.node_id else ""
            icon = error_icon if problem.is_error else warn_icon
            item = QListWidgetItem(icon, f"{where}{problem.problem}{fix}")
            item.setData(NODE_ROLE, problem.node_id)
            item.setToolTip(f"{problem.level}: {problem}")
            self.list.addItem(item)
        for message in getattr(self.controller.document.registry, "pack_errors", []):
            self.list.addItem(QListWidgetItem(warn_icon, message))
        self.setWindowTitle(f"Problems ({summary_text(self.problems)})" if self.problems else "Problems")
        if not self.list.count():
            item = QListWidgetItem("No problems: every node has its shapes, and the graph can train.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(item)

    def _select(self, item: QListWidgetItem) -> None:
        node_id = item.data(NODE_ROLE)
        if node_id and node_id in self.controller.document:
            self.controller.set_selection([node_id])
            self.nodeActivated.emit(node_id)
