"""The controller's edits that wire a new node in, and the node types that fit a port.

A node dropped onto a wire sits in it (src → node → dst); a node chosen in quick add after a wire was dragged to empty
canvas is wired to that wire's port, at the first free input (or first output) that :func:`fitting_port` names;
:meth:`WireEdits.compatible_types` is what quick add offers there. A mixin of
:class:`graphedit.ui.controller.EditorController`: each edit is one undo step through its ``batch``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphedit.compiler.shapes import type_accepts
from graphedit.errors import GraphError
from graphedit.model.document import GraphDocument
from graphedit.model.events import Edge
from graphedit.nodes.spec import NodeType

if TYPE_CHECKING:
    from graphedit.ui.controller import EditorController


class WireEdits:
    """Mixed into the controller; see the module doc."""

    def insert_on_edge(self: EditorController, node_id: str, edge: Edge) -> None:
        """Put a node into a wire: src → node → dst, as one undo step."""
        edge = Edge(*edge)
        node_type = self.document.node_type(node_id)
        params = self.document.params(node_id)
        ins = [p.name for p in node_type.input_ports(params)]
        outs = [p.name for p in node_type.output_ports()]
        if not ins or not outs:
            raise GraphError(f"node '{node_id}' needs an input and an output to sit in a wire.")
        free = [p for p in ins if self.document.edge_into(node_id, p) is None]
        with self.batch(f"Insert {node_id}"):
            self.connect(edge.src, edge.src_port, node_id, (free or ins)[0])
            self.connect(node_id, outs[0], edge.dst, edge.dst_port)

    def add_node_connected(
        self: EditorController,
        type_id: str,
        pos: tuple[float, float],
        port: tuple[str, str, bool],
        params: dict | None = None,
    ) -> str:
        """Add a node and wire it to ``port`` = (node, port name, is_output), as one undo step."""
        node, port_name, is_output = port
        with self.batch(f"Add {type_id}"):
            new = self.add_node(type_id, pos, params)
            pair = fitting_port(self.document, new, want_input=is_output)
            if pair is None:
                raise GraphError(f"{type_id} has no port to connect to {node}.{port_name}.")
            if is_output:
                self.connect(node, port_name, new, pair)
            else:
                self.connect(new, pair, node, port_name)
        return new

    def compatible_types(self: EditorController, port: tuple[str, str, bool] | None) -> list[NodeType]:
        """Node types that fit ``port`` = (node, port name, is_output); all types for ``None``.

        From an output with a known shape, a layer fits if it builds and runs on that shape.
        """
        types = [t for t in self.registry.types() if self.offers(t)]
        if port is None:
            return types
        node, name, is_output = port
        if not is_output:
            return [t for t in types if t.output_ports()]
        info = self.shapes.infos.get(node)
        shape = info.outputs.get(name) if info is not None else None
        return [
            t
            for t in types
            if t.input_ports(t.defaults()) and (shape is None or type_accepts(t, t.defaults(), [shape]))
        ]


def fitting_port(doc: GraphDocument, node_id: str, want_input: bool) -> str | None:
    """The first free input (or the first output) of a node, to wire a new node to."""
    node_type = doc.node_type(node_id)
    if not want_input:
        outs = node_type.output_ports()
        return outs[0].name if outs else None
    ins = [p.name for p in node_type.input_ports(doc.params(node_id))]
    free = [p for p in ins if doc.edge_into(node_id, p) is None]
    return (free or ins or [None])[0]
