"""The minimap: a small overview of a large graph in the canvas's bottom-right corner.

It shows every card in its family's colour, the frames, and the part of the graph in view; a click or a drag
on it centres the view there. It shows itself only while the graph does not fit in the view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from graphedit.ui.canvas import style

if TYPE_CHECKING:
    from graphedit.ui.canvas.view import CanvasView

SIZE = QSize(220, 140)
MARGIN = 12
PAD = 6.0


class Minimap(QWidget):
    """See the module doc; ``view`` is the canvas it maps."""

    def __init__(self, view: CanvasView) -> None:
        super().__init__(view)
        self.view = view
        self.setFixedSize(SIZE)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("The whole graph: click or drag to move the view")
        self._timer = QTimer(self, singleShot=True, interval=60, timeout=self.refresh)
        view.installEventFilter(self)
        view.horizontalScrollBar().valueChanged.connect(self.schedule)
        view.verticalScrollBar().valueChanged.connect(self.schedule)
        view.scene().changed.connect(self.schedule)
        self.hide()

    def schedule(self, *_: object) -> None:
        self._timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view and event.type() == QEvent.Type.Resize:
            self.schedule()
        return False

    # ----------------------------------------------------------- geometry
    def graph_rect(self) -> QRectF:
        return self.view.scene().items_rect()

    def visible_rect(self) -> QRectF:
        return self.view.mapToScene(self.view.viewport().rect()).boundingRect()

    def _mapping(self) -> tuple[float, QPointF, QRectF]:
        """(scale, offset, scene rect shown): scene point p is drawn at offset + p * scale."""
        shown = self.graph_rect().united(self.visible_rect())
        inner = QRectF(self.rect()).adjusted(PAD, PAD, -PAD, -PAD)
        scale = min(inner.width() / max(shown.width(), 1.0), inner.height() / max(shown.height(), 1.0))
        offset = inner.center() - shown.center() * scale
        return scale, offset, shown

    def to_scene(self, point: QPointF) -> QPointF:
        scale, offset, _ = self._mapping()
        return (point - offset) / scale

    def to_map(self, point: QPointF) -> QPointF:
        scale, offset, _ = self._mapping()
        return offset + point * scale

    def refresh(self) -> None:
        """Show the map while the graph does not fit in the view, in the viewport's bottom-right corner."""
        graph = self.graph_rect()
        needed = not graph.isNull() and not self.visible_rect().contains(graph)
        viewport = self.view.viewport().geometry()
        self.move(viewport.right() - SIZE.width() - MARGIN, viewport.bottom() - SIZE.height() - MARGIN)
        self.setVisible(needed)
        self.raise_()
        self.update()

    # ------------------------------------------------------------- paint
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        background = QColor(style.BACKGROUND.darker(130))
        background.setAlpha(225)
        painter.setPen(QPen(style.BORDER, 1.0))
        painter.setBrush(background)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        scale, offset, _ = self._mapping()

        def mapped(rect: QRectF) -> QRectF:
            return QRectF(offset + rect.topLeft() * scale, rect.size() * scale)

        scene = self.view.scene()
        for item in scene.annotation_layer.items.values():
            if item.kind == "frame":
                painter.setPen(QPen(QColor(item.frame.color), 1.0))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(mapped(item.sceneBoundingRect()))
        painter.setPen(Qt.PenStyle.NoPen)
        for item in scene.nodes.values():
            painter.setBrush(style.family_color(item.node_type.category))
            x, y = item.x(), item.y()
            w, h = item.size()
            painter.drawRect(mapped(QRectF(x, y, w, h)))
        painter.setPen(QPen(style.SELECTED, 1.5))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(mapped(self.visible_rect()))
        painter.end()

    # ------------------------------------------------------------- mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.view.centerOn(self.to_scene(event.position()))
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.view.centerOn(self.to_scene(event.position()))
        event.accept()
