"""A port: a small circle on a node's edge. While a wire is dragged it lights up if the wire fits."""

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
        kind = "output" if is_output else "input"
        self.setToolTip(f"{kind} '{name}'" + (f": {doc}" if doc else ""))

    def boundingRect(self) -> QRectF:
        r = style.PORT_R + 9
        return QRectF(-r, -r, 2 * r, 2 * r)

    def set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.update()

    def set_hover(self, hover: bool) -> None:
        if hover != self.hover:
            self.hover = hover
            self.update()

    def set_connected(self, connected: bool) -> None:
        if connected != self.connected:
            self.connected = connected
            self.update()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = style.PORT_R
        color = QColor("#c9ced6")
        if self.state == FIT:
            color, r = style.FIT, r + 1.5
        elif self.state == REFUSE:
            color = style.REFUSE
        elif self.state == DIM:
            color = QColor(120, 126, 135, 110)
        if self.hover:
            r += 1.5
        painter.setPen(QPen(color, 2.0))
        fill = color if (self.connected or self.state == FIT or self.hover) else style.BODY
        painter.setBrush(fill)
        painter.drawEllipse(QRectF(-r, -r, 2 * r, 2 * r))
        if self.state == FIT:
            painter.setPen(QPen(QColor(76, 208, 125, 90), 3.0))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(QRectF(-r - 3, -r - 3, 2 * r + 6, 2 * r + 6))
