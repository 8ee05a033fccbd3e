"""Quick add: a search popup over the canvas (Tab, double-click, or a wire dropped on empty canvas).

Type to filter, Up/Down to choose, Enter adds, Esc closes. It lists the
node types it is given, so from a wire it offers only types that fit.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from graphedit.nodes.spec import NodeType

STYLE = """
QFrame#quickAdd { background: #2a2e35; border: 1px solid #4a505a; border-radius: 8px; }
QLineEdit { background: #1d2025; color: #e8eaed; border: 1px solid #4a505a; border-radius: 5px; padding: 4px 6px; }
QListWidget { background: transparent; color: #e8eaed; border: none; outline: none; }
QListWidget::item { padding: 3px 4px; border-radius: 4px; }
QListWidget::item:selected { background: #3b6fb6; color: white; }
QScrollBar:vertical { background: transparent; width: 8px; margin: 0; }
QScrollBar::handle:vertical { background: #4a505a; border-radius: 4px; min-height: 24px; }
QScrollBar::add-line:vertical, QScrollBar::sub-line:vertical { height: 0; }
QScrollBar::add-page:vertical, QScrollBar::sub-page:vertical { background: none; }
"""


def rank(node_type: NodeType, text: str) -> int | None:
    """Lower is better; ``None``: does not match."""
    text = text.strip().lower()
    if not text:
        return 0
    title, type_id = node_type.title.lower(), node_type.type_id.lower()
    if title.startswith(text) or type_id.startswith(text):
        return 0
    if text in title or text in type_id:
        return 1
    if text in node_type.category.lower():
        return 2
    if len(text) >= 3 and text in node_type.doc.lower():
        return 3
    return None


class QuickAddPopup(QFrame):
    """Emits ``chosen(type_id)`` on Enter or a click; hides itself after."""

    chosen = Signal(str)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("quickAdd")
        self.setStyleSheet(STYLE)
        self.setFixedWidth(280)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Add a node: type to search…")
        self.list = QListWidget(self)
        self.list.setFixedHeight(260)
        layout.addWidget(self.edit)
        layout.addWidget(self.list)
        self.types: list[NodeType] = []
        self.edit.textChanged.connect(self._filter)
        self.edit.installEventFilter(self)
        self.list.itemActivated.connect(lambda _item: self._choose())
        self.list.itemClicked.connect(lambda _item: self._choose())
        self.hide()

    def open(self, at: QPoint, types: list[NodeType]) -> None:
        self.types = types
        self.edit.clear()
        self._filter("")
        parent = self.parentWidget()
        self.adjustSize()
        x = min(max(at.x(), 0), max(parent.width() - self.width(), 0))
        y = min(max(at.y(), 0), max(parent.height() - self.height(), 0))
        self.move(x, y)
        self.show()
        self.raise_()
        self.edit.setFocus()

    def _filter(self, text: str) -> None:
        self.list.clear()
        ranked = sorted(
            ((r, i, t) for i, t in enumerate(self.types) if (r := rank(t, text)) is not None), key=lambda x: x[:2]
        )
        for _r, _i, node_type in ranked:
            item = QListWidgetItem(f"{node_type.title}    ·  {node_type.category}")
            item.setData(Qt.ItemDataRole.UserRole, node_type.type_id)
            item.setToolTip(node_type.doc)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def _choose(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        type_id = item.data(Qt.ItemDataRole.UserRole)
        self.close_popup()
        self.chosen.emit(type_id)

    def close_popup(self) -> None:
        self.hide()
        parent = self.parentWidget()
        if parent is not None and parent.parentWidget() is not None:
            parent.parentWidget().setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.edit and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._choose()
                return True
            if key == Qt.Key.Key_Escape:
                self.close_popup()
                return True
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                step = 1 if key == Qt.Key.Key_Down else -1
                row = min(max(self.list.currentRow() + step, 0), self.list.count() - 1)
                self.list.setCurrentRow(row)
                return True
        return super().eventFilter(watched, event)
