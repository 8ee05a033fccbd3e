"""The canvas while training: a live badge on each node and wires coloured by gradient norm.

Badges read "μ 0.12 σ 0.8" (mean and spread of the node's output on the probe
batch) or "dead 43%" where many outputs are exactly zero (ReLUs that never
fire). A wire's colour is the gradient norm of the layer it feeds (or, past
layers without weights, of the nearest layer with weights before it), on a
log scale from dim (vanishing) to bright (large): in a deep plain network
the early wires go dark, with skip connections they stay lit (lesson 5).

Inside an open block the badges and wire colours are those of the open copy's inner nodes: the probes record
every copy of each block node under its path (``layer1/conv1`` in the first copy, ``layer1[1]/conv1`` in the
second, ``layer2/downsample/0`` nested), activations and gradient norms alike.

Also reports which node the mouse is over, for views that follow the hover.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QColor

from graphedit.model.blocks import copy_path

if TYPE_CHECKING:
    from graphedit.model.document import GraphDocument
    from graphedit.ui.canvas.view import CanvasView
    from graphedit.ui.controller import EditorController

DEAD_SHOWN = 0.05  # from this fraction of exact zeros on, the badge shows the dead fraction


def badge_text(act: dict[str, Any]) -> str:
    if act.get("zeros", 0.0) >= DEAD_SHOWN:
        return f"dead {act['zeros']:.0%}"
    return f"μ {act['mean']:.2g} σ {act['std']:.2g}"


def level_prefix(controller: EditorController) -> str:
    """The probe key prefix of the block copy the canvas shows: ``""`` at the top, ``layer1/`` inside the first
    copy of ``layer1``, ``layer1[1]/`` inside its second (see :func:`graphedit.model.blocks.copy_path`)."""
    prefix = ""
    for level in getattr(controller, "levels", ()):
        repeat = level.parent.params(level.node_id).get("repeat", 1) if level.node_id in level.parent else 1
        prefix += copy_path(level.node_id, min(level.copy, max(1, int(repeat)) - 1)) + "/"
    return prefix


def at_level(values: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The entries of a probe's per-node ``values`` under ``prefix``, keyed by the shown document's node ids."""
    if not prefix:
        return {k: v for k, v in values.items() if "/" not in k}
    return {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix) and "/" not in k[len(prefix) :]}


def gradient_of_edges(document: GraphDocument, gradients: dict[str, dict[str, float]]) -> dict[tuple, float]:
    """Each wire's gradient norm: of its target if that has weights, else of the nearest weighted node upstream."""
    cache: dict[str, float | None] = {}

    def upstream(node_id: str, depth: int = 0) -> float | None:
        if node_id in gradients:
            return gradients[node_id]["grad_norm"]
        if node_id in cache:
            return cache[node_id]
        cache[node_id] = None
        edges = document.in_edges(node_id) if depth < 200 else []
        for edge in edges:
            value = upstream(edge.src, depth + 1)
            if value is not None:
                cache[node_id] = value
                break
        return cache[node_id]

    out = {}
    for edge in document.edges():
        value = gradients[edge.dst]["grad_norm"] if edge.dst in gradients else upstream(edge.src)
        if value is not None and math.isfinite(value):
            out[tuple(edge)] = value
    return out


def edge_colors(values: dict[tuple, float]) -> dict[tuple, QColor]:
    """Log-scaled from the smallest to the largest norm of this probe through 'plasma'."""
    logs = {k: math.log10(max(v, 1e-12)) for k, v in values.items()}
    if not logs:
        return {}
    lo, hi = min(logs.values()), max(logs.values())
    span = max(hi - lo, 0.3)  # within a factor of 2 everything is about as lit
    import pyqtgraph as pg  # here, not at the top: the editor starts without pyqtgraph (the first probe loads it)

    cmap = pg.colormap.get("plasma")
    out = {}
    for key, value in logs.items():
        rgb = cmap.map(0.25 + 0.73 * (value - lo) / span, mode="byte")
        out[key] = QColor(int(rgb[0]), int(rgb[1]), int(rgb[2]))
    return out


class CanvasOverlay(QObject):
    """Puts badges and wire colours on a CanvasView; ``hovered`` tells which node is under the mouse."""

    hovered = Signal(object)  # node id or None

    def __init__(self, controller: EditorController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.canvas: CanvasView | None = None
        self.badges_on = True
        self.edges_on = True
        self.hover: str | None = None
        self.badges: dict[str, str] = {}
        self.colors: dict[tuple, QColor] = {}

    def set_canvas(self, canvas: CanvasView | None) -> None:
        if self.canvas is canvas:
            return
        if self.canvas is not None:
            self.canvas.viewport().removeEventFilter(self)
        self.canvas = canvas
        if canvas is not None:
            canvas.viewport().installEventFilter(self)

    def set_enabled(self, badges: bool | None = None, edges: bool | None = None) -> None:
        if badges is not None:
            self.badges_on = bool(badges)
            if not badges and self.canvas is not None:
                self.canvas.set_badges({})
        if edges is not None:
            self.edges_on = bool(edges)
            if not edges and self.canvas is not None:
                self.canvas.set_edge_colors({})

    def update(self, probe: dict[str, Any] | None) -> None:
        """Compute badges and colours from a probe payload and, where switched on, show them."""
        probe = probe or {}
        document = self.controller.document
        nodes = set(document.node_ids())
        prefix = level_prefix(self.controller)
        acts = at_level(probe.get("activations") or {}, prefix)
        self.badges = {n: badge_text(a) for n, a in acts.items() if n in nodes}
        gradients = at_level(probe.get("inner_gradients" if prefix else "gradients") or {}, prefix)
        self.colors = edge_colors(gradient_of_edges(document, gradients))
        if self.canvas is None:
            return
        if self.badges_on:
            self.canvas.set_badges(self.badges)
        if self.edges_on:
            self.canvas.set_edge_colors(self.colors)

    def clear(self) -> None:
        self.badges, self.colors = {}, {}
        if self.canvas is not None:
            self.canvas.set_badges({})
            self.canvas.set_edge_colors({})

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.MouseMove and self.canvas is not None:
            item = self.canvas.scene().node_at(self.canvas.mapToScene(event.position().toPoint()))
            node_id = getattr(item, "node_id", None)
            if node_id != self.hover:
                self.hover = node_id
                self.hovered.emit(node_id)
        elif kind == QEvent.Type.Leave and self.hover is not None:
            self.hover = None
            self.hovered.emit(None)
        return False
