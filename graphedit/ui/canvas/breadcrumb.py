"""The bar at the top of the canvas while a block is open: the path of open blocks, and who shares the inside.

``Project ▸ layer2 (BasicBlock, copy 1 of 2) ‹ ›`` — each part is a button that goes back up to it, the arrows
show the previous or next copy of a repeat (its shapes, and while training its badges) — then what this copy
takes and gives and how many block nodes use the definition, since an edit here changes all of them.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout

from graphedit.model.grouping import library_for
from graphedit.ui.block_levels import Level
from graphedit.ui.controller import EditorController

STYLE = """
QFrame#breadcrumb { background: rgba(42, 46, 53, 235); border: 1px solid #4a505a; border-radius: 8px; }
QToolButton { color: #e8eaed; background: transparent; border: none; padding: 2px 6px; border-radius: 4px; }
QToolButton:hover { background: #3b6fb6; }
QLabel { color: #9aa3ad; padding: 0 6px; }
QLabel#sep { color: #6b7380; padding: 0; }
"""


def shared_text(controller: EditorController) -> str:
    """``4 block nodes use BasicBlock (layer1, …): editing here changes all of them``."""
    level = controller.levels[-1]
    users = library_for(controller.root).instances(level.name)
    if len(users) <= 1:
        return f"only {level.node_id} uses {level.name}"
    shown = ", ".join(users[:4]) + (", …" if len(users) > 4 else "")
    return f"{len(users)} block nodes share {level.name} ({shown}): an edit here changes all of them"


class Breadcrumb(QFrame):
    """Shown only inside a block; buttons go up to their level (``controller.leave_block(depth)``).

    A child of the view, not of its viewport: the viewport's children scroll with the scene.
    """

    def __init__(self, controller: EditorController, view: QAbstractScrollArea) -> None:
        super().__init__(view)
        self.controller, self.view = controller, view
        self.setObjectName("breadcrumb")
        self.setStyleSheet(STYLE)
        column = QVBoxLayout(self)
        column.setContentsMargins(6, 3, 6, 4)
        column.setSpacing(0)
        self.row = QHBoxLayout()
        self.row.setSpacing(2)
        column.addLayout(self.row)
        self.buttons: list[QToolButton] = []
        self.previous: QToolButton | None = None  # the copy arrows, while a repeated block is open
        self.next: QToolButton | None = None
        self.info = QLabel()
        self.info.setWordWrap(True)
        column.addWidget(self.info)
        self.hide()
        controller.levelChanged.connect(self.refresh)
        controller.shapesUpdated.connect(self._refresh_info)
        # a renamed definition (or its undo) changes the names shown
        controller.undo_stack.indexChanged.connect(self._stepped)

    def refresh(self) -> None:
        self.hide()  # buttons added to a shown bar stay hidden until the next turn of the event loop, unsized
        while self.row.count():
            item = self.row.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()  # gone now, not at the next turn of the event loop
                item.widget().deleteLater()
        self.buttons = []
        levels = self.controller.levels
        if not levels:
            self.hide()
            return
        names = ["Project", *(self._name(i) for i in range(len(levels)))]
        for depth, name in enumerate(names):
            if depth:
                sep = QLabel("▸")
                sep.setObjectName("sep")
                self.row.addWidget(sep)
            button = QToolButton()
            button.setText(name)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setEnabled(depth < len(levels))
            button.setToolTip("Go back up here (Esc or Alt+Up: one level up)" if depth < len(levels) else "")
            button.clicked.connect(lambda _c=False, d=depth: self.controller.leave_block(d))
            self.row.addWidget(button)
            self.buttons.append(button)
        self._copy_buttons(levels[-1])
        self.row.addStretch(1)
        self._refresh_info()
        self.show()
        self.raise_()

    def _copy_buttons(self, level: Level) -> None:
        """‹ and › beside the open block when it is repeated: the previous and the next copy."""
        self.previous = self.next = None
        repeat = level.parent.params(level.node_id).get("repeat", 1) if level.node_id in level.parent else 1
        if repeat <= 1:
            return
        for text, step, tip in (("‹", -1, "Show the previous copy"), ("›", 1, "Show the next copy")):
            button = QToolButton()
            button.setText(text)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setToolTip(f"{tip} of {level.node_id} (its shapes, and while training its badges)")
            button.setEnabled(0 <= level.copy + step < repeat)
            button.clicked.connect(lambda _c=False, s=step: self._step_copy(s))
            self.row.addWidget(button)
            if step < 0:
                self.previous = button
            else:
                self.next = button

    def _step_copy(self, step: int) -> None:
        if self.controller.levels:
            self.controller.show_copy(self.controller.levels[-1].copy + step)

    def _stepped(self, *_: object) -> None:
        if self.controller.levels:
            self.refresh()

    def _name(self, depth: int) -> str:
        level = self.controller.levels[depth]
        repeat = level.parent.params(level.node_id).get("repeat", 1) if level.node_id in level.parent else 1
        copy = f", copy {level.copy + 1} of {repeat}" if repeat > 1 else ""
        return f"{level.node_id} ({level.name}{copy})"

    def _refresh_info(self) -> None:
        if not self.controller.levels:
            return
        self.info.setText(f"{self.controller.shapes.describe()} · {shared_text(self.controller)}")
        self.place()

    def place(self) -> None:
        """Top left of the viewport, at most its width."""
        viewport = self.view.viewport().geometry()
        self.setMaximumWidth(max(200, viewport.width() - 24))
        self.adjustSize()
        self.move(viewport.topLeft() + QPoint(12, 10))

    def text(self) -> str:
        """What the bar says (for tests and screenshots)."""
        return " ▸ ".join(b.text() for b in self.buttons) + " · " + self.info.text() if self.buttons else ""
