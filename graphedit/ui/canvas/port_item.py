"""A port: a small circle on a node's edge. While a wire is dragged it lights up if the wire fits.

The item is there for hit-testing, tooltips and state; its node paints it, so a
frame costs one Python paint call per node, not one per port.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from graphedit.ui.canvas import style

NORMAL, FIT, DIM, REFUSE = "normal", "fit", "dim", "refuse"


class PortItem(QGraphicsItem):
    """Child of a NodeItem; ``state`` is one of normal, fit, dim, refuse."""

    def __init__(self, node, name: str, is_output: bool, doc: str = "") -> None:
        super().__init__(node)
        self.node_id: str = node.node_id
        self.name = name
        self.is_output = is_output
        self.connected = False
        self.state = NORMAL
        self.hover = False
        self.setZValue(2)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents)
        kind = "output" if is_output else "input"
        self.setToolTip(f"{kind} '{name}'" + (f": {doc}" if doc else ""))

    def boundingRect(self) -> QRectF:
        r = style.PORT_R + 9
        return QRectF(-r, -r, 2 * r, 2 * r)

    def set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self._changed()

    def set_hover(self, hover: bool) -> None:
        if hover != self.hover:
            self.hover = hover
            self._changed()

    def set_connected(self, connected: bool) -> None:
        if connected != self.connected:
            self.connected = connected
            self._changed()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        pass  # drawn by its node (see paint_port), inside the node's cached pixmap

    def _changed(self) -> None:
        node = self.parentItem()
        if node is not None:
            node.update()


def paint_port(painter: QPainter, port: PortItem) -> None:
    """Draw a port at its position in its node's coordinates."""
    r = style.PORT_R
    color = QColor("#c9ced6")
    if port.state == FIT:
        color, r = style.FIT, r + 1.5
    elif port.state == REFUSE:
        color = style.REFUSE
    elif port.state == DIM:
        color = QColor(120, 126, 135, 110)
    if port.hover:
        r += 1.5
    c = port.pos()
    painter.setPen(QPen(color, 2.0))
    painter.setBrush(color if (port.connected or port.state == FIT or port.hover) else style.BODY)
    painter.drawEllipse(c, r, r)
    if port.state == FIT:
        painter.setPen(QPen(QColor(76, 208, 125, 90), 3.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(c, r + 3, r + 3)
