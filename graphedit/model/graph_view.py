"""What shape inference and the compiler read of a graph document.

:class:`~graphedit.model.document.GraphDocument` has all of it; a block copy's view of its definition's document
(``compiler/block_shapes``) reads the same document with the block node's bound parameters laid over it.
"""

from __future__ import annotations

from typing import Any, Protocol

import networkx as nx

from graphedit.model.events import Edge
from graphedit.nodes.spec import NodeType


class GraphView(Protocol):
    """The read side of a graph document: its nodes, their types and parameters, and the wires."""

    @property
    def graph(self) -> nx.MultiDiGraph: ...

    def __contains__(self, node_id: str) -> bool: ...

    def node_ids(self) -> list[str]: ...

    def node_type(self, node_id: str) -> NodeType: ...

    def params(self, node_id: str) -> dict[str, Any]: ...

    def is_muted(self, node_id: str) -> bool: ...

    def in_edges(self, node_id: str) -> list[Edge]: ...

    def edge_into(self, node_id: str, port: str) -> Edge | None: ...
