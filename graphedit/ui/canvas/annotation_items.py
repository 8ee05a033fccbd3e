"""Frames and sticky notes on the canvas: their items, the drag that moves them, and the actions that add them.

The items only show ``document.annotations`` (:mod:`graphedit.model.annotations`); every change goes through
the controller as an undo step. A frame lies under the cards and wires; dragging its title bar moves it with
the nodes inside (one step per drag), its corner grip resizes it, and clicking its body selects as on the empty
canvas. Its context menu sets its colour. A note is dragged anywhere on it. Double-click a note or a frame's title
to edit the text; Esc or a click elsewhere ends it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFocusEvent, QFont, QFontMetricsF, QIcon, QKeyEvent, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneHoverEvent,
    QGraphicsTextItem,
    QMenu,
    QStyleOptionGraphicsItem,
    QWidget,
)

from graphedit.model.annotations import FRAME_COLORS, NOTE_COLOR, Frame, Note, frame_around
from graphedit.ui.canvas import style
from graphedit.ui.canvas.interactions import Interaction

if TYPE_CHECKING:
    from graphedit.ui.canvas.scene import CanvasScene
    from graphedit.ui.canvas.view import CanvasView

TITLE_H = 34.0
FAR = 0.6  # zoomed out below this, a frame's title is drawn larger so that it stays readable
FAR_TITLE_MAX = 60.0  # the frame drawn around cards (annotations.frame_around) leaves this much above them
NOTE_PAD = 8.0
GRIP = 16.0  # the square at a frame's bottom-right corner that resizes it
MIN_FRAME = (160.0, 90.0)  # a frame is never resized below this (its title bar and a little room)
COLOR_NAMES = dict(zip(FRAME_COLORS, ("Blue", "Green", "Purple", "Orange", "Rose", "Teal"), strict=True))


class EditableText(QGraphicsTextItem):
    """Text that becomes editable on request and hands its text to ``commit`` when editing ends."""

    def __init__(self, parent: QGraphicsItem, commit) -> None:
        super().__init__(parent)
        self.commit = commit
        self.setDefaultTextColor(style.TEXT)

    def start(self) -> None:
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextEditorInteraction)
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        cursor = self.textCursor()
        cursor.select(cursor.SelectionType.Document)
        self.setTextCursor(cursor)

    def editing(self) -> bool:
        return bool(self.textInteractionFlags() & Qt.TextInteractionFlag.TextEditorInteraction)

    def finish(self) -> None:
        if self.editing():
            self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
            self.clearFocus()
            self.commit(self.toPlainText())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape or (
            event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            self.finish()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.finish()


class FrameItem(QGraphicsItem):
    """A frame: a translucent region in its colour with a title bar."""

    kind = "frame"

    def __init__(self, frame: Frame, scene: CanvasScene) -> None:
        super().__init__()
        self.frame = frame
        self.text = EditableText(self, lambda text: scene.commit_text(self, text))
        self.text.setFont(style.font(12.0, bold=True))
        self.setZValue(-2)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.show_item(frame)

    @property
    def item_id(self) -> str:
        return self.frame.id

    def show_item(self, frame: Frame) -> None:
        self.prepareGeometryChange()
        self.frame = frame
        x, y, _, _ = frame.rect
        self.setPos(x, y)
        if not self.text.editing():
            self.text.setPlainText(frame.title)
        self.text.setPos(10, (TITLE_H - self.text.boundingRect().height()) / 2)
        self.update()

    def title_rect(self) -> QRectF:
        return QRectF(0, 0, self.frame.rect[2], TITLE_H)

    def grip_rect(self) -> QRectF:
        _, _, w, h = self.frame.rect
        return QRectF(w - GRIP, h - GRIP, GRIP, GRIP)

    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        on_grip = self.grip_rect().contains(event.pos())
        if on_grip:
            self.setCursor(Qt.CursorShape.SizeFDiagCursor)
        else:
            self.unsetCursor()

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.frame.rect[2], self.frame.rect[3]).adjusted(-2, -2, 2, 2)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        color = QColor(self.frame.color)
        rect = QRectF(0, 0, self.frame.rect[2], self.frame.rect[3])
        fill = QColor(color)
        fill.setAlpha(38)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(style.SELECTED if self.isSelected() else color, 2.0))
        painter.setBrush(fill)
        painter.drawRoundedRect(rect, 10, 10)
        band = QColor(color)
        band.setAlpha(150)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(band)
        lod = painter.worldTransform().m11()
        far = lod < FAR and not self.text.editing()
        if self.text.opacity() != (0.0 if far else 1.0):
            self.text.setOpacity(0.0 if far else 1.0)
        if not far:
            painter.drawRoundedRect(self.title_rect().adjusted(1, 1, -1, 0), 9, 9)
            grip = self.grip_rect()
            painter.setPen(QPen(color, 1.6))
            for k in (4.0, 8.0, 12.0):  # three short diagonals: the corner can be dragged
                painter.drawLine(
                    QPointF(grip.right() - k, grip.bottom() - 3), QPointF(grip.right() - 3, grip.bottom() - k)
                )
            return
        # far out the title keeps a readable size on screen: a taller band, a larger font
        title = QRectF(0, 0, rect.width(), min(TITLE_H * FAR / lod, FAR_TITLE_MAX, rect.height() / 3))
        painter.drawRoundedRect(title.adjusted(1, 1, -1, 0), 9, 9)
        font = QFont(style.font(12.0, bold=True))
        font.setPixelSize(max(1, int(title.height() * 0.6)))
        painter.setFont(font)
        painter.setPen(style.TEXT)
        text = QFontMetricsF(font).elidedText(self.frame.title, Qt.TextElideMode.ElideRight, title.width() - 20)
        painter.drawText(
            title.adjusted(10, 0, -10, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text
        )


class NoteItem(QGraphicsItem):
    """A sticky note: its text on a pale card, wrapped at the note's width."""

    kind = "note"

    def __init__(self, note: Note, scene: CanvasScene) -> None:
        super().__init__()
        self.note = note
        self.text = EditableText(self, lambda text: scene.commit_text(self, text))
        self.text.setDefaultTextColor(QColor("#2b2b2b"))
        self.text.setFont(style.font(10.0))
        self.text.setPos(NOTE_PAD, NOTE_PAD)
        self.setZValue(3)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.show_item(note)

    @property
    def item_id(self) -> str:
        return self.note.id

    def show_item(self, note: Note) -> None:
        self.prepareGeometryChange()
        self.note = note
        self.setPos(*note.position)
        self.text.setTextWidth(note.width - 2 * NOTE_PAD)
        if not self.text.editing():
            self.text.setPlainText(note.text)
        self.update()

    def boundingRect(self) -> QRectF:
        height = max(self.text.boundingRect().height() + 2 * NOTE_PAD, 40.0)
        return QRectF(0, 0, self.note.width, height)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(style.SELECTED if self.isSelected() else QColor("#b89b2e"), 1.5))
        painter.setBrush(QColor(NOTE_COLOR))
        painter.drawRoundedRect(self.boundingRect().adjusted(1, 1, -1, -1), 4, 4)


class AnnotationLayer:
    """The frame and note items of a scene, kept in step with ``document.annotations``."""

    def __init__(self, scene: CanvasScene) -> None:
        self.scene = scene
        self.items: dict[tuple[str, str], FrameItem | NoteItem] = {}
        self._annotations = None

    def rebuild(self) -> None:
        """After the scene was cleared: items for every frame and note of the current document."""
        if self._annotations is not None:
            self._annotations.unsubscribe(self.changed)
        self.items.clear()
        self._annotations = annotations = self.scene.controller.document.annotations
        annotations.subscribe(self.changed)
        for frame_id in annotations.frames:
            self.changed("frame", frame_id)
        for note_id in annotations.notes:
            self.changed("note", note_id)

    def changed(self, kind: str, item_id: str) -> None:
        value = self._annotations.get(kind, item_id)
        item = self.items.get((kind, item_id))
        if value is None:
            if item is not None:
                del self.items[(kind, item_id)]
                self.scene.removeItem(item)
        elif item is None:
            item = FrameItem(value, self.scene) if kind == "frame" else NoteItem(value, self.scene)
            self.items[(kind, item_id)] = item
            self.scene.addItem(item)
        else:
            item.show_item(value)

    def at(self, pos: QPointF) -> FrameItem | NoteItem | None:
        """The note under ``pos``, or the frame whose title bar is under it."""
        for item in self.scene.items(pos):
            if isinstance(item, NoteItem):
                return item
            if isinstance(item, FrameItem) and item.title_rect().contains(item.mapFromScene(pos)):
                return item
        return None

    def grip_at(self, pos: QPointF) -> FrameItem | None:
        """The frame whose resize grip is under ``pos``."""
        for item in self.scene.items(pos):
            if isinstance(item, FrameItem) and item.grip_rect().contains(item.mapFromScene(pos)):
                return item
        return None

    def frame_at(self, pos: QPointF) -> FrameItem | None:
        """The frame under ``pos`` (anywhere on it), the smallest when frames nest."""
        frames = [item for item in self.scene.items(pos) if isinstance(item, FrameItem)]
        return min(frames, key=lambda f: f.frame.rect[2] * f.frame.rect[3], default=None)

    def selected(self) -> list[FrameItem | NoteItem]:
        return [item for item in self.items.values() if item.isSelected()]


class AnnotationDrag(Interaction):
    """Left drag on a note, or on a frame's title bar: move it (a frame with the nodes inside); one undo step."""

    def __init__(self, view: CanvasView, item: FrameItem | NoteItem, pos: QPointF) -> None:
        super().__init__(view)
        self.item = item
        self.last = pos
        self.moved = False
        self.scene.select_nodes([])
        item.setSelected(True)

    def move(self, event, pos: QPointF) -> None:
        delta = pos - self.last
        if not self.moved and delta.manhattanLength() < 3:
            return
        dx, dy = (style.snap(delta.x()), style.snap(delta.y())) if self.view.snap else (delta.x(), delta.y())
        if (dx, dy) == (0, 0):
            return
        self.moved = True
        self.last += QPointF(dx, dy)
        self.controller.move_annotation(self.item.kind, self.item.item_id, dx, dy)

    def release(self, event, pos: QPointF) -> None:
        self.controller.finish_moves()


class FrameResize(Interaction):
    """Left drag on a frame's corner grip: resize it (the nodes stay where they are); one undo step."""

    def __init__(self, view: CanvasView, item: FrameItem, pos: QPointF) -> None:
        super().__init__(view)
        self.item, self.start = item, pos
        self.size = item.frame.rect[2:]
        self.scene.select_nodes([])
        item.setSelected(True)

    def move(self, event, pos: QPointF) -> None:
        delta = pos - self.start
        w, h = self.size[0] + delta.x(), self.size[1] + delta.y()
        if self.view.snap:
            w, h = style.snap(w), style.snap(h)
        self.controller.resize_frame(self.item.item_id, max(w, MIN_FRAME[0]), max(h, MIN_FRAME[1]))

    def release(self, event, pos: QPointF) -> None:
        self.controller.finish_moves()


def swatch(color: str, size: int = 14) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)


def add_annotation_actions(view: CanvasView, menu: QMenu, pos: QPointF) -> bool:
    """The context menu of the note, or else the frame, under ``pos``: edit its text, a frame's colour, delete.
    ``False`` when there is neither."""
    layer = view.scene().annotation_layer
    item = layer.at(pos)
    item = item if isinstance(item, NoteItem) else layer.frame_at(pos)
    if item is None:
        return False
    controller = view.controller
    menu.addAction("Edit title" if item.kind == "frame" else "Edit text", item.text.start)
    if isinstance(item, FrameItem):
        colours = menu.addMenu("Colour")
        for color in FRAME_COLORS:
            action = colours.addAction(swatch(color), COLOR_NAMES[color])
            action.setCheckable(True)
            action.setChecked(color == item.frame.color)
            action.triggered.connect(lambda _=False, c=color, f=item.frame: _recolor(controller, f, c))
    menu.addAction(
        f"Delete {item.kind}", lambda: controller.set_annotation(item.kind, item.item_id, None, f"Delete {item.kind}")
    )
    menu.addSeparator()
    return True


def _recolor(controller, frame: Frame, color: str) -> None:
    controller.set_annotation("frame", frame.id, replace(frame, color=color), "Frame colour")


def frame_selection(view: CanvasView) -> str | None:
    """Put a new frame around the selected nodes (titled after the first), as one undo step."""
    scene, controller = view.scene(), view.controller
    chosen = scene.selected_node_ids()
    if not chosen:
        view.show_message("Select the nodes to frame first (drag a box around them), then press G.")
        return None
    cards = [(r.left(), r.top(), r.right(), r.bottom()) for r in (scene.nodes[n].sceneBoundingRect() for n in chosen)]
    annotations = controller.document.annotations
    frame_id = annotations.new_id("frame")
    color = FRAME_COLORS[len(annotations.frames) % len(FRAME_COLORS)]
    frame = Frame(frame_id, f"{chosen[0]} …" if len(chosen) > 1 else chosen[0], frame_around(cards), color)
    controller.set_annotation("frame", frame_id, frame, "Add frame")
    return frame_id


def add_note(view: CanvasView, at: QPointF | None = None) -> str:
    """Add a note at ``at`` (default: the middle of the view) and start editing its text."""
    controller = view.controller
    if at is None:
        at = view.mapToScene(view.viewport().rect().center())
    note_id = controller.document.annotations.new_id("note")
    controller.set_annotation("note", note_id, Note(note_id, "Note", (at.x(), at.y())), "Add note")
    item = view.scene().annotation_layer.items[("note", note_id)]
    item.text.start()
    return note_id
