"""A wire: a horizontal bezier from an output port to an input port, labelled with its tensor shape."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from graphedit.model.events import Edge
from graphedit.ui.canvas import style

LOD_LABEL = 0.45


def wire_path(a: QPointF, b: QPointF) -> QPainterPath:
    """A cubic from ``a`` leaving rightwards to ``b`` entering from the left."""
    dx = max(abs(b.x() - a.x()) * 0.5, 40.0)
    path = QPainterPath(a)
    path.cubicTo(QPointF(a.x() + dx, a.y()), QPointF(b.x() - dx, b.y()), b)
    return path


class EdgeItem(QGraphicsItem):
    """One edge of the document; ``label`` is its shape text ("[N, 16, 16, 16]")."""

    def __init__(self, edge: Edge) -> None:
        super().__init__()
        self.edge = edge
        self.label = ""
        self.bad = False  # the source has no value (error upstream)
        self.hot = False  # a dragged node would be inserted here
        self.color: QColor | None = None
        self._path = QPainterPath()
        self._ends = (QPointF(), QPointF())
        self._shape = QPainterPath()
        self._label_rect = QRectF()
        self._bounds = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(0)

    def set_ends(self, a: QPointF, b: QPointF) -> None:
        self.prepareGeometryChange()
        self._path = wire_path(a, b)
        self._ends = (QPointF(a), QPointF(b))
        stroker = QPainterPathStroker()
        stroker.setWidth(12.0)
        self._shape = stroker.createStroke(self._path)
        self._place_label()

    def _place_label(self) -> None:
        start, end = self._ends
        mid = self.midpoint()
        width = QFontMetricsF(style.font(7.5)).horizontalAdvance(self.label) + 12 if self.label else 0.0
        self._label_rect = QRectF(mid.x() - width / 2, mid.y() - 8, width, 16)
        if width and abs(end.x() - start.x()) < width + 24:  # a short wire: the label sits above it
            self._label_rect.translate(0, -15)
        self._bounds = self._path.boundingRect().adjusted(-4, -4, 4, 4).united(self._label_rect.adjusted(-2, -2, 2, 2))

    def set_label(self, text: str, bad: bool = False) -> None:
        if text == self.label and bad == self.bad:
            return
        self.prepareGeometryChange()
        self.label, self.bad = text, bad
        self._place_label()
        self.update()

    def set_color(self, color: QColor | None) -> None:
        self.color = color
        self.update()

    def set_hot(self, hot: bool) -> None:
        if hot != self.hot:
            self.hot = hot
            self.update()

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        return self._shape

    def midpoint(self) -> QPointF:
        """Half-way along the wire: the centre, as the cubic is point-symmetric about it.

        (``pointAtPercent`` measures the curve's length: a third of a millisecond per wire, 3 s for 10,000 wires.)
        """
        start, end = self._ends
        return (start + end) / 2

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = self.isSelected()
        color = self.color or (style.WIRE_BLOCKED if self.bad else style.WIRE)
        if self.hot:
            color = style.FIT
        elif selected:
            color = style.SELECTED
        pen = QPen(color, 3.0 if (selected or self.hot) else 2.0)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if not self.label or painter.worldTransform().m11() < LOD_LABEL:
            return
        painter.setPen(QPen(color.darker(140), 1.0))
        painter.setBrush(style.LABEL_BG)
        painter.drawRoundedRect(self._label_rect, 8, 8)
        painter.setFont(style.font(7.5))
        painter.setPen(style.TEXT if not self.bad else style.TEXT_DIM)
        painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignCenter, self.label)


class DraggedWire(QGraphicsItem):
    """The wire that follows the mouse while connecting; red when the drop would be refused."""

    def __init__(self, anchor: QPointF, from_output: bool) -> None:
        super().__init__()
        self.anchor = anchor
        self.from_output = from_output
        self.refused = False
        self._path = QPainterPath()
        self.setZValue(5)
        self.move_to(anchor)

    def move_to(self, end: QPointF, refused: bool = False) -> None:
        self.prepareGeometryChange()
        self.refused = refused
        a, b = (self.anchor, end) if self.from_output else (end, self.anchor)
        self._path = wire_path(a, b)
        self.update()

    def boundingRect(self) -> QRectF:
        return self._path.boundingRect().adjusted(-4, -4, 4, 4)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(style.REFUSE if self.refused else style.TEXT, 2.0, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawPath(self._path)
