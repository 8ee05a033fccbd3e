"""Shapes inside one copy of a block node: what the canvas shows while a block is open (issue 13).

:class:`InstanceShapes` is a :class:`ShapeInference` of a definition's document fed the way one copy of one block
node is fed: its ``BlockInput`` nodes carry the copy's input shapes, its inner parameters have the node's exposed
values (and that copy's overrides) applied, and an inner node switched off by an ``enabled`` binding passes its
input through, as the compiled block does. Edits inside are inferred incrementally like any document.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import networkx as nx
import torch

from graphedit.compiler.layer_io import resolve_inputs
from graphedit.compiler.layers import build_copy
from graphedit.compiler.shapes import NodeInfo, ShapeInference
from graphedit.errors import GraphEditError, NodeError
from graphedit.model.blocks import BlockDefinition, instance_values
from graphedit.model.document import GraphDocument
from graphedit.model.events import Edge
from graphedit.nodes.spec import NodeType, Shape, shape_text

INSIDE_ROLES = ("layer", "block_input", "block_output")


def copy_input_shapes(
    node_type: NodeType, params: dict[str, Any], shapes: list[Shape | None], copy: int
) -> list[Shape | None]:
    """The input shapes of repeat ``copy`` of a block node fed ``shapes``: the previous copy's outputs."""
    if params.get("shared") or copy == 0:
        return list(shapes)
    current: Sequence[Shape | None] = shapes
    with torch.device("meta"), torch.no_grad():
        for index in range(copy):
            _, current = build_copy(node_type.block, instance_values(node_type, params, index), current)
    return list(current)


class _Bound:
    """The definition's document as one copy sees it: bound parameters, disabled nodes muted."""

    def __init__(self, document: GraphDocument) -> None:
        self._doc = document
        self.bound: dict[str, dict[str, Any]] = {}  # per node: only the parameters the block node sets
        self.disabled: set[str] = set()

    def __getattr__(self, name: str) -> Any:  # the rest of the document's reads (the editor's inside a block)
        return getattr(self._doc, name)

    @property
    def graph(self) -> nx.MultiDiGraph:
        return self._doc.graph

    def node_ids(self) -> list[str]:
        return self._doc.node_ids()

    def node_type(self, node_id: str) -> NodeType:
        return self._doc.node_type(node_id)

    def in_edges(self, node_id: str) -> list[Edge]:
        return self._doc.in_edges(node_id)

    def edge_into(self, node_id: str, port: str) -> Edge | None:
        return self._doc.edge_into(node_id, port)

    def __contains__(self, node_id: str) -> bool:
        return node_id in self._doc

    def __len__(self) -> int:
        return len(self._doc)

    def params(self, node_id: str) -> dict[str, Any]:
        """The node's own parameters with the values the block node binds (current even right after an edit)."""
        return {**self._doc.params(node_id), **self.bound.get(node_id, {})}

    def is_muted(self, node_id: str) -> bool:
        return node_id in self.disabled or self._doc.is_muted(node_id)


class InstanceShapes(ShapeInference):
    """Shapes of a definition's inner nodes for one copy of one block node; see the module doc."""

    def __init__(self, definition: BlockDefinition) -> None:
        self.definition = definition
        self.view = _Bound(definition.document)
        super().__init__(definition.document)
        self.doc = self.view  # reads go through the bound view
        self.port_shapes: dict[str, Shape | None] = {}
        self._values_in: dict[str, Any] | None = None
        self._last: tuple[dict[str, Any], set[str]] = ({}, set())

    def close(self) -> None:
        if self._on_event in self.view._doc._listeners:
            self.view._doc.unsubscribe(self._on_event)

    def set_instance(self, values: dict[str, Any], shapes: list[Shape | None]) -> None:
        """Feed the inside as one copy: its exposed ``values`` and its input ``shapes`` (one per input port)."""
        ports = dict(zip(self.definition.inputs(), shapes))
        if values == self._values_in and ports == self.port_shapes:
            return
        self._values_in, self.port_shapes = dict(values), ports
        self._dirty.update(self.view._doc.node_ids())

    def update(self) -> dict[str, NodeInfo]:
        if self._dirty:
            try:
                params, self.view.disabled = self.definition.bound_params(self._values_in or {})
            except GraphEditError:  # an exposed binding names a removed node: show the inside as it is
                params, self.view.disabled = {}, set()
            keys: dict[str, set[str]] = {}
            for exposed in self.definition.exposed:
                if exposed.name in (self._values_in or {}):
                    for bind in exposed.binds:
                        node, _, param = bind.partition(".")
                        keys.setdefault(node, set()).add(param)
            self.view.bound = {n: {k: v for k, v in p.items() if k in keys.get(n, ())} for n, p in params.items()}
            old, bound = self._last, (self.view.bound, self.view.disabled)
            self._dirty.update(n for n in self.view._doc.node_ids() if old[0].get(n) != bound[0].get(n))
            self._dirty.update(old[1] ^ bound[1])
            self._last = bound
        return super().update()

    def run(self) -> dict[str, NodeInfo]:
        self._dirty.update(self.view._doc.node_ids())
        return self.update()

    def _infer(self, node_id: str) -> None:
        node_type = self.view.node_type(node_id)
        role = node_type.role
        if role == "layer":
            super()._infer(node_id)
            return
        info = NodeInfo(node_id)
        self.infos[node_id] = info
        self._values[node_id] = {}
        if role == "block_input":
            shape = self.port_shapes.get(node_id)
            if shape is None:
                info.blocked = True  # the block node's port is not connected, or what feeds it has an error
                return
            self._values[node_id] = {"y": torch.empty(shape, device="meta")}
            info.outputs = {"y": tuple(shape)}
        elif role == "block_output":
            try:
                values = resolve_inputs(self.view, node_id, node_type, self._values)
            except NodeError as exc:
                info.error = exc
                return
            except KeyError:
                info.blocked = True
                return
            info.inputs = {"x": tuple(values[0].shape)}
        else:
            info.error = NodeError(
                node_id,
                f"a {node_type.title} node cannot be inside a block",
                "keep data, loss and metric nodes in the top-level graph",
            )

    def describe(self) -> str:
        """``[N, 64, 8, 8] → [N, 128, 4, 4]``: what this copy takes and gives."""
        ins = ", ".join(shape_text(s) if s else "?" for s in self.port_shapes.values())
        outs = [self.infos.get(o) for o in self.definition.outputs()]
        given = ", ".join(shape_text(next(iter(i.inputs.values()))) if i and i.inputs else "?" for i in outs)
        return f"{ins or 'no inputs'} → {given or 'no outputs'}"
