"""What the canvas says about training: a banner across its top, and a read-only view of the trained snapshot.

The banner sits in a strip the canvas keeps free above its viewport while it shows: it never covers a node.

While a run trains, the banner reads "Training snapshot of 14:02:11 — edits apply to the next
run" with a button to look at that snapshot; when a run fails it shows the error in red and the
failing node is selected, centred and badged on the canvas (DESIGN.md decision 7: the editor
shows the error, names the node, keeps the graph).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QDialog, QFrame, QGraphicsView, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from graphedit.model.project import project_from_json

if TYPE_CHECKING:
    from graphedit.nodes.registry import Registry
    from graphedit.ui.canvas.view import CanvasView


STYLES = {
    "info": "background: rgba(47, 101, 202, 230); color: white;",
    "done": "background: rgba(46, 125, 80, 235); color: white;",
    "error": "background: rgba(190, 50, 56, 240); color: white;",
}
FAILED_BADGE = "⚠ failed here"


class CanvasBanner(QFrame):
    """A strip over the top of the canvas: text, an optional action button, and a close button."""

    def __init__(self, canvas: QWidget) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.kind = ""
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action = QPushButton()
        self.action.hide()
        self._slot: Any = None
        self._shown = 0  # counts show_text calls, so a timed hide never hides a newer message
        self._placing = False
        self.action.clicked.connect(lambda _c=False: self._slot() if self._slot else None)
        close = QPushButton("✕")
        close.setFlat(True)
        close.setToolTip("Hide this message")
        close.setFixedWidth(28)
        close.clicked.connect(lambda _c=False: self.hide())
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 6, 6, 6)
        row.addWidget(self.label, 1)
        row.addWidget(self.action)
        row.addWidget(close)
        canvas.installEventFilter(self)
        self.hide()

    def show_text(
        self, text: str, kind: str = "info", action: str = "", slot: Any = None, hide_after_ms: int = 0
    ) -> None:
        """Show ``text``; with ``hide_after_ms`` it goes away by itself (a success needs no dismissing)."""
        self.kind = kind
        self._shown += 1
        if hide_after_ms:
            shown = self._shown
            QTimer.singleShot(hide_after_ms, self, lambda: self.hide() if self._shown == shown else None)
        self.setStyleSheet(
            f"CanvasBanner {{ {STYLES[kind]} border-radius: 6px; }} QLabel {{ color: white; }} "
            "QPushButton { color: white; background: rgba(255,255,255,40); border: none; padding: 3px 8px; "
            "border-radius: 4px; }"
        )
        self.label.setText(text)
        self.action.setText(action)
        self.action.setVisible(bool(action))
        self._slot = slot
        self._placing = True
        self._place()
        self._placing = False
        self.show()
        self.raise_()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""

    def hideEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        self._reserve(0)
        super().hideEvent(event)

    def _reserve(self, height: int) -> None:
        """Keep a strip above the canvas's viewport for the banner, so it never covers a node."""
        setter = getattr(self.canvas, "setViewportMargins", None)
        if setter is not None:
            setter(0, height, 0, 0)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is self.canvas and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        width = max(200, min(760, self.canvas.width() - 24))
        height = self.layout().totalHeightForWidth(width)
        self.setFixedSize(width, max(36, height))
        self.move((self.canvas.width() - width) // 2, 6)
        if not self.isHidden() or self._placing:
            self._reserve(self.height() + 12)


def snapshot_text(when: float) -> str:
    return f"Training snapshot of {time.strftime('%H:%M:%S', time.localtime(when))} — edits apply to the next run."


class SnapshotDialog(QDialog):
    """The graph as it was when the run started, read-only: the canvas keeps being the user's to edit."""

    def __init__(
        self, snapshot: dict[str, Any], when: float, registry: Registry, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        from graphedit.ui.canvas.scene import CanvasScene
        from graphedit.ui.controller import EditorController

        self.setWindowTitle(f"Training snapshot of {time.strftime('%H:%M:%S', time.localtime(when))} (read-only)")
        project = project_from_json(snapshot, "the training snapshot", registry)
        self.controller = EditorController(project.document, self)
        self.scene = CanvasScene(self.controller, self)
        self.view = QGraphicsView(self.scene)
        self.view.setInteractive(False)  # looking only: nothing here can change the snapshot
        self.view.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.view.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        layout = QVBoxLayout(self)
        note = QLabel("This is the graph the current run trains. Your edits on the canvas apply to the next run.")
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addWidget(self.view)
        self.resize(900, 600)

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        bounds = self.scene.itemsBoundingRect().adjusted(-40, -40, 40, 40)
        if not bounds.isEmpty():
            self.view.fitInView(bounds, Qt.AspectRatioMode.KeepAspectRatio)


def show_failure(canvas: CanvasView, banner: CanvasBanner, message: str, node_id: str) -> None:
    """The error in the banner; the node (when the graph still has it) selected, centred and badged."""
    where = ""
    if node_id and node_id in canvas.controller.document:
        canvas.focus_node(node_id)
        canvas.set_badges({node_id: FAILED_BADGE})
        where = f" (node <b>{node_id}</b> is selected)"
    banner.show_text(f"<b>Training failed</b>{where}: {_escape(message)}", "error")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
