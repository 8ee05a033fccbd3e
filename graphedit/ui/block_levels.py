"""The path of open blocks the canvas shows: each level is one block node opened from the level above.

The controller edits the innermost level's document (a definition's inside); each level's shapes are those of
one copy of the opened block node, fed by the level above (see :mod:`graphedit.compiler.block_shapes`).
"""

from __future__ import annotations

from dataclasses import dataclass

from graphedit.compiler.block_shapes import InstanceShapes, copy_input_shapes
from graphedit.compiler.shapes import ShapeInference
from graphedit.model.blocks import BlockLibrary, instance_values
from graphedit.model.document import GraphDocument


@dataclass
class Level:
    """Block node ``node_id`` of ``parent``, an instance of definition ``name``, opened at repeat ``copy``."""

    parent: GraphDocument
    node_id: str
    name: str
    copy: int
    shapes: InstanceShapes

    @property
    def document(self) -> GraphDocument:
        return self.shapes.definition.document


def feed(levels: list[Level], root: ShapeInference, library: BlockLibrary) -> int:
    """Bring every level's shapes up to date from the top; returns how many levels are still valid.

    A level stops being valid when its block node is gone or is no longer an instance of its definition (an undo
    removed it): the canvas then goes back up to the last valid one.
    """
    root.update()
    above: ShapeInference = root
    for depth, level in enumerate(levels):
        doc = level.parent
        if level.node_id not in doc:
            return depth
        node_type = doc.node_type(level.node_id)
        if node_type.block is not None and node_type.block.document is level.document:
            level.name = node_type.type_id  # the definition was renamed (or the rename undone)
        if level.name not in library.definitions:
            return depth
        if node_type.type_id != level.name:
            return depth
        level.shapes.definition = library.definitions[level.name]  # a redo re-defines it around the same document
        params = above.doc.params(level.node_id)  # inside a block: with the exposed values of the copy above
        info = above.infos.get(level.node_id)
        fed = [info.inputs.get(p.name) if info is not None else None for p in node_type.input_ports(params)]
        copy = min(level.copy, params["repeat"] - 1)
        try:
            values = instance_values(node_type, params, copy)
            shapes = copy_input_shapes(node_type, params, fed, copy) if all(fed) else fed
        except Exception:  # an earlier copy fails: the canvas shows this copy unfed
            values, shapes = {}, [None] * len(fed)
        level.shapes.set_instance(values, shapes)
        level.shapes.update()
        above = level.shapes
    return len(levels)
