"""The palette's blocks: this project's definitions, the block ports inside a block, and the user's library.

"Blocks" lists the project's definitions (drag one in to add an instance; right-click to save it to the library
or delete it) and, while a block is open, Block input and Block output. "My block library" lists the block files
in the user's library folder: dragging one in adds its definitions to the project (checked like a project file;
a taken name is renamed, never overwritten) and an instance of it.
"""

from __future__ import annotations

from pathlib import Path

import shiboken6
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QInputDialog, QMenu, QTreeWidgetItem

from graphedit.errors import GraphEditError
from graphedit.model.block_files import library_files, save_block_file
from graphedit.model.blocks import BlockLibrary
from graphedit.model.grouping import library_for
from graphedit.training.user_folders import user_data_dir
from graphedit.ui.canvas.view import CanvasView
from graphedit.ui.icons import family_icon, family_title, node_icon
from graphedit.ui.palette import DOC_ROLE, FILE_ROLE, TYPE_ROLE, PaletteDock

PORT_TYPES = ("BlockInput", "BlockOutput")
LIBRARY_TITLE = "My block library"


def library_folder() -> Path:
    """Where the user's block files live (per user, beside GraphEdit's other data)."""
    return user_data_dir() / "blocks"


class BlocksSection:
    """Keeps the palette's block entries current with the project, the open block and the library folder."""

    def __init__(self, palette: PaletteDock, canvas: CanvasView, folder: Path | None = None) -> None:
        self.palette, self.canvas, self.controller = palette, canvas, canvas.controller
        self.folder = folder or library_folder()
        self._key: tuple = ()
        tree = palette.tree
        self.family = self._family("blocks", family_title("blocks"))
        self.files = self._family("blocks", LIBRARY_TITLE)
        tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        tree.customContextMenuRequested.connect(self._menu)
        tree.itemDoubleClicked.connect(self._double_click)
        c = self.controller
        for signal in (c.documentReplaced, c.levelChanged, c.undo_stack.indexChanged):
            signal.connect(lambda *_: self.refresh())
        self.refresh()

    def _family(self, category: str, title: str) -> QTreeWidgetItem:
        tree = self.palette.tree
        for i in range(tree.topLevelItemCount()):
            if tree.topLevelItem(i).text(0) == title:
                return tree.topLevelItem(i)
        item = QTreeWidgetItem([title])
        item.setIcon(0, family_icon(category))
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        tree.addTopLevelItem(item)
        return item

    @property
    def library(self) -> BlockLibrary | None:
        try:
            return library_for(self.controller.root)
        except GraphEditError:
            return None

    def refresh(self, force: bool = False) -> None:
        if not shiboken6.isValid(self.family):  # the controller outlives the palette as a window closes
            return
        library = self.library
        names = tuple(library.definitions) if library is not None else ()
        files = tuple(library_files(self.folder))
        inside = bool(self.controller.levels)
        key = (id(library), names, files, inside)
        if key == self._key and not force:
            return
        self._key = key
        if library is not None:
            self.palette.registry = library
        for i in reversed(range(self.family.childCount())):
            item = self.family.child(i)
            type_id = item.data(0, TYPE_ROLE)
            if type_id in PORT_TYPES:
                item.setData(0, Qt.ItemDataRole.UserRole, None if inside else "hidden")
            else:
                self.palette._items.pop(type_id, None)
                self.family.removeChild(item)
        for name in names:
            self.family.addChild(self.palette._type_item(library.get(name)))
        self.files.takeChildren()
        for path in files:
            item = QTreeWidgetItem([path.stem])
            item.setIcon(0, node_icon("blocks", path.stem))
            item.setData(0, FILE_ROLE, str(path))
            item.setData(0, DOC_ROLE, "From your library: drag it into any project")
            item.setToolTip(0, f"<b>{path.stem}</b><br>{path}")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
            self.files.addChild(item)
        self.files.setHidden(not files)
        self.palette.set_filter(self.palette.filter_box.text())

    def definition_items(self) -> list[str]:
        return [self.family.child(i).data(0, TYPE_ROLE) for i in range(self.family.childCount())]

    def file_items(self) -> list[QTreeWidgetItem]:
        return [self.files.child(i) for i in range(self.files.childCount())]

    # -------------------------------------------------------------- actions
    def save_to_library(self, name: str) -> Path | None:
        library = self.library
        if library is None:
            return None
        try:
            path = save_block_file(library, name, self.folder)
        except GraphEditError as exc:
            self.canvas.show_message(str(exc), error=True)
            return None
        self.canvas.show_message(f"Saved {name} to your block library ({path}).")
        self.refresh()
        return path

    def delete_definition(self, name: str) -> None:
        try:
            self.controller.remove_definition(name)
        except GraphEditError as exc:
            self.canvas.show_message(str(exc), error=True)

    def rename_definition(self, name: str, new: str | None = None) -> bool:
        """Rename a definition (asked for when ``new`` is None): every instance and nested use follow; a taken
        or invalid name is refused with the reason on the canvas. One undo step."""
        if new is None:
            new, ok = QInputDialog.getText(self.palette, "Rename block", f"New name for the block {name}:", text=name)
            if not ok:
                return False
        try:
            self.controller.rename_definition(name, new)
        except GraphEditError as exc:
            self.canvas.show_message(str(exc), error=True)
            return False
        self.canvas.show_message(f"Renamed the block {name} to {new.strip()}.")
        return True

    def _menu(self, at: QPoint) -> None:
        item = self.palette.tree.itemAt(at)
        library = self.library
        type_id = item.data(0, TYPE_ROLE) if item is not None else None
        if library is None or type_id not in library.definitions:
            return
        menu = QMenu(self.palette.tree)
        menu.addAction(f"Rename the Definition {type_id}…", lambda: self.rename_definition(type_id))
        menu.addAction(f"Save {type_id} to My Block Library", lambda: self.save_to_library(type_id))
        menu.addAction(f"Delete the Definition {type_id}", lambda: self.delete_definition(type_id))
        menu.exec(self.palette.tree.viewport().mapToGlobal(at))

    def _double_click(self, item: QTreeWidgetItem) -> None:
        path = item.data(0, FILE_ROLE)
        if path:
            self.canvas.add_block_file(path, self.canvas.mapToScene(self.canvas.viewport().rect().center()))
