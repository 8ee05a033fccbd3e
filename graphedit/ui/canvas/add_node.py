"""Adding a node on the canvas: quick add, and drops from the palette or the user's block library.

Quick add opens on Tab, a double-click on empty canvas or a wire dropped there (then the new node is wired to it).
A node type dropped onto a wire is inserted into it; a block file from the library adds its block. Either way the
node lands where it was asked for, snapped to the grid, and is moved wholly into view, in one undo step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF

from graphedit.errors import GraphEditError
from graphedit.model.events import Edge
from graphedit.ui.canvas import style

if TYPE_CHECKING:
    from graphedit.ui.canvas.view import CanvasView

NODE_MIME = "application/x-graphedit-node-type"
BLOCK_FILE_MIME = "application/x-graphedit-block-file"  # payload: the path of a block file of the user's library


class AddNodeMixin:
    """Part of :class:`graphedit.ui.canvas.view.CanvasView`; a refused edit becomes a toast."""

    def open_quick_add(
        self: CanvasView, scene_pos: QPointF | None = None, port: tuple[str, str, bool] | None = None
    ) -> None:
        """Open the search popup; the chosen type is added at ``scene_pos`` (and wired to ``port``)."""
        if scene_pos is None:
            cursor = self.mapFromGlobal(self.cursor().pos())
            if not self.viewport().rect().contains(cursor):
                cursor = self.viewport().rect().center()
            scene_pos = self.mapToScene(cursor)
        self._quick_at = QPointF(scene_pos)
        self._quick_port = port
        types = self.controller.compatible_types(port)
        self.quick_add.open(self.mapFromScene(scene_pos), types)

    def _quick_add_chosen(self: CanvasView, type_id: str) -> None:
        x, y = self._quick_at.x() - style.NODE_WIDTH / 2, self._quick_at.y() - style.HEADER_H
        if self._quick_port is not None:  # its port lands where the wire was dropped
            x += style.NODE_WIDTH / 2 if self._quick_port[2] else -style.NODE_WIDTH / 2
        pos = (style.snap(x), style.snap(y)) if self.snap else (x, y)
        try:
            if self._quick_port is None:
                with self.controller.batch(f"Add {type_id}"):
                    node_id = self.controller.add_node(type_id, pos)
                    self.keep_in_view(node_id)
            else:
                node_id = self.controller.add_node_connected(type_id, pos, self._quick_port)
        except GraphEditError as exc:
            self.show_message(str(exc), error=True)
            return
        self.scene().select_nodes([node_id])
        self.setFocus()

    def dragEnterEvent(self: CanvasView, event) -> None:
        if event.mimeData().hasFormat(NODE_MIME) or event.mimeData().hasFormat(BLOCK_FILE_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self: CanvasView, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self: CanvasView, event) -> None:
        if event.mimeData().hasFormat(BLOCK_FILE_MIME):
            event.acceptProposedAction()
            path = bytes(event.mimeData().data(BLOCK_FILE_MIME)).decode("utf-8")
            self.add_block_file(path, self.mapToScene(event.position().toPoint()))
            return
        if not event.mimeData().hasFormat(NODE_MIME):
            event.ignore()
            return
        type_id = bytes(event.mimeData().data(NODE_MIME)).decode("utf-8")
        pos = self.mapToScene(event.position().toPoint())
        edge = self.scene().edge_at(pos)
        event.acceptProposedAction()
        self.add_node_at(type_id, pos, edge.edge if edge is not None else None)

    def add_node_at(self: CanvasView, type_id: str, pos: QPointF, edge: Edge | None = None) -> str | None:
        """Add a node centred on ``pos``; onto a wire it is inserted (one undo step)."""
        x, y = pos.x() - style.NODE_WIDTH / 2, pos.y() - style.HEADER_H
        at = (style.snap(x), style.snap(y)) if self.snap else (x, y)
        try:
            with self.controller.batch(f"Add {type_id}"):
                node_id = self.controller.add_node(type_id, at)
                self.keep_in_view(node_id)
                if edge is not None:
                    self.controller.insert_on_edge(node_id, edge)
        except GraphEditError as exc:
            self.show_message(str(exc), error=True)
            return None
        self.scene().select_nodes([node_id])
        self.setFocus()
        return node_id

    def keep_in_view(self: CanvasView, node_id: str, margin: float = 12.0) -> None:
        """Move a node just added wholly into the visible part of the canvas (never half off-screen)."""
        item = self.scene().nodes.get(node_id)
        if item is None:
            return
        seen = self.mapToScene(self.viewport().rect()).boundingRect().adjusted(margin, margin, -margin, -margin)
        (w, h), x0, y0 = item.size(), item.pos().x(), item.pos().y()
        x = min(max(x0, seen.left()), max(seen.left(), seen.right() - w))
        y = min(max(y0, seen.top()), max(seen.top(), seen.bottom() - h))
        if (x, y) != (x0, y0):
            self.controller.move_nodes({node_id: (x, y)}, merge=False)
