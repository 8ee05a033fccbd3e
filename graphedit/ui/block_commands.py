"""Undo commands for blocks: group, ungroup, definitions added from a block file, renamed, or with a parameter
exposed or taken back (issue 13).

Each keeps what it needs to restore (see :mod:`graphedit.model.grouping`); a definition removed by undo is put
back on redo with the same document, so later commands that edited its inside still apply.
"""

from __future__ import annotations

from typing import Any

from graphedit.model.block_changes import expose, rename_definition, restore, unexpose
from graphedit.model.block_files import add_blocks
from graphedit.model.blocks import BlockDefinition
from graphedit.model.document import GraphDocument
from graphedit.model.grouping import Grouping, Ungrouping, library_for
from graphedit.ui.undo import DocCommand


class GroupCommand(DocCommand):
    def __init__(self, doc: GraphDocument, node_ids: list[str], name: str) -> None:
        super().__init__(doc, f"Group into {name}")
        self.edit = Grouping(doc, node_ids, name)

    def apply(self) -> None:
        self.edit.apply()

    def revert(self) -> None:
        self.edit.revert()


class UngroupCommand(DocCommand):
    def __init__(self, doc: GraphDocument, node_id: str) -> None:
        super().__init__(doc, f"Ungroup {node_id}")
        self.edit = Ungrouping(doc, node_id)

    def apply(self) -> None:
        self.edit.apply()

    def revert(self) -> None:
        self.edit.revert()


class DefineBlocksCommand(DocCommand):
    """Add checked block definitions (from a block file) to the project's library."""

    def __init__(self, doc: GraphDocument, entries: list[dict[str, Any]], source: str) -> None:
        super().__init__(doc, "Add block definitions")
        self.library = library_for(doc)
        self.entries, self.source = entries, source
        self.removed: list[BlockDefinition] = []

    def apply(self) -> None:
        if not self.removed:
            add_blocks(self.library, self.entries, self.source)
            return
        for definition in self.removed:
            self.library.define(definition.name, definition.document, definition.exposed, definition.doc)
        self.removed = []

    def revert(self) -> None:
        self.removed = [self.library.remove(e["name"]) for e in reversed(self.entries)][::-1]


class RemoveDefinitionCommand(DocCommand):
    """Delete an unused definition (one in use is refused with its instances named)."""

    def __init__(self, doc: GraphDocument, name: str) -> None:
        super().__init__(doc, f"Delete block definition {name}")
        self.library, self.name = library_for(doc), name
        self.removed: BlockDefinition | None = None

    def apply(self) -> None:
        self.removed = self.library.remove(self.name)

    def revert(self) -> None:
        d = self.removed
        assert d is not None
        self.library.define(d.name, d.document, d.exposed, d.doc)


class RenameDefinitionCommand(DocCommand):
    """Rename a definition: every instance and every definition using it follow; a taken name is refused."""

    def __init__(self, doc: GraphDocument, old: str, new: str) -> None:
        super().__init__(doc, f"Rename block {old} to {new}")
        self.library, self.old, self.new = library_for(doc), old, new

    def apply(self) -> None:
        rename_definition(self.library, self.old, self.new)

    def revert(self) -> None:
        rename_definition(self.library, self.new, self.old)


class ExposeCommand(DocCommand):
    """Make an inner node's parameter a parameter of the block (``name`` set), or take it back (``name`` None)."""

    def __init__(self, doc: GraphDocument, block: str, node_id: str, param: str, name: str | None) -> None:
        text = f"Expose {node_id}.{param} as {name}" if name else f"Un-expose {node_id}.{param}"
        super().__init__(doc, text)
        self.library, self.block, self.node_id, self.param, self.name = library_for(doc), block, node_id, param, name
        self.before: Any = None

    def apply(self) -> None:
        if self.name:
            self.before = (expose(self.library, self.block, self.node_id, self.param, self.name), None)
        else:
            self.before = unexpose(self.library, self.block, self.node_id, self.param)

    def revert(self) -> None:
        restore(self.library, self.block, *self.before)
