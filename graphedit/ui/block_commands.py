"""Undo commands for blocks: group, ungroup, and definitions added from a block file (issue 13).

Each keeps what it needs to restore (see :mod:`graphedit.model.grouping`); a definition removed by undo is put
back on redo with the same document, so later commands that edited its inside still apply.
"""

from __future__ import annotations

from typing import Any

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
