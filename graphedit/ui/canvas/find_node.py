"""Find node (Ctrl+F): a search field over the canvas; Enter centres and selects the best match.

It matches node ids first (exact, then prefix, then anywhere), then type names, so ``conv`` finds
``conv1`` and ``Dense`` the first Dense. Up/Down step through the matches, Esc closes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QCompleter, QLineEdit

if TYPE_CHECKING:
    from graphedit.model.document import GraphDocument
    from graphedit.ui.canvas.view import CanvasView


STYLE = (
    "QLineEdit { background: #1d2025; color: #e8eaed; border: 1px solid #3b6fb6; border-radius: 6px; "
    "padding: 5px 8px; }"
)


def matches(document: GraphDocument, text: str) -> list[str]:
    """Node ids matching ``text``, best first."""
    text = text.strip().lower()
    if not text:
        return []
    ranked = []
    for order, node_id in enumerate(document.topological_order()):
        low, type_id = node_id.lower(), document.node_type(node_id).type_id.lower()
        if low == text:
            rank = 0
        elif low.startswith(text):
            rank = 1
        elif text in low:
            rank = 2
        elif type_id.startswith(text):
            rank = 3
        elif text in type_id:
            rank = 4
        else:
            continue
        ranked.append((rank, order, node_id))
    return [node_id for _, _, node_id in sorted(ranked)]


class FindNodeBar(QLineEdit):
    """Lives over the canvas view's viewport (a child of the view: the viewport's children scroll with the
    scene), hidden until :meth:`open`."""

    def __init__(self, view: CanvasView) -> None:
        super().__init__(view)
        self.view = view
        self.setObjectName("findNode")
        self.setStyleSheet(STYLE)
        self.setPlaceholderText("Find node: id or type, Enter to go")
        self.setFixedWidth(300)
        self.setClearButtonEnabled(True)
        self.found: list[str] = []
        self.at = 0
        self.completer_ = QCompleter([], self)
        self.completer_.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer_.setFilterMode(Qt.MatchFlag.MatchContains)
        self.setCompleter(self.completer_)
        self.returnPressed.connect(self.go)
        self.installEventFilter(self)
        self.hide()

    def open(self) -> None:
        ids = self.view.controller.document.node_ids()
        self.completer_.model().setStringList(sorted(ids))  # type: ignore[attr-defined]
        area = self.view.viewport().geometry()
        self.move(area.x() + (area.width() - self.width()) // 2, area.y() + 10)
        self.show()
        self.raise_()
        self.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.selectAll()

    def go(self) -> str | None:
        """Centre and select the best match (Enter again: the next one)."""
        found = matches(self.view.controller.document, self.text())
        if not found:
            self.view.show_message(f"No node matches '{self.text().strip()}'.", error=True)
            return None
        self.at = (self.at + 1) % len(found) if found == self.found else 0
        self.found = found
        node_id = found[self.at]
        self.view.controller.set_selection([node_id])
        self.view.focus_node(node_id)
        return node_id

    def close_bar(self) -> None:
        self.hide()
        self.found = []
        self.view.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is self and event.type() == QEvent.Type.KeyPress:
            if event.key() == Qt.Key.Key_Escape:
                self.close_bar()
                return True
            if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.found:
                step = 1 if event.key() == Qt.Key.Key_Down else -1
                self.at = (self.at + step) % len(self.found)
                self.view.controller.set_selection([self.found[self.at]])
                self.view.focus_node(self.found[self.at])
                return True
        return False
