"""Mouse modes as small objects (after orange-canvas-core's document/interactions.py).

The view starts one on a mouse press and feeds it moves until the release.
Each mode edits only through the controller; what changes on screen comes
back as document events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from graphedit.compiler.shapes import port_accepts
from graphedit.errors import GraphEditError
from graphedit.model.events import Edge
from graphedit.ui.canvas import style
from graphedit.ui.canvas.edge_item import DraggedWire, EdgeItem
from graphedit.ui.canvas.node_item import LOD_TEXT, NodeItem
from graphedit.ui.canvas.port_item import DIM, FIT, NORMAL, REFUSE, PortItem
from graphedit.ui.wire_edits import fitting_port

if TYPE_CHECKING:
    from graphedit.ui.canvas.view import CanvasView


class Interaction:
    """A mouse mode: ``move`` and ``release`` get scene positions; ``cancel`` undoes what is on screen."""

    def __init__(self, view: CanvasView) -> None:
        self.view = view
        self.scene = view.scene()
        self.controller = view.controller

    def move(self, event: QMouseEvent, pos: QPointF) -> None:
        pass

    def release(self, event: QMouseEvent, pos: QPointF) -> None:
        pass

    def cancel(self) -> None:
        pass


class PanInteraction(Interaction):
    """Middle drag, or space + left drag: scroll the view."""

    def __init__(self, view: CanvasView, event: QMouseEvent) -> None:
        super().__init__(view)
        self.last = event.position()
        view.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)

    def move(self, event: QMouseEvent, pos: QPointF) -> None:
        delta = event.position() - self.last
        self.last = event.position()
        h, v = self.view.horizontalScrollBar(), self.view.verticalScrollBar()
        h.setValue(h.value() - round(delta.x()))
        v.setValue(v.value() - round(delta.y()))

    def release(self, event: QMouseEvent, pos: QPointF) -> None:
        self.cancel()

    def cancel(self) -> None:
        self.view.viewport().unsetCursor()


class RubberBandInteraction(Interaction):
    """Left drag on empty canvas: select the nodes the rectangle touches (Ctrl/Shift adds)."""

    def __init__(self, view: CanvasView, pos: QPointF, add: bool) -> None:
        super().__init__(view)
        self.origin = pos
        self.add = add
        self.before = self.scene.selected_node_ids() if add else []
        if not add:
            self.scene.select_nodes([])
        self.band = QGraphicsRectItem()
        self.band.setPen(QPen(style.SELECTED, 1.0, Qt.PenStyle.DashLine))
        self.band.setBrush(QColor(245, 165, 36, 30))
        self.band.setZValue(10)
        self.scene.addItem(self.band)

    def move(self, event: QMouseEvent, pos: QPointF) -> None:
        rect = QRectF(self.origin, pos).normalized()
        self.band.setRect(rect)
        self.scene.select_nodes(self.before + self.scene.nodes_in(rect))

    def release(self, event: QMouseEvent, pos: QPointF) -> None:
        self.cancel()

    def cancel(self) -> None:
        if self.band.scene() is not None:
            self.scene.removeItem(self.band)


class MoveInteraction(Interaction):
    """Left drag on a node: move the selection (snapped to the grid); all moves are one undo step.

    A lone, unwired node dropped onto a wire is inserted into it.
    """

    def __init__(self, view: CanvasView, item: NodeItem, pos: QPointF) -> None:
        super().__init__(view)
        self.item = item
        self.origin = pos
        self.starts = {n: self.controller.document.position(n) for n in self.scene.selected_node_ids()}
        self.moved = False
        self.hot_edge: EdgeItem | None = None
        doc = self.controller.document
        self.can_insert = len(self.starts) == 1 and not doc.in_edges(item.node_id) and not doc.out_edges(item.node_id)

    def move(self, event: QMouseEvent, pos: QPointF) -> None:
        delta = pos - self.origin
        if not self.moved and delta.manhattanLength() < 3:
            return
        self.moved = True
        ax, ay = self.starts[self.item.node_id]
        nx_, ny = ax + delta.x(), ay + delta.y()
        if self.view.snap:
            nx_, ny = style.snap(nx_), style.snap(ny)
        dx, dy = nx_ - ax, ny - ay
        self.controller.move_nodes({n: (x + dx, y + dy) for n, (x, y) in self.starts.items()})
        if self.can_insert:
            self._hover_edge()

    def _hover_edge(self) -> None:
        center = self.item.sceneBoundingRect().center()
        edge = self.scene.edge_at(center)
        if edge is not self.hot_edge:
            if self.hot_edge is not None:
                self.hot_edge.set_hot(False)
            self.hot_edge = edge
            if edge is not None:
                edge.set_hot(True)
            self.item.set_hot(edge is not None)

    def release(self, event: QMouseEvent, pos: QPointF) -> None:
        self.controller.finish_moves()
        if self.hot_edge is not None:
            edge = self.hot_edge.edge
            self.cancel()
            try:
                self.controller.insert_on_edge(self.item.node_id, edge)
            except GraphEditError as exc:
                self.view.show_message(str(exc), error=True)
        elif not self.moved and not (
            event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        ):
            self.scene.select_nodes([self.item.node_id])

    def cancel(self) -> None:
        if self.hot_edge is not None:
            self.hot_edge.set_hot(False)
            self.hot_edge = None
        self.item.set_hot(False)


class WireInteraction(Interaction):
    """Left drag from a port: draw a wire; fitting ports light up; refused drops say why.

    From a wired input the wire is lifted off (Blender): dropping elsewhere moves it,
    dropping on empty canvas disconnects it. From an output, a drop on empty canvas
    opens quick add for types that fit.
    """

    def __init__(self, view: CanvasView, port: PortItem) -> None:
        super().__init__(view)
        doc = self.controller.document
        self.lifted: Edge | None = None
        if not port.is_output and (edge := doc.edge_into(port.node_id, port.name)) is not None:
            self.lifted = edge
            port = self.scene.nodes[edge.src].ports[(edge.src_port, True)]
            self.scene.edges[edge].setVisible(False)
        self.port = port
        self.wire = DraggedWire(port.scenePos(), port.is_output)
        self.scene.addItem(self.wire)
        # nodes a wire from here may not reach without closing a cycle
        if port.is_output:
            self.blocked = nx.ancestors(doc.graph, port.node_id) | {port.node_id}
        else:
            self.blocked = doc.descendants(port.node_id) | {port.node_id}
        self.hover: PortItem | None = None
        self._shape_ok: dict[tuple[str, str], bool] = {}
        self._light(True)

    def _fits(self, target: PortItem) -> bool:
        """Whether the wire may end here at all (direction, no cycle); a refused drop says why."""
        return target.is_output != self.port.is_output and target.node_id not in self.blocked

    def _shape_fits(self, target: PortItem) -> bool:
        """Whether the node would compute with this wire: such ports light up (a drop elsewhere still connects)."""
        key = (target.node_id, target.name)
        if key not in self._shape_ok:
            shapes = self.controller.shapes
            if self.port.is_output:
                shape = shapes.infos.get(self.port.node_id)
                shape = shape.outputs.get(self.port.name) if shape is not None else None
                self._shape_ok[key] = port_accepts(shapes, target.node_id, target.name, shape)
            else:
                info = shapes.infos.get(target.node_id)
                shape = info.outputs.get(target.name) if info is not None else None
                self._shape_ok[key] = port_accepts(shapes, self.port.node_id, self.port.name, shape)
        return self._shape_ok[key]

    def _state(self, target: PortItem) -> str:
        return FIT if self._fits(target) and self._shape_fits(target) else DIM

    def _light(self, on: bool) -> None:
        visible = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        ports_drawn = self.view.zoom() >= LOD_TEXT  # far out, cards are flat: no ports to light
        for node in self.scene.nodes.values():
            on_screen = ports_drawn and node.sceneBoundingRect().intersects(visible)
            for target in node.ports.values():
                if not on:
                    target.set_state(NORMAL)
                elif target is self.port:
                    continue
                elif not self._fits(target):
                    target.set_state(DIM)
                else:  # shapes are checked where the user can see them; others when hovered
                    target.set_state(self._state(target) if on_screen else FIT)

    def move(self, event: QMouseEvent, pos: QPointF) -> None:
        target = self.scene.port_at(pos, radius=14)
        if target is not None and target.is_output == self.port.is_output:
            target = None
        if self.hover is not None and self.hover is not target:
            self.hover.set_hover(False)
            self.hover.set_state(self._state(self.hover))
        self.hover = target
        refused = False
        if target is not None:
            target.set_hover(True)
            refused = not self._fits(target)
            target.set_state(REFUSE if refused else self._state(target))
            pos = target.scenePos()
        self.wire.move_to(pos, refused)

    def _edge_to(self, node_id: str, port: str) -> tuple[str, str, str, str]:
        if self.port.is_output:
            return (self.port.node_id, self.port.name, node_id, port)
        return (node_id, port, self.port.node_id, self.port.name)

    def release(self, event: QMouseEvent, pos: QPointF) -> None:
        target = self.hover
        self.cancel()
        if target is None:
            node = self.scene.node_at(pos)
            if node is not None and node.node_id != self.port.node_id:
                name = fitting_port(self.controller.document, node.node_id, want_input=self.port.is_output)
                if name is not None:
                    self._connect(self._edge_to(node.node_id, name))
                return
            if self.lifted is not None:
                self.controller.disconnect(self.lifted)
                return
            if node is None:
                self.view.open_quick_add(pos, (self.port.node_id, self.port.name, self.port.is_output))
            return
        self._connect(self._edge_to(target.node_id, target.name))

    def _connect(self, edge: tuple[str, str, str, str]) -> None:
        try:
            if self.lifted is not None and tuple(self.lifted) != edge:
                with self.controller.batch("Move wire"):
                    self.controller.disconnect(self.lifted)
                    self.controller.connect(*edge)
            elif self.lifted is None:
                self.controller.connect(*edge)
        except GraphEditError as exc:
            self.view.show_message(str(exc), error=True)

    def cancel(self) -> None:
        if self.hover is not None:
            self.hover.set_hover(False)
        self._light(False)
        if self.wire.scene() is not None:
            self.scene.removeItem(self.wire)
        if self.lifted is not None and self.lifted in self.scene.edges:
            self.scene.edges[self.lifted].setVisible(True)
