"""The palette dock: node types by family, each with its icon and one-line doc, and a filter box.

A type is dragged onto the canvas as MIME ``application/x-graphedit-node-type``
(payload: the type id in UTF-8); double-click or Enter in the filter box adds
it at the centre of the view instead (``typeActivated``).
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QLineEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from graphedit.nodes.registry import Registry
from graphedit.nodes.spec import NodeType
from graphedit.ui.icons import family_icon, family_title, node_icon

MIME_NODE_TYPE = "application/x-graphedit-node-type"
MIME_BLOCK_FILE = "application/x-graphedit-block-file"  # a block of the user's library: its file's path
TYPE_ROLE = Qt.ItemDataRole.UserRole + 1
DOC_ROLE = Qt.ItemDataRole.UserRole + 2
FILE_ROLE = Qt.ItemDataRole.UserRole + 3


def one_line(doc: str) -> str:
    """The first sentence of a doc string: what the palette shows under the title."""
    text = " ".join(doc.split())
    for stop in (". ", ": "):
        if stop in text:
            text = text.split(stop, 1)[0]
            break
    return text.rstrip(".")


def mime_data_for(type_id: str) -> QMimeData:
    """What dragging ``type_id`` from the palette carries; the canvas creates the node on drop."""
    data = QMimeData()
    data.setData(MIME_NODE_TYPE, type_id.encode("utf-8"))
    data.setText(type_id)
    return data


class _TwoLineDelegate(QStyledItemDelegate):
    """Type rows show the title and, below it in a muted colour, the one-line doc."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        if index.data(TYPE_ROLE):
            size.setHeight(QFontMetrics(option.font).height() * 2 + 8)
        return size

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        doc = index.data(DOC_ROLE)
        if not doc:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        title = opt.text
        opt.text = ""
        style = opt.widget.style() if opt.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        icon_size = opt.decorationSize.width() or 16
        rect = QRect(opt.rect.left() + icon_size + 10, opt.rect.top() + 3, opt.rect.width() - icon_size - 14, 0)
        line = QFontMetrics(opt.font).height()
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        group = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.save()
        painter.setFont(opt.font)
        painter.setPen(opt.palette.color(group))
        painter.drawText(QRect(rect.left(), rect.top(), rect.width(), line), Qt.AlignmentFlag.AlignVCenter, title)
        muted = opt.palette.color(group)
        muted.setAlphaF(0.6)
        painter.setPen(muted)
        elided = QFontMetrics(opt.font).elidedText(doc, Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(
            QRect(rect.left(), rect.top() + line, rect.width(), line), Qt.AlignmentFlag.AlignVCenter, elided
        )
        painter.restore()


class _TypeTree(QTreeWidget):
    """The tree of families and types; a drag carries :func:`mime_data_for` of the type."""

    def mimeTypes(self) -> list[str]:
        return [MIME_NODE_TYPE, MIME_BLOCK_FILE]

    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:  # type: ignore[override]
        files = [i.data(0, FILE_ROLE) for i in items if i.data(0, FILE_ROLE)]
        if files:
            data = QMimeData()
            data.setData(MIME_BLOCK_FILE, str(files[0]).encode("utf-8"))
            return data
        type_ids = [i.data(0, TYPE_ROLE) for i in items if i.data(0, TYPE_ROLE)]
        return mime_data_for(type_ids[0]) if type_ids else QMimeData()


class PaletteDock(QDockWidget):
    """Node types of a registry, grouped by family, filtered by the text in the box above."""

    typeActivated = Signal(str)  # double-click, or Enter in the filter box: add at the view centre

    def __init__(self, registry: Registry, parent: QWidget | None = None) -> None:
        super().__init__("Nodes", parent)
        self.setObjectName("palette")
        self.registry = registry
        self.filter_box = QLineEdit()
        self.filter_box.setPlaceholderText("Filter nodes…  (Enter adds the first)")
        self.filter_box.setClearButtonEnabled(True)
        self.tree = _TypeTree()
        self.tree.setHeaderHidden(True)
        self.tree.setIconSize(QSize(24, 24))
        self.tree.setItemDelegate(_TwoLineDelegate(self.tree))
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setIndentation(10)
        self.tree.setUniformRowHeights(False)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.filter_box)
        layout.addWidget(self.tree)
        self.setWidget(body)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._populate()
        self.filter_box.textChanged.connect(self.set_filter)
        self.filter_box.returnPressed.connect(self._activate_first)
        self.tree.itemDoubleClicked.connect(self._on_double_click)

    def mime_data_for(self, type_id: str) -> QMimeData:
        return mime_data_for(type_id)

    def _populate(self) -> None:
        for category, types in self.registry.families().items():
            family = QTreeWidgetItem([family_title(category)])
            family.setIcon(0, family_icon(category))
            family.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = family.font(0)
            font.setBold(True)
            family.setFont(0, font)
            self.tree.addTopLevelItem(family)
            for node_type in types:
                family.addChild(self._type_item(node_type))
            family.setExpanded(True)

    def _type_item(self, node_type: NodeType) -> QTreeWidgetItem:
        item = QTreeWidgetItem([node_type.title])
        item.setIcon(0, node_icon(node_type.category, node_type.title))
        item.setData(0, TYPE_ROLE, node_type.type_id)
        item.setData(0, DOC_ROLE, one_line(node_type.doc) or node_type.type_id)
        tip = f"<b>{node_type.title}</b><br>{node_type.doc}"
        if node_type.formula:
            tip += f"<br><code>{node_type.formula}</code>"
        item.setToolTip(0, tip)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
        self._items[node_type.type_id] = item
        return item

    def item_for(self, type_id: str) -> QTreeWidgetItem:
        return self._items[type_id]

    def visible_type_ids(self) -> list[str]:
        return [t for t, item in self._items.items() if not item.isHidden() and t in self.registry]

    def set_filter(self, text: str) -> None:
        words = text.lower().split()
        for i in range(self.tree.topLevelItemCount()):
            family = self.tree.topLevelItem(i)
            shown = 0
            for j in range(family.childCount()):
                item = family.child(j)
                if item.data(0, Qt.ItemDataRole.UserRole) == "hidden":  # not offered here (block ports outside)
                    item.setHidden(True)
                    continue
                type_id = item.data(0, TYPE_ROLE)
                node_type = self.registry.get(type_id) if type_id in self.registry else None
                texts = (node_type.title, node_type.type_id, node_type.doc) if node_type else (item.text(0),)
                haystack = " ".join((*texts, family.text(0))).lower()
                match = all(w in haystack for w in words)
                item.setHidden(not match)
                shown += match
            family.setHidden(shown == 0)
            family.setExpanded(True)

    def best_match(self) -> str | None:
        """The visible type whose title matches the filter best: exact, then prefix, then contains."""
        text = self.filter_box.text().strip().lower()
        visible = self.visible_type_ids()
        if not visible:
            return None

        def rank(type_id: str) -> int:
            title = self.registry.get(type_id).title.lower()
            return 0 if title == text else 1 if title.startswith(text) else 2 if text in title else 3

        return min(visible, key=rank)

    def _activate_first(self) -> None:
        best = self.best_match()
        if best:
            self.typeActivated.emit(best)

    def _on_double_click(self, item: QTreeWidgetItem) -> None:
        type_id = item.data(0, TYPE_ROLE)
        if type_id:
            self.typeActivated.emit(type_id)
