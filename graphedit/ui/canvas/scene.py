"""The canvas scene: items that mirror the document, kept current by its events (QtNodes' model observer).

The scene never edits the document; interactions go through the controller,
the document emits events, and this class moves, adds and removes items in
response. After shape inference it relabels only the nodes that changed and
the wires leaving them.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPixmap, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

from graphedit.model.bulk import collection_paused
from graphedit.model.events import (
    Edge,
    EdgeAdded,
    EdgeRemoved,
    Event,
    NodeAdded,
    NodeMoved,
    NodeMuted,
    NodeRemoved,
    NodeRenamed,
    NodeTrainingChanged,
    ParamChanged,
    TypesChanged,
)
from graphedit.model.geometry import STUB, CardGrid, reach
from graphedit.model.layout import free_position
from graphedit.nodes.spec import shape_text
from graphedit.ui.canvas import style
from graphedit.ui.canvas.annotation_items import AnnotationLayer
from graphedit.ui.canvas.edge_item import EdgeItem
from graphedit.ui.canvas.node_item import NodeItem
from graphedit.ui.canvas.port_item import PortItem
from graphedit.ui.controller import EditorController

SCENE_EXTENT = 50_000.0  # the scene reaches this far from the origin, and further where the cards do (``_cover``)


def _dot_tile(step: int, dot: float) -> QPixmap:
    tile = QPixmap(step, step)
    tile.fill(style.BACKGROUND)
    p = QPainter(tile)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(style.DOT)
    p.drawEllipse(QPointF(0.0, 0.0), dot, dot)
    p.drawEllipse(QPointF(step, 0.0), dot, dot)
    p.drawEllipse(QPointF(0.0, step), dot, dot)
    p.drawEllipse(QPointF(step, step), dot, dot)
    p.end()
    return tile


def card_rect(item: NodeItem) -> tuple[float, float, float, float]:
    (w, h) = item.size()
    return (item.x(), item.y(), item.x() + w, item.y() + h)


def _overlap(r: tuple, s: tuple) -> bool:
    return r[0] < s[2] and s[0] < r[2] and r[1] < s[3] and s[1] < r[3]


class CanvasScene(QGraphicsScene):
    """Node and edge items for the controller's document; see the module doc."""

    def __init__(self, controller: EditorController, parent=None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[Edge, EdgeItem] = {}
        self._node_edges: dict[str, set[Edge]] = {}
        self._fresh_edges: set[Edge] = set()
        self._syncing = False
        self._badges: dict[str, str] = {}
        self._edge_colors: dict[tuple, QColor] = {}
        self._tiles = {1: QBrush(_dot_tile(int(style.GRID), 1.3)), 5: QBrush(_dot_tile(int(style.GRID) * 5, 3.0))}
        self.setSceneRect(QRectF(-SCENE_EXTENT, -SCENE_EXTENT, 2 * SCENE_EXTENT, 2 * SCENE_EXTENT))
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self._document = None
        self._far = False
        self.plain_background = False
        self.annotation_layer = AnnotationLayer(self)
        controller.documentReplaced.connect(self.rebuild)
        controller.levelChanged.connect(self.rebuild)
        controller.shapesUpdated.connect(self.refresh_shapes)
        controller.selectionChanged.connect(self._selection_from_controller)
        self.selectionChanged.connect(self._selection_to_controller)
        self.rebuild()

    # ------------------------------------------------------------ building
    def rebuild(self) -> None:
        with collection_paused():  # one bulk build: see graphedit/model/bulk.py
            self._rebuild()

    def _rebuild(self) -> None:
        if self._document is not None:
            self._document.unsubscribe(self.on_event)
        self._syncing = True
        self.clear()
        self.nodes.clear()
        self.edges.clear()
        self._node_edges.clear()
        self._document = doc = self.controller.document
        doc.subscribe(self.on_event)
        self.annotation_layer.rebuild()
        for node_id in doc.node_ids():
            self._add_node(node_id)
        grid = CardGrid({n: card_rect(item) for n, item in self.nodes.items()})
        for edge in doc.edges():
            self._add_edge(edge, grid)
        self._syncing = False
        self.refresh_shapes(all_nodes=True)

    def _add_node(self, node_id: str) -> NodeItem:
        doc = self.controller.document
        item = NodeItem(node_id, doc.node_type(node_id), self.controller.shown_params(node_id), doc.is_muted(node_id))
        item.setPos(*doc.position(node_id))
        self._cover(item.pos())
        item.set_muted(item.muted)
        item.set_frozen(doc.is_frozen(node_id))
        item.set_badge(self._badges.get(node_id, ""))
        info = self.controller.info(node_id)
        if info is not None:
            item.set_info(info)
        if self._far:
            item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        self.addItem(item)
        self.nodes[node_id] = item
        self._node_edges.setdefault(node_id, set())
        return item

    def _cover(self, pos: QPointF) -> None:
        """Grow the scene (doubling it) to hold a card at ``pos`` with room around it.

        Cards outside the scene rect can neither be scrolled to nor be told apart by the scene's index: they all
        land in its border cells, and every lookup there (a wire's route, a click) walks all of them, which made
        an edit at the end of a 10,000-node chain cost in proportion to the graph.
        """
        rect = self.sceneRect()
        margin = SCENE_EXTENT / 10
        if rect.adjusted(margin, margin, -margin, -margin).contains(pos):
            return
        reach_ = 2 * max(abs(pos.x()), abs(pos.y()), rect.right(), rect.bottom(), -rect.left(), -rect.top())
        self.setSceneRect(QRectF(-reach_, -reach_, 2 * reach_, 2 * reach_))

    def _add_edge(self, edge: Edge, grid: CardGrid | None = None) -> None:
        item = EdgeItem(edge)
        if self._far:
            item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        self.edges[edge] = item
        self._node_edges.setdefault(edge.src, set()).add(edge)
        self._node_edges.setdefault(edge.dst, set()).add(edge)
        self.addItem(item)
        self._place_edge(edge, grid)
        self._label_edge(edge)
        self._fresh_edges.add(edge)
        item.set_color(self._edge_colors.get(tuple(edge)))
        for node_id, port, out in ((edge.src, edge.src_port, True), (edge.dst, edge.dst_port, False)):
            port_item = self.nodes[node_id].ports.get((port, out))
            if port_item is not None:
                port_item.set_connected(True)

    def _remove_edge(self, edge: Edge) -> None:
        item = self.edges.pop(edge, None)
        if item is None:
            return
        self.removeItem(item)
        self._fresh_edges.discard(edge)
        self._node_edges.get(edge.src, set()).discard(edge)
        self._node_edges.get(edge.dst, set()).discard(edge)
        dst = self.nodes.get(edge.dst)
        if dst is not None and (port := dst.ports.get((edge.dst_port, False))) is not None:
            port.set_connected(False)
        src = self.nodes.get(edge.src)
        if src is not None and (port := src.ports.get((edge.src_port, True))) is not None:
            port.set_connected(
                any(e.src_port == edge.src_port for e in self._node_edges[edge.src] if e.src == edge.src)
            )

    def commit_text(self, item, text: str) -> None:
        """A frame's title or a note's text edited on the canvas: one undo step."""
        value = item.frame if item.kind == "frame" else item.note
        changed = replace(value, title=text) if item.kind == "frame" else replace(value, text=text)
        self.controller.set_annotation(item.kind, item.item_id, changed, f"Edit {item.kind}")

    def _place_edge(self, edge: Edge, grid: CardGrid | None = None) -> None:
        """Draw the wire: the plain curve when it crosses no other card, else routed around the cards. A wire is
        placed when one of its own nodes moves (a card dragged over a wire leaves it alone, so it can be
        dropped onto it to be inserted); ``grid`` finds the cards when the whole canvas is built."""
        item = self.edges[edge]
        a, b = self.nodes[edge.src].port_pos(edge.src_port, True), self.nodes[edge.dst].port_pos(edge.dst_port, False)
        box = (min(a.x(), b.x()), min(a.y(), b.y()), max(a.x(), b.x()), max(a.y(), b.y()))
        others = [n for n in self._cards(box, grid) if n not in (edge.src, edge.dst)]
        if b.x() - a.x() >= 2 * STUB and not others:
            item.set_ends(a, b)  # the plain curve stays inside the box of its ends
        else:
            item.set_ends(a, b, list(self._cards(reach((a.x(), a.y()), (b.x(), b.y())), grid).values()))

    def _cards(self, area: tuple[float, float, float, float], grid: CardGrid | None) -> dict[str, tuple]:
        """The cards (left, top, right, bottom) overlapping ``area``, by node."""
        if grid is not None:
            return grid.query(area)
        rect = QRectF(QPointF(area[0], area[1]), QPointF(area[2], area[3]))
        return {
            item.node_id: card_rect(item)
            for item in self.items(rect, Qt.ItemSelectionMode.IntersectsItemBoundingRect)
            if isinstance(item, NodeItem) and _overlap(card_rect(item), area)
        }

    def _label_edge(self, edge: Edge) -> None:
        info = self.controller.info(edge.src)
        shape = info.outputs.get(edge.src_port) if info is not None else None
        if shape is None:
            self.edges[edge].set_label("?" if info is not None and not info.ok else "", bad=True)
        else:
            self.edges[edge].set_label(shape_text(shape))

    def _replace_edges_of(self, node_id: str) -> None:
        for edge in self._node_edges.get(node_id, ()):
            self._place_edge(edge)

    # -------------------------------------------------------------- events
    def on_event(self, event: Event) -> None:
        if isinstance(event, NodeAdded):
            self._add_node(event.node_id)
        elif isinstance(event, NodeRemoved):
            item = self.nodes.pop(event.node_id)
            self._node_edges.pop(event.node_id, None)
            self.removeItem(item)
        elif isinstance(event, EdgeAdded):
            self._add_edge(event.edge)
        elif isinstance(event, EdgeRemoved):
            self._remove_edge(event.edge)
        elif isinstance(event, NodeMoved):
            self.nodes[event.node_id].setPos(*event.new)
            self._cover(self.nodes[event.node_id].pos())
            self._replace_edges_of(event.node_id)
        elif isinstance(event, ParamChanged):
            self.nodes[event.node_id].set_params(self.controller.shown_params(event.node_id))
            self._replace_edges_of(event.node_id)
        elif isinstance(event, NodeMuted):
            self.nodes[event.node_id].set_muted(event.muted)
        elif isinstance(event, NodeTrainingChanged):
            self.nodes[event.node_id].set_frozen(event.frozen)
        elif isinstance(event, NodeRenamed):
            self._rename(event.old_id, event.new_id)
        elif isinstance(event, TypesChanged):  # a definition was renamed or its parameters changed
            self._retype(event.type_ids)

    def _retype(self, type_ids: frozenset[str]) -> None:
        doc = self.controller.document
        for node_id, item in self.nodes.items():
            node_type = doc.node_type(node_id)
            if node_type.type_id in type_ids and node_type is not item.node_type:
                item.node_type = node_type
                item.set_params(self.controller.shown_params(node_id))
                self._replace_edges_of(node_id)

    def _rename(self, old: str, new: str) -> None:
        item = self.nodes.pop(old)
        item.set_node_id(new)
        self.nodes[new] = item
        edges = self._node_edges.pop(old, set())
        self._node_edges[new] = set()
        for edge in edges:
            edge_item = self.edges.pop(edge)
            for node in {edge.src, edge.dst} - {old}:
                self._node_edges[node].discard(edge)
            renamed = Edge(*(new if part == old else part for part in edge))
            edge_item.edge = renamed
            self.edges[renamed] = edge_item
            for node in (renamed.src, renamed.dst):
                self._node_edges.setdefault(node, set()).add(renamed)

    def refresh_shapes(self, all_nodes: bool = False) -> None:
        """Relabel the nodes shape inference changed and the wires leaving them (or everything)."""
        changed = self.nodes.keys() if all_nodes else self.controller.changed_nodes
        edges = set(self._fresh_edges)
        self._fresh_edges.clear()
        for node_id in changed:
            item = self.nodes.get(node_id)
            if item is None:
                continue
            item.set_info(self.controller.info(node_id))
            edges.update(e for e in self._node_edges.get(node_id, ()) if e.src == node_id)
        for edge in edges:
            if edge in self.edges:
                self._label_edge(edge)

    # ----------------------------------------------------------- selection
    def _selection_to_controller(self) -> None:
        if self._syncing:
            return
        self.controller.set_selection([i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)])

    def _selection_from_controller(self, node_ids: list[str]) -> None:
        if self._syncing:
            return
        current = {i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)}
        if current == set(node_ids):
            return
        self.select_nodes(node_ids)

    def select_nodes(self, node_ids, add: bool = False) -> None:
        """Select these nodes (and only these unless ``add``), telling the controller once."""
        self._syncing = True
        try:
            if not add:
                for item in self.selectedItems():
                    item.setSelected(False)
            for node_id in node_ids:
                if node_id in self.nodes:
                    self.nodes[node_id].setSelected(True)
        finally:
            self._syncing = False
        self._selection_to_controller()

    def selected_node_ids(self) -> list[str]:
        return [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]

    def selected_edges(self) -> list[Edge]:
        return [i.edge for i in self.selectedItems() if isinstance(i, EdgeItem)]

    # -------------------------------------------------------------- lookup
    def port_at(self, pos: QPointF, radius: float = 10.0) -> PortItem | None:
        rect = QRectF(pos.x() - radius, pos.y() - radius, 2 * radius, 2 * radius)
        ports = [i for i in self.items(rect) if isinstance(i, PortItem)]
        if not ports:
            return None
        return min(ports, key=lambda p: (p.scenePos() - pos).manhattanLength())

    def node_at(self, pos: QPointF) -> NodeItem | None:
        for item in self.items(pos):
            if isinstance(item, NodeItem):
                return item
        return None

    def edge_at(self, pos: QPointF) -> EdgeItem | None:
        for item in self.items(pos):
            if isinstance(item, EdgeItem):
                return item
        return None

    def nodes_in(self, rect: QRectF) -> list[str]:
        return [
            i.node_id for i in self.items(rect, Qt.ItemSelectionMode.IntersectsItemShape) if isinstance(i, NodeItem)
        ]

    def free_spot(self, center: QPointF, size: tuple[float, float] = (style.NODE_WIDTH, 120.0)) -> tuple[float, float]:
        """The top-left corner nearest to centring a new card of ``size`` on ``center`` where it covers no node."""
        cards = [
            (r.left(), r.top(), r.right(), r.bottom()) for r in (n.sceneBoundingRect() for n in self.nodes.values())
        ]
        return free_position(cards, (center.x() - size[0] / 2, center.y() - size[1] / 2), size)

    def items_rect(self) -> QRectF:
        rect = QRectF()
        for item in self.nodes.values():
            rect = rect.united(item.sceneBoundingRect())
        for item in self.edges.values():
            rect = rect.united(item.sceneBoundingRect())
        for item in self.annotation_layer.items.values():
            rect = rect.united(item.sceneBoundingRect())
        return rect

    def set_far(self, far: bool) -> None:
        """Far out, cards are flat and cheap to draw, and caching them per zoom step costs more than it saves."""
        if far == self._far:
            return
        self._far = far
        mode = QGraphicsItem.CacheMode.NoCache if far else QGraphicsItem.CacheMode.DeviceCoordinateCache
        for item in self.nodes.values():
            item.setCacheMode(mode)
        for item in self.edges.values():
            item.setCacheMode(mode)

    # ------------------------------------------------------- live overlays
    def set_badges(self, badges: dict[str, str]) -> None:
        self._badges = dict(badges)
        for node_id, item in self.nodes.items():
            item.set_badge(self._badges.get(node_id, ""))

    def set_edge_colors(self, colors: dict[tuple, QColor]) -> None:
        self._edge_colors = {tuple(k): v for k, v in colors.items()}
        for edge, item in self.edges.items():
            item.set_color(self._edge_colors.get(tuple(edge)))

    # ---------------------------------------------------------- background
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        if self.plain_background:  # a picture of the graph: no dot grid
            return
        scale = painter.worldTransform().m11()
        brush = QBrush(self._tiles[1] if scale >= 0.45 else self._tiles[5])
        brush.setTransform(QTransform())
        painter.fillRect(rect, brush)
