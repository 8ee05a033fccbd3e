"""The canvas view: mouse modes, keys, zoom and pan, clipboard and toasts; quick add and drops are in ``add_node``."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QWheelEvent
from PySide6.QtWidgets import QGraphicsView, QLabel, QMenu, QWidget

from graphedit.model.layout import layered_layout
from graphedit.ui.canvas.add_node import AddNodeMixin
from graphedit.ui.canvas.annotation_items import AnnotationDrag, FrameResize, NoteItem, add_annotation_actions
from graphedit.ui.canvas.block_view import BlockViewMixin
from graphedit.ui.canvas.breadcrumb import Breadcrumb
from graphedit.ui.canvas.clipboard import CanvasClipboard
from graphedit.ui.canvas.find_node import FindNodeBar
from graphedit.ui.canvas.interactions import (
    Interaction,
    MoveInteraction,
    PanInteraction,
    RubberBandInteraction,
    WireInteraction,
)
from graphedit.ui.canvas.keymap import CanvasKeymap
from graphedit.ui.canvas.minimap import Minimap
from graphedit.ui.canvas.node_item import LOD_TEXT
from graphedit.ui.canvas.quick_add import QuickAddPopup
from graphedit.ui.canvas.scene import CanvasScene
from graphedit.ui.controller import EditorController

MIN_ZOOM, MAX_ZOOM = 0.08, 3.0
TOAST_STYLE = "QLabel {{ background: {bg}; color: white; border-radius: 6px; padding: 6px 10px; }}"


class CanvasView(AddNodeMixin, BlockViewMixin, QGraphicsView):
    """The node editor canvas for a controller: it observes the controller's document and edits through it."""

    def __init__(self, controller: EditorController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setScene(CanvasScene(controller, self))
        self.snap = True
        self.mode: Interaction | None = None
        self._space = False
        self.setRenderHints(
            QPainter.RenderHint.Antialiasing
            | QPainter.RenderHint.TextAntialiasing
            | QPainter.RenderHint.SmoothPixmapTransform
        )
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(True)
        self.setMouseTracking(True)
        self.toast = QLabel(self.viewport())
        self.toast.setWordWrap(True)
        self.toast.hide()
        self._toast_timer = QTimer(self, singleShot=True, interval=4000, timeout=self.toast.hide)
        self.quick_add = QuickAddPopup(self.viewport())
        self.quick_add.chosen.connect(self._quick_add_chosen)
        self._quick_at = QPointF()
        self._quick_port: tuple[str, str, bool] | None = None
        self.finder = FindNodeBar(self)  # Ctrl+F
        self.clipboard = CanvasClipboard(self)
        self.keymap = CanvasKeymap(self)
        self.breadcrumb = Breadcrumb(controller, self)
        self.minimap = Minimap(self)
        controller.message.connect(self.show_message)
        self.fit_pending = False  # a zoom to fit is queued for after a new document lays out (tests wait on it)
        # a lambda, not the bound method: connected as a method, the collector later freed the view's items twice
        controller.documentReplaced.connect(lambda: self._queue_fit())
        controller.levelChanged.connect(self._level_changed)

    def scene(self) -> CanvasScene:  # typed
        return super().scene()

    # --------------------------------------------------------------- mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.quick_add.isVisible():
            self.quick_add.close_popup()
        pos = self.mapToScene(event.position().toPoint())
        button = event.button()
        if self.mode is not None:
            self.mode.cancel()
            self.mode = None
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space):
            self.mode = PanInteraction(self, event)
        elif button == Qt.MouseButton.LeftButton:
            self.mode = self._left_mode(event, pos)
        elif button == Qt.MouseButton.RightButton:
            super().mousePressEvent(event)
            return
        event.accept()

    def _left_mode(self, event: QMouseEvent, pos: QPointF) -> Interaction | None:
        scene = self.scene()
        add = bool(event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier))
        port = scene.port_at(pos, radius=8)
        if port is not None:
            return WireInteraction(self, port)
        grip = scene.annotation_layer.grip_at(pos)
        if grip is not None and scene.node_at(pos) is None:
            return FrameResize(self, grip, pos)
        annotation = scene.annotation_layer.at(pos)
        if isinstance(annotation, NoteItem):
            return AnnotationDrag(self, annotation, pos)
        node = scene.node_at(pos)
        if node is not None:
            if add:
                node.setSelected(not node.isSelected())
                return None
            if not node.isSelected():
                scene.select_nodes([node.node_id])
            return MoveInteraction(self, node, pos)
        edge = scene.edge_at(pos)
        if edge is not None:
            if not add:
                scene.select_nodes([])
            edge.setSelected(True)
            return None
        if annotation is not None:  # a frame's title bar
            return AnnotationDrag(self, annotation, pos)
        return RubberBandInteraction(self, pos, add)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self.mode is not None:
            self.mode.move(event, self.mapToScene(event.position().toPoint()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self.mode is not None:
            mode, self.mode = self.mode, None
            mode.release(event, self.mapToScene(event.position().toPoint()))
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        pos = self.mapToScene(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton:
            annotation = self.scene().annotation_layer.at(pos)
            if annotation is not None:  # a note, or a frame's title: edit its text
                annotation.text.start()
                return
            node = self.scene().node_at(pos)
            if node is None and self.scene().edge_at(pos) is None:  # a frame's body is canvas
                self.open_quick_add(pos)
                return
            if node is not None and node.node_type.block is not None:
                if self.mode is not None:
                    self.mode.cancel()
                    self.mode = None
                self.enter_block(node.node_id)
                return
        super().mouseDoubleClickEvent(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.breadcrumb.isVisible():
            self.breadcrumb.place()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.15**steps)
        event.accept()

    def contextMenuEvent(self, event) -> None:
        pos = self.mapToScene(event.pos())
        node = self.scene().node_at(pos)
        if node is not None and not node.isSelected():
            self.scene().select_nodes([node.node_id])
        menu = QMenu(self)
        keys = self.keymap
        if node is None:
            add_annotation_actions(self, menu, pos)
        if self.scene().selected_node_ids():
            menu.addActions([keys.mute, keys.duplicate, keys.delete])
            menu.addSeparator()
            menu.addActions([keys.group, keys.ungroup])
            if node is not None and node.node_type.block is not None:
                menu.addAction("Open Block (double-click)", lambda: self.enter_block(node.node_id))
            menu.addSeparator()
        if self.controller.levels:
            menu.addAction(keys.leave_block)
        menu.addAction("Add node… (Tab)", lambda: self.open_quick_add(pos))
        menu.addActions([keys.auto_layout, keys.zoom_fit])
        menu.exec(event.globalPos())

    # ----------------------------------------------------------------- keys
    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Only what is not a command of the keymap (``self.keymap``): Space held to pan, Esc to cancel a drag."""
        key = event.key()
        if self.scene().focusItem() is not None:  # typing in a note or a frame's title
            super().keyPressEvent(event)
        elif key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        elif key == Qt.Key.Key_Escape and self.mode is not None:
            self.mode.cancel()
            self.mode = None
        else:
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.viewport().unsetCursor()
        super().keyReleaseEvent(event)

    def event(self, event: QEvent) -> bool:
        # Tab opens quick add instead of moving focus away from the canvas
        if event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Tab and self.mode is None:
            self.open_quick_add()
            return True
        # Esc cancels a drag or closes quick add before it leaves a block (the keymap's leave_block)
        escape = event.type() == QEvent.Type.ShortcutOverride and event.key() == Qt.Key.Key_Escape
        if escape and (self.mode is not None or self.quick_add.isVisible()):
            event.accept()
            return True
        return super().event(event)

    # ------------------------------------------------------------ zooming
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        target = min(max(self.zoom() * factor, MIN_ZOOM), MAX_ZOOM)
        self.scale(target / self.zoom(), target / self.zoom())
        self.scene().set_far(self.zoom() < LOD_TEXT)

    def set_zoom(self, zoom: float) -> None:
        anchor = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.zoom_by(zoom / self.zoom())
        self.setTransformationAnchor(anchor)

    def zoom_to_fit(self) -> None:
        rect = self.scene().items_rect()
        if rect.isNull():
            self.set_zoom(1.0)
            self.centerOn(0, 0)
            return
        self.fitInView(rect.adjusted(-40, -40, 40, 40), Qt.AspectRatioMode.KeepAspectRatio)
        self.scene().set_far(self.zoom() < LOD_TEXT)
        if self.zoom() > 1.0:
            self.set_zoom(1.0)
        elif self.zoom() < MIN_ZOOM:
            self.set_zoom(MIN_ZOOM)
        self.centerOn(rect.center())

    def _queue_fit(self) -> None:
        self.fit_pending = True
        QTimer.singleShot(0, self, self._queued_fit)

    def _queued_fit(self) -> None:
        self.fit_pending = False
        self.zoom_to_fit()

    def view_state(self) -> dict:
        """Zoom and centre, for the project's ``view`` section."""
        center = self.mapToScene(self.viewport().rect().center())
        return {"zoom": round(self.zoom(), 4), "center": [round(center.x(), 1), round(center.y(), 1)]}

    def set_view_state(self, state: dict) -> None:
        self.set_zoom(float(state.get("zoom", 1.0)))
        x, y = state.get("center", (0.0, 0.0))
        self.centerOn(float(x), float(y))

    def focus_node(self, node_id: str) -> None:
        """Select a node and bring it into view (from the Problems list)."""
        item = self.scene().nodes.get(node_id)
        if item is not None:
            self.scene().select_nodes([node_id])
            self.centerOn(item.sceneBoundingRect().center())

    # --------------------------------------------------------------- edits
    def set_snap(self, on: bool) -> None:
        self.snap = bool(on)

    def auto_layout(self) -> None:
        sizes = {n: item.size() for n, item in self.scene().nodes.items()}
        moves = layered_layout(self.controller.document, sizes)
        self.controller.move_nodes(moves, merge=False)
        self.zoom_to_fit()

    def select_all(self) -> None:
        self.scene().select_nodes(list(self.scene().nodes))

    def delete_selected(self) -> None:
        nodes = self.scene().selected_node_ids()
        edges = [e for e in self.scene().selected_edges() if e.src not in nodes and e.dst not in nodes]
        with self.controller.batch("Delete"):
            for edge in edges:
                self.controller.disconnect(edge)
            self.controller.remove_nodes(nodes)
            for item in self.scene().annotation_layer.selected():
                self.controller.set_annotation(item.kind, item.item_id, None, f"Delete {item.kind}")

    def mute_selected(self) -> None:
        self.controller.toggle_muted(self.scene().selected_node_ids())

    # ------------------------------------------------------------ overlays
    def set_badges(self, badges: dict[str, str]) -> None:
        self.scene().set_badges(badges)

    def set_edge_colors(self, colors: dict[tuple, QColor]) -> None:
        self.scene().set_edge_colors(colors)

    def show_message(self, text: str, error: bool = False) -> None:
        """A toast at the bottom of the canvas for a few seconds (refused edits, paste results)."""
        bg = "rgba(190, 50, 56, 235)" if error else "rgba(50, 56, 66, 235)"
        self.toast.setStyleSheet(TOAST_STYLE.format(bg=bg))
        self.toast.setText(text)
        width = min(560, self.viewport().width() - 24)
        self.toast.setFixedWidth(max(width, 120))
        self.toast.adjustSize()
        self.toast.move(
            (self.viewport().width() - self.toast.width()) // 2, self.viewport().height() - self.toast.height() - 14
        )
        self.toast.show()
        self.toast.raise_()
        self._toast_timer.start()

    def message_text(self) -> str:
        """The toast's text while it shows (for tests and the status bar)."""
        return self.toast.text() if self.toast.isVisible() else ""
