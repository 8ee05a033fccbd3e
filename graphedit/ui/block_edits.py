"""The controller's block edits: group, ungroup, a library block, and opening and leaving blocks (issue 13).

A mixin of :class:`graphedit.ui.controller.EditorController`: it uses the controller's document, levels, shape
inference, batch and undo (``_do``), and emits its signals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphedit.compiler.block_shapes import INSIDE_ROLES, InstanceShapes
from graphedit.errors import GraphError
from graphedit.model.block_files import plan_merge, read_block_file
from graphedit.model.grouping import free_block_name, library_for
from graphedit.nodes.spec import NodeType
from graphedit.ui.block_commands import (
    DefineBlocksCommand,
    ExposeCommand,
    GroupCommand,
    RemoveDefinitionCommand,
    RenameDefinitionCommand,
    UngroupCommand,
)
from graphedit.ui.block_levels import Level, feed

if TYPE_CHECKING:
    from graphedit.ui.controller import EditorController


class BlockEdits:
    """Mixed into the controller; see the module doc."""

    def group(self: EditorController, node_ids: list[str], name: str | None = None) -> str:
        """Group nodes into a new block (one undo step); returns the block node's id and selects it."""
        name = name or free_block_name(library_for(self.document))
        command = GroupCommand(self.document, [n for n in node_ids if n in self.document], name)
        self._do(command)
        node_id = command.edit.instance_id or ""
        self.set_selection([node_id])
        return node_id

    def ungroup(self: EditorController, node_id: str) -> list[str]:
        """Expand a block node in place (one undo step); returns and selects the nodes that replace it."""
        command = UngroupCommand(self.document, node_id)
        shared = self.document.params(node_id).get("shared") and self.document.params(node_id).get("repeat", 1) > 1
        self._do(command)
        if shared:
            self.message.emit(f"{node_id} shared one set of weights between its copies; the expanded copies do not.")
        self.set_selection(command.edit.new_ids)
        return command.edit.new_ids

    def add_block_file(self: EditorController, path: str, pos: tuple[float, float]) -> str:
        """Add an instance of a library block, with the definitions it needs (one undo step)."""
        library = library_for(self.document)
        entries = read_block_file(path, library)
        added, names = plan_merge(library, entries)
        name = names[entries[-1]["name"]]
        with self.batch(f"Add {name}"):
            if added:
                self._do(DefineBlocksCommand(self.document, added, str(path)))
            node_id = self.add_node(name, pos)
        renamed = [f"{old} as {new}" for old, new in names.items() if old != new]
        if renamed:
            self.message.emit(f"This project already has other blocks of these names: added {', '.join(renamed)}.")
        self.set_selection([node_id])
        return node_id

    def shown_params(self: EditorController, node_id: str) -> dict:
        """A node's parameters as the canvas shows them: inside a block, with the opened copy's exposed values."""
        return self.shapes.doc.params(node_id)

    def bound_by(self: EditorController, node_id: str) -> dict[str, str]:
        """Inside a block: which of ``node_id``'s parameters the block node sets, and by which exposed name."""
        if not self.levels:
            return {}
        definition = library_for(self.root).definitions.get(self.levels[-1].name)
        out: dict[str, str] = {}
        for exposed in definition.exposed if definition is not None else ():
            for bind in exposed.binds:
                node, _, param = bind.partition(".")
                if node == node_id:
                    out[param] = exposed.name
        return out

    def remove_definition(self: EditorController, name: str) -> None:
        """Delete an unused block definition (one undo step); one in use is refused, its instances named."""
        self._do(RemoveDefinitionCommand(self.root, name))

    def rename_definition(self: EditorController, old: str, new: str) -> None:
        """Rename a block definition (one undo step): its instances and the definitions using it follow."""
        self._do(RenameDefinitionCommand(self.root, old, new.strip()))

    def expose(self: EditorController, node_id: str, param: str, name: str | None) -> None:
        """Inside a block: make ``node_id``'s ``param`` a parameter of the block called ``name`` (every instance
        gets the current value), or with ``name`` None take it back (one undo step each)."""
        if not self.levels:
            raise GraphError("only a node inside a block has parameters to expose: open a block first")
        self._do(ExposeCommand(self.root, self.levels[-1].name, node_id, param, name))

    def enter_block(self: EditorController, node_id: str, copy: int = 0) -> None:
        """Show the inside of block node ``node_id`` (its repeat ``copy``'s shapes); edits change every instance."""
        definition = self.document.node_type(node_id).block
        if definition is None:
            raise GraphError(f"'{node_id}' is not a block: only block nodes can be opened")
        self.levels.append(Level(self.document, node_id, definition.name, copy, InstanceShapes(definition)))
        self._show_level()

    def show_copy(self: EditorController, copy: int) -> None:
        """Show another copy of the innermost open block's repeat: its shapes and, while training, its badges."""
        if not self.levels:
            return
        level = self.levels[-1]
        repeat = level.parent.params(level.node_id).get("repeat", 1) if level.node_id in level.parent else 1
        copy = max(0, min(copy, repeat - 1))
        if copy != level.copy:
            level.copy = copy
            self._show_level()

    def leave_block(self: EditorController, keep: int | None = None) -> None:
        """Go up to level ``keep`` (0: the project's graph; default: one up); the block left is selected."""
        keep = len(self.levels) - 1 if keep is None else keep
        if not self.levels or keep >= len(self.levels):
            return
        left = self.levels[keep].node_id
        for level in self.levels[keep:]:
            level.shapes.close()
        del self.levels[keep:]
        self._show_level()
        self.set_selection([left])

    def _show_level(self: EditorController) -> None:
        self.document.unsubscribe(self._on_event)
        self.document = self.levels[-1].document if self.levels else self.root
        self.shapes = self.levels[-1].shapes if self.levels else self.root_shapes
        self.document.subscribe(self._on_event)
        if self.levels:
            feed(self.levels, self.root_shapes, library_for(self.root))
        self.shapes.update()
        self._published = dict(self.shapes.infos)
        self._structure = None
        self._selection = []
        self.changed_nodes = list(self.document.node_ids())
        self.levelChanged.emit()
        self.selectionChanged.emit([])
        self.shapesUpdated.emit()

    def open_error(self: EditorController, node_id: str) -> None:
        """Open block node ``node_id`` down to the inner node its error names (its path), and select that node."""
        info = self.shapes.infos.get(node_id)
        path = list(info.error.path) if info is not None and info.error is not None else []
        current = node_id
        while current in self.document and self.document.node_type(current).block is not None:
            params = self.document.params(current)
            copy = int(path.pop(0)) if params["repeat"] > 1 and path and path[0].isdigit() else 0
            self.enter_block(current, copy)
            if not path:
                return
            current = path.pop(0)
        if current in self.document:
            self.set_selection([current])

    def offers(self: EditorController, node_type: NodeType) -> bool:
        """Whether ``node_type`` can be added here: block ports only inside a block, data nodes only outside,
        and no block inside itself."""
        if not self.levels:
            return node_type.role not in ("block_input", "block_output")
        name = self.levels[-1].name
        inner = node_type.type_id == name or name in library_for(self.root).contains(node_type.type_id)
        return node_type.role in INSIDE_ROLES and not inner
