"""A wire: a horizontal bezier from an output port to an input port, labelled with its tensor shape."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from graphedit.model.events import Edge
from graphedit.model.geometry import Rect, curve_controls, wire_route
from graphedit.ui.canvas import style

LOD_LABEL = 0.45


def wire_path(a: QPointF, b: QPointF) -> QPainterPath:
    """A cubic from ``a`` leaving rightwards to ``b`` entering from the left."""
    (c1x, c1y), (c2x, c2y) = curve_controls((a.x(), a.y()), (b.x(), b.y()))
    path = QPainterPath(a)
    path.cubicTo(QPointF(c1x, c1y), QPointF(c2x, c2y), b)
    return path


def route_path(corners: list[tuple[float, float]], radius: float = 10.0) -> QPainterPath:
    """An orthogonal route through ``corners`` with its corners rounded."""
    points = [QPointF(x, y) for x, y in corners]
    path = QPainterPath(points[0])
    for before, corner, after in zip(points, points[1:], points[2:]):
        into, out = corner - before, after - corner
        r = min(radius, (abs(into.x()) + abs(into.y())) / 2, (abs(out.x()) + abs(out.y())) / 2)
        unit_in = into / max(abs(into.x()) + abs(into.y()), 1e-9)
        unit_out = out / max(abs(out.x()) + abs(out.y()), 1e-9)
        path.lineTo(corner - unit_in * r)
        path.quadTo(corner, corner + unit_out * r)
    path.lineTo(points[-1])
    return path


def _track_middle(corners: list[tuple[float, float]]) -> QPointF:
    """The middle of a route's longest horizontal run, where its shape label goes."""
    runs = [(abs(q[0] - p[0]), p, q) for p, q in zip(corners, corners[1:]) if p[1] == q[1]]
    _, p, q = max(runs, default=(0.0, corners[0], corners[-1]))
    return QPointF((p[0] + q[0]) / 2, (p[1] + q[1]) / 2)


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
        self._middle = QPointF()
        self._shape = QPainterPath()
        self._label_rect = QRectF()
        self._bounds = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(0)

    def set_ends(self, a: QPointF, b: QPointF, cards: list[Rect] = ()) -> None:
        """Draw the wire from ``a`` to ``b``, routed around ``cards`` (left, top, right, bottom) if the plain
        curve would cross one."""
        self.prepareGeometryChange()
        corners = wire_route((a.x(), a.y()), (b.x(), b.y()), list(cards))
        self._path = route_path(corners) if corners else wire_path(a, b)
        self._ends = (QPointF(a), QPointF(b))
        self._middle = _track_middle(corners) if corners else (a + b) / 2
        stroker = QPainterPathStroker()
        stroker.setWidth(12.0)
        self._shape = stroker.createStroke(self._path)
        self._place_label()

    def _place_label(self) -> None:
        start, end = self._ends
        mid = self.midpoint()
        width = QFontMetricsF(style.font(7.5)).horizontalAdvance(self.label) + 12 if self.label else 0.0
        self._label_rect = QRectF(mid.x() - width / 2, mid.y() - 8, width, 16)
        if (
            width and abs(end.x() - start.x()) < width + 24 and self._middle == (start + end) / 2
        ):  # a short wire: the label sits above it
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
        """Half-way along the wire: the centre of the cubic, as it is point-symmetric about it, or the middle of
        a route's longest run.

        (``pointAtPercent`` measures the curve's length: a third of a millisecond per wire, 3 s for 10,000 wires.)
        """
        return QPointF(self._middle)

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
