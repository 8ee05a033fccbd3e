"""The canvas's block commands: group, ungroup, open and leave a block, add a block from the user's library."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QTimer

from graphedit.errors import GraphEditError
from graphedit.ui.canvas import style

if TYPE_CHECKING:
    from graphedit.ui.canvas.view import CanvasView


class BlockViewMixin:
    """Part of :class:`graphedit.ui.canvas.view.CanvasView`; refused edits become a toast."""

    def group_selected(self: CanvasView) -> None:
        try:
            self.controller.group(self.scene().selected_node_ids())
        except GraphEditError as exc:
            self.show_message(str(exc), error=True)

    def ungroup_selected(self: CanvasView) -> None:
        blocks = [n for n in self.scene().selected_node_ids() if self.controller.document.node_type(n).block]
        if not blocks:
            self.show_message("Select a block node to ungroup.", error=True)
            return
        try:
            with self.controller.batch("Ungroup"):
                for node_id in blocks:
                    self.controller.ungroup(node_id)
        except GraphEditError as exc:
            self.show_message(str(exc), error=True)

    def enter_block(self: CanvasView, node_id: str) -> None:
        """Open a block node; with an error inside, open down to the inner node that has it and select that."""
        info = self.controller.info(node_id)
        if info is not None and info.error is not None and info.error.path:
            self.controller.open_error(node_id)
            selected = self.controller.selection()
            if selected:
                QTimer.singleShot(0, lambda: self.focus_node(selected[0]))
        else:
            self.controller.enter_block(node_id)

    def go_to_problem(self: CanvasView, node_id: str) -> None:
        """From the Problems list: a block node whose error is inside opens down to the inner node."""
        if node_id not in self.controller.document and node_id in self.controller.root:
            self.controller.leave_block(0)  # a problem of the project's graph
        info = self.controller.info(node_id)
        if info is not None and info.error is not None and info.error.path and node_id in self.controller.document:
            self.enter_block(node_id)
        else:
            self.focus_node(node_id)

    def leave_block(self: CanvasView) -> None:
        self.controller.leave_block()

    def _level_changed(self: CanvasView) -> None:
        self.keymap.leave_block.setEnabled(bool(self.controller.levels))
        doc = self.controller.document
        if len(doc) > 1 and len({doc.position(n) for n in doc.node_ids()}) == 1:
            self.auto_layout()  # a definition written by a program, all nodes at one point: lay it out (undoable)
        self.zoom_to_fit()

    def add_block_file(self: CanvasView, path: str, pos: QPointF) -> str | None:
        """Add an instance of a block from the user's library (its definitions join the project)."""
        x, y = pos.x() - style.NODE_WIDTH / 2, pos.y() - style.HEADER_H
        try:
            node_id = self.controller.add_block_file(path, (style.snap(x), style.snap(y)))
        except GraphEditError as exc:
            self.show_message(str(exc), error=True)
            return None
        self.setFocus()
        return node_id
