"""A node on the canvas: a rounded card with a coloured header, key parameters, ports and a footer.

The item only shows the document; it never changes it. Its painting is
cached per device transform, so panning costs a pixmap blit, and far out
it draws a plain card without text (level of detail).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from graphedit.compiler.shapes import NodeInfo
from graphedit.model.geometry import card_layout
from graphedit.nodes.spec import NodeType, shape_text
from graphedit.ui.canvas import style
from graphedit.ui.canvas.port_item import PortItem, paint_port

LOD_TEXT = 0.4  # below this scale the card is drawn without text


def param_text(node_type: NodeType, params: dict[str, Any]) -> str:
    """``filters 16 · kernel 5 · stride 2`` from the type's key parameters."""
    parts = []
    for name in node_type.key_params:
        value = params.get(name)
        if isinstance(value, (tuple, list)):
            value = "[" + ", ".join(map(str, value)) + "]"
        elif isinstance(value, float):
            value = f"{value:g}"
        elif value == "":
            continue
        parts.append(f"{name} {value}")
    return " · ".join(parts)


def count_text(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:.1f}M params"
    if n >= 10_000:
        return f"{n / 1e3:.1f}k params"
    return f"{n:,} params" if n else ""


class NodeItem(QGraphicsItem):
    """One node; ``ports`` maps (name, is_output) to its :class:`PortItem` children."""

    def __init__(self, node_id: str, node_type: NodeType, params: dict[str, Any], muted: bool = False) -> None:
        super().__init__()
        self.node_id = node_id
        self.node_type = node_type
        self.params = params
        self.muted = muted
        self.frozen = False
        self.info: NodeInfo | None = None
        self.badge = ""
        self.hot = False  # a dragged node hovers a wire, or a wire hovers this node
        self.ports: dict[tuple[str, bool], PortItem] = {}
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(False)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(1)
        self._layout()

    # ----------------------------------------------------------- geometry
    def _layout(self) -> None:
        self.prepareGeometryChange()
        ins = self.node_type.input_ports(self.params)
        outs = self.node_type.output_ports(self.params)
        self._key = param_text(self.node_type, self.params)
        self._height, top = card_layout(self.node_type, self.params)
        self._ports_top = top
        self._bounds = QRectF(-14, -12, style.NODE_WIDTH + 28, self._height + 18)
        old = self.ports
        self.ports = {}
        for is_output, ports in ((False, ins), (True, outs)):
            for i, port in enumerate(ports):
                key = (port.name, is_output)
                item = old.pop(key, None) or PortItem(self, port.name, is_output, port.doc)
                item.setPos(style.NODE_WIDTH if is_output else 0.0, top + (i + 0.5) * style.ROW_H)
                self.ports[key] = item
        for item in old.values():
            item.setParentItem(None)
            if item.scene() is not None:
                item.scene().removeItem(item)
        self._update_tooltip()
        self.update()

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, style.NODE_WIDTH, self._height), style.RADIUS, style.RADIUS)
        return path

    def size(self) -> tuple[float, float]:
        return style.NODE_WIDTH, self._height

    def port_pos(self, name: str, is_output: bool) -> QPointF:
        item = self.ports.get((name, is_output))
        if item is None:
            return self.scenePos()
        return self.scenePos() + item.pos()

    # -------------------------------------------------------------- state
    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params
        self._layout()

    def set_node_id(self, node_id: str) -> None:
        self.node_id = node_id
        for port in self.ports.values():
            port.node_id = node_id
        self.update()

    def set_frozen(self, frozen: bool) -> None:
        """A frozen node's weights are not trained: its header says so."""
        self.frozen = frozen
        self.update()

    def set_muted(self, muted: bool) -> None:
        self.muted = muted
        self.setOpacity(0.55 if muted else 1.0)
        self.update()

    def set_info(self, info: NodeInfo | None) -> None:
        self.info = info
        self._update_tooltip()
        self.update()

    def set_badge(self, text: str) -> None:
        if text != self.badge:
            self.badge = text
            self.update()

    def set_hot(self, hot: bool) -> None:
        if hot != self.hot:
            self.hot = hot
            self.update()

    @property
    def error(self):
        return self.info.error if self.info is not None else None

    def _update_tooltip(self) -> None:
        if self.error is not None:
            fix = f" — Fix: {self.error.fix}" if self.error.fix else ""
            self.setToolTip(f"{self.error.problem}{fix}")
        else:
            t = self.node_type
            self.setToolTip(f"{t.title}: {t.doc}" + (f"\n{t.formula}" if t.formula else ""))

    def footer_text(self) -> str:
        info = self.info
        if info is None:
            return ""
        if info.error is not None:
            return "⚠ " + info.error.problem
        if info.blocked:
            return "? waits for its inputs"
        shapes = info.outputs.values() if info.outputs else info.inputs.values()
        text = ", ".join(shape_text(s) for s in shapes)
        count = count_text(info.params)
        return " · ".join(p for p in (text, count) if p)

    # ----------------------------------------------------------- painting
    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        lod = painter.worldTransform().m11()
        w, h = style.NODE_WIDTH, self._height
        rect = QRectF(0, 0, w, h)
        selected = self.isSelected()
        error = self.info is not None and self.info.error is not None
        header = style.family_color(self.node_type.category)
        if self.muted:
            header = QColor("#555a61")
        elif error:
            header = style.ERROR.darker(125)
        if lod < LOD_TEXT:  # far out: flat card, no text, no ports
            painter.fillRect(rect, style.BODY_MUTED if self.muted else style.BODY)
            painter.fillRect(QRectF(0, 0, w, style.HEADER_H), header)
            if error or selected:
                painter.setPen(QPen(style.ERROR if error else style.SELECTED, 6.0))
                painter.drawRect(rect)
            return
        body = QPainterPath()
        body.addRoundedRect(rect, style.RADIUS, style.RADIUS)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillPath(body, style.BODY_MUTED if self.muted else style.BODY)
        top = QPainterPath()
        top.addRoundedRect(QRectF(0, 0, w, style.HEADER_H + style.RADIUS), style.RADIUS, style.RADIUS)
        clip = QPainterPath()
        clip.addRect(QRectF(0, 0, w, style.HEADER_H))
        painter.fillPath(top.intersected(clip), header)
        if error:
            edge = QPen(style.ERROR, 2.5)
        elif selected:
            edge = QPen(style.SELECTED, 2.5)
        elif self.hot:
            edge = QPen(style.FIT, 2.0)
        else:
            edge = QPen(style.BORDER, 1.2)
        if self.muted and not (error or selected):
            edge.setStyle(Qt.PenStyle.DashLine)
            edge.setColor(style.TEXT_DIM)
        painter.setPen(edge)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(body)
        if error and selected:
            painter.setPen(QPen(style.SELECTED, 1.5))
            painter.drawRoundedRect(rect.adjusted(-4, -4, 4, 4), style.RADIUS + 3, style.RADIUS + 3)
        self._paint_text(painter, w)
        for port in self.ports.values():
            paint_port(painter, port)

    def _paint_text(self, painter: QPainter, w: float) -> None:
        pad = 9.0
        title_font = style.font(9.5, bold=True)
        small = style.font(8.0)
        painter.setFont(title_font)
        painter.setPen(style.TEXT)
        type_text = self.node_type.title + (" (muted)" if self.muted else "") + (" ❄ frozen" if self.frozen else "")
        type_w = QFontMetricsF(small).horizontalAdvance(type_text)
        title_rect = QRectF(pad, 0, w - 2 * pad - type_w - 6, style.HEADER_H)
        title = QFontMetricsF(title_font).elidedText(self.node_id, Qt.TextElideMode.ElideRight, title_rect.width())
        painter.drawText(title_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, title)
        painter.setFont(small)
        painter.setPen(QColor(255, 255, 255, 200))
        painter.drawText(
            QRectF(pad, 0, w - 2 * pad, style.HEADER_H),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
            type_text,
        )
        metrics = QFontMetricsF(small)
        if self._key:
            painter.setPen(style.TEXT)
            text = metrics.elidedText(self._key, Qt.TextElideMode.ElideRight, w - 2 * pad)
            painter.drawText(QRectF(pad, style.HEADER_H, w - 2 * pad, style.ROW_H), Qt.AlignmentFlag.AlignVCenter, text)
        painter.setPen(style.TEXT_DIM)
        for (name, is_output), port in self.ports.items():
            y = port.pos().y() - style.ROW_H / 2
            align = Qt.AlignmentFlag.AlignRight if is_output else Qt.AlignmentFlag.AlignLeft
            painter.drawText(
                QRectF(pad + 4, y, w - 2 * pad - 8, style.ROW_H), align | Qt.AlignmentFlag.AlignVCenter, name
            )
        footer = self.footer_text()
        if footer:
            y = self._height - style.ROW_H - 4
            painter.setPen(QPen(QColor(255, 255, 255, 18), 1))
            painter.drawLine(QPointF(6, y), QPointF(w - 6, y))
            painter.setPen(style.ERROR.lighter(130) if self.error is not None else style.TEXT_DIM)
            text = metrics.elidedText(footer, Qt.TextElideMode.ElideRight, w - 2 * pad)
            painter.drawText(QRectF(pad, y, w - 2 * pad, style.ROW_H + 2), Qt.AlignmentFlag.AlignVCenter, text)
        if self.badge:
            bw = metrics.horizontalAdvance(self.badge) + 10
            badge = QRectF(w - bw - 4, -9, bw, 16)
            painter.setBrush(QBrush(style.SELECTED))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawRoundedRect(badge, 8, 8)
            painter.setPen(QColor("#1d2025"))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, self.badge)
