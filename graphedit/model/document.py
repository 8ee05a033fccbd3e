"""The graph document: a ``networkx.MultiDiGraph`` that only holds valid graphs.

Every change goes through one of a few operations (add/remove node,
connect/disconnect, set parameter, move, rename, mute), each of which
validates, applies and then emits an event (DESIGN.md decisions 1 and 2).
Node attributes: ``type`` (type id), ``params`` (validated dict),
``position`` ((x, y)), ``muted`` (bool), ``frozen`` (bool: its weights are not trained and its
batch-norm statistics kept) and ``lr_scale`` (its learning-rate multiplier). Edges are keyed by
``(src_port, dst_port)``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

import networkx as nx

from graphedit.errors import GraphError
from graphedit.model.annotations import Annotations
from graphedit.model.events import (
    Edge,
    EdgeAdded,
    EdgeRemoved,
    Event,
    NodeAdded,
    NodeMoved,
    NodeMuted,
    NodeRemoved,
    NodeRenamed,
    NodeTrainingChanged,
    ParamChanged,
    TypesChanged,
)
from graphedit.model.node_names import check_node_id
from graphedit.model.topo_order import TopologicalOrder
from graphedit.nodes.registry import Registry, default_registry
from graphedit.nodes.spec import NodeType

Listener = Callable[[Event], None]


class GraphDocument:
    """A validated, observable DAG of nodes. See the module doc."""

    def __init__(self, registry: Registry | None = None, index_ids: bool = False) -> None:
        self.registry = registry or default_registry()
        self.graph = nx.MultiDiGraph()
        self.index_ids = index_ids
        # why a node of a type may not be added here (a block definition cannot contain itself), or None
        self.type_guard: Callable[[str], str | None] | None = None
        self.annotations = Annotations()  # frames and notes: labels on the canvas, no part of the network
        self._listeners: list[Listener] = []
        self._free_from: dict[str, int] = {}  # prefix -> every lower number is taken (see new_id)
        self._topo = TopologicalOrder()  # makes the cycle test of most new wires O(1)

    # ----------------------------------------------------------------- events
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def _emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            listener(event)

    def types_changed(self, type_ids: Collection[str]) -> None:
        """Tell listeners that these (block) types changed, so nodes of them are computed again."""
        if any(data["type"] in type_ids for _, data in self.graph.nodes(data=True)):
            self._emit(TypesChanged(frozenset(type_ids)))

    # ---------------------------------------------------------------- queries
    def __contains__(self, node_id: str) -> bool:
        return node_id in self.graph

    def __len__(self) -> int:
        return int(self.graph.number_of_nodes())

    def node_ids(self) -> list[str]:
        return list(self.graph.nodes)

    def node_type(self, node_id: str) -> NodeType:
        return self.registry.get(self._node(node_id)["type"])

    def params(self, node_id: str) -> dict[str, Any]:
        return dict(self._node(node_id)["params"])

    def position(self, node_id: str) -> tuple[float, float]:
        position: tuple[float, float] = self._node(node_id)["position"]
        return position

    def is_muted(self, node_id: str) -> bool:
        return bool(self._node(node_id).get("muted", False))

    def is_frozen(self, node_id: str) -> bool:
        return bool(self._node(node_id).get("frozen", False))

    def lr_scale(self, node_id: str) -> float:
        return float(self._node(node_id).get("lr_scale", 1.0))

    def edges(self) -> list[Edge]:
        return [Edge(u, k[0], v, k[1]) for u, v, k in self.graph.edges(keys=True)]

    def in_edges(self, node_id: str) -> list[Edge]:
        return [Edge(u, k[0], v, k[1]) for u, v, k in self.graph.in_edges(node_id, keys=True)]

    def out_edges(self, node_id: str) -> list[Edge]:
        return [Edge(u, k[0], v, k[1]) for u, v, k in self.graph.out_edges(node_id, keys=True)]

    def edge_into(self, node_id: str, port: str) -> Edge | None:
        for e in self.in_edges(node_id):
            if e.dst_port == port:
                return e
        return None

    def topological_order(self) -> list[str]:
        return list(nx.lexicographical_topological_sort(self.graph))

    def descendants(self, node_id: str) -> set[str]:
        found: set[str] = nx.descendants(self.graph, node_id)
        return found

    def new_id(self, type_id: str, taken: Collection[str] = ()) -> str:
        """The first free ``<prefix><n>`` (``conv1``, ``conv2``, ...), also avoiding ``taken`` (a paste).

        A per-prefix lower bound keeps adding N nodes O(N).
        """
        stem = self.registry.get(type_id).prefix
        i = self._free_from.get(stem, 1)
        while f"{stem}{i}" in self.graph:
            i += 1
        self._free_from[stem] = i
        while f"{stem}{i}" in self.graph or f"{stem}{i}" in taken:
            i += 1
        return f"{stem}{i}"

    def _node(self, node_id: str) -> dict[str, Any]:
        try:
            data: dict[str, Any] = self.graph.nodes[node_id]
        except KeyError:
            raise GraphError(f"there is no node '{node_id}' in the graph.") from None
        return data

    def check_connect(self, src: str, src_port: str, dst: str, dst_port: str) -> str | None:
        """Why ``src.src_port → dst.dst_port`` cannot be made, or ``None`` if it can.

        An occupied input is not a reason: :meth:`connect` replaces its edge.
        """
        if src not in self.graph or dst not in self.graph:
            missing = src if src not in self.graph else dst
            return f"there is no node '{missing}' in the graph."
        if src_port not in {p.name for p in self.node_type(src).output_ports(self._node(src)["params"])}:
            return f"node '{src}' has no output port '{src_port}'."
        ports = {p.name for p in self.node_type(dst).input_ports(self._node(dst)["params"])}
        if dst_port not in ports:
            return f"node '{dst}' has no input port '{dst_port}'; its inputs are {', '.join(sorted(ports)) or 'none'}."
        if self._topo.closes_cycle(self.graph, src, dst):
            return (
                f"connecting '{src}' to '{dst}' would close a cycle ({dst} already feeds {src}); "
                "a network must be acyclic: connect to a node that is not upstream."
            )
        return None

    # ------------------------------------------------------------- operations
    def add_node(
        self,
        type_id: str,
        params: dict[str, Any] | None = None,
        position: tuple[float, float] = (0.0, 0.0),
        node_id: str | None = None,
        muted: bool = False,
        frozen: bool = False,
        lr_scale: float = 1.0,
    ) -> str:
        node_type = self.registry.get(type_id)
        refused = self.type_guard(node_type.type_id) if self.type_guard is not None else None
        if refused:
            raise GraphError(refused)
        node_id = node_id or self.new_id(node_type.type_id)
        self._check_new_id(node_id)
        values = node_type.validate_params(params, where=f"node '{node_id}': ")
        lr_scale = check_lr_scale(lr_scale, node_id)
        self.graph.add_node(
            node_id,
            type=node_type.type_id,
            params=values,
            position=(float(position[0]), float(position[1])),
            muted=bool(muted),
            frozen=bool(frozen),
            lr_scale=lr_scale,
        )
        self._topo.add(node_id)
        self._emit(NodeAdded(node_id))
        return node_id

    def remove_node(self, node_id: str) -> None:
        self._node(node_id)
        for e in self.in_edges(node_id) + self.out_edges(node_id):
            self.disconnect(e)
        self.graph.remove_node(node_id)
        self._topo.remove(node_id)
        self._free_from.clear()
        self._emit(NodeRemoved(node_id))

    def connect(self, src: str, src_port: str, dst: str, dst_port: str) -> Edge:
        """Connect two ports; an edge already into ``dst_port`` is replaced."""
        reason = self.check_connect(src, src_port, dst, dst_port)
        if reason:
            raise GraphError(reason)
        old = self.edge_into(dst, dst_port)
        if old is not None:
            if old == Edge(src, src_port, dst, dst_port):
                return old
            self.disconnect(old)
        self.graph.add_edge(src, dst, key=(src_port, dst_port))
        self._topo.connected(self.graph, src, dst)
        edge = Edge(src, src_port, dst, dst_port)
        self._emit(EdgeAdded(edge))
        return edge

    def disconnect(self, edge: Edge) -> None:
        if not self.graph.has_edge(edge.src, edge.dst, key=(edge.src_port, edge.dst_port)):
            raise GraphError(f"there is no wire {edge.src}.{edge.src_port} → {edge.dst}.{edge.dst_port}.")
        self.graph.remove_edge(edge.src, edge.dst, key=(edge.src_port, edge.dst_port))
        self._emit(EdgeRemoved(edge))

    def set_param(self, node_id: str, name: str, value: Any) -> None:
        data = self._node(node_id)
        node_type = self.registry.get(data["type"])
        old_params = data["params"]
        new_params = node_type.validate_params({**old_params, name: value}, where=f"node '{node_id}': ")
        if new_params[name] == old_params.get(name):
            return
        if node_type.variadic == name:
            keep = {p.name for p in node_type.input_ports(new_params)}
            lost = [e.dst_port for e in self.in_edges(node_id) if e.dst_port not in keep]
            if lost:
                raise GraphError(
                    f"node '{node_id}': input {', '.join(lost)} is still connected; disconnect it before "
                    f"lowering '{name}' to {new_params[name]}."
                )
        if node_type.variadic_outputs == name:
            keep = {p.name for p in node_type.output_ports(new_params)}
            lost = sorted({e.src_port for e in self.out_edges(node_id) if e.src_port not in keep})
            if lost:
                raise GraphError(
                    f"node '{node_id}': output {', '.join(lost)} is still connected; disconnect it before "
                    f"changing '{name}'."
                )
        data["params"] = new_params
        self._emit(ParamChanged(node_id, name, old_params.get(name), new_params[name]))

    def move(self, node_id: str, position: tuple[float, float]) -> None:
        data = self._node(node_id)
        old = data["position"]
        new = (float(position[0]), float(position[1]))
        if new == old:
            return
        data["position"] = new
        self._emit(NodeMoved(node_id, old, new))

    def rename(self, node_id: str, new_id: str) -> None:
        """Give a node a new id; its wires follow. Ids are Python identifiers (they name layers in code)."""
        self._node(node_id)
        if new_id == node_id:
            return
        self._check_new_id(new_id)
        nx.relabel_nodes(self.graph, {node_id: new_id}, copy=False)
        self._topo.rename(node_id, new_id)
        self._free_from.clear()
        self._emit(NodeRenamed(node_id, new_id))

    def set_muted(self, node_id: str, muted: bool) -> None:
        data = self._node(node_id)
        if bool(data.get("muted")) == bool(muted):
            return
        data["muted"] = bool(muted)
        self._emit(NodeMuted(node_id, bool(muted)))

    def set_training(self, node_id: str, frozen: bool | None = None, lr_scale: float | None = None) -> None:
        """Freeze or unfreeze a node, or set its learning-rate multiplier (``None``: unchanged)."""
        data = self._node(node_id)
        new_frozen = bool(data.get("frozen")) if frozen is None else bool(frozen)
        new_scale = float(data.get("lr_scale", 1.0)) if lr_scale is None else check_lr_scale(lr_scale, node_id)
        if (new_frozen, new_scale) == (bool(data.get("frozen")), float(data.get("lr_scale", 1.0))):
            return
        data["frozen"], data["lr_scale"] = new_frozen, new_scale
        self._emit(NodeTrainingChanged(node_id, new_frozen, new_scale))

    def clear(self) -> None:
        for node_id in list(self.graph.nodes):
            self.remove_node(node_id)

    def _check_new_id(self, node_id: str) -> None:
        check_node_id(node_id, self.index_ids)
        if node_id in self.graph:
            raise GraphError(f"a node named '{node_id}' already exists; choose another name.")

    # ---------------------------------------------------------- serialisation
    def node_to_json(self, node_id: str) -> dict[str, Any]:
        data = self._node(node_id)
        node_type = self.registry.get(data["type"])
        out: dict[str, Any] = {
            "id": node_id,
            "type": data["type"],
            "params": node_type.params_to_json(data["params"]),
            "position": [round(data["position"][0], 2), round(data["position"][1], 2)],
        }
        if data.get("muted"):
            out["muted"] = True
        if data.get("frozen"):
            out["frozen"] = True
        if data.get("lr_scale", 1.0) != 1.0:
            out["lr_scale"] = data["lr_scale"]
        return out

    def to_json(self, node_ids: Iterable[str] | None = None) -> dict[str, Any]:
        """The (sub)graph as JSON: the nodes and the edges among them, in a stable order."""
        ids = list(self.graph.nodes) if node_ids is None else [n for n in node_ids if n in self.graph]
        chosen = set(ids)
        nodes = [self.node_to_json(n) for n in ids]
        edges = [e.to_json() for e in self.edges() if e.src in chosen and e.dst in chosen]
        edges.sort(key=lambda e: (e["dst"], e["dst_port"]))
        return {"nodes": nodes, "edges": edges}

    def insert_json(
        self, data: dict[str, Any], offset: tuple[float, float] = (0.0, 0.0), keep_ids: bool = False
    ) -> dict[str, str]:
        """Insert a subgraph from :meth:`to_json`; returns old id → new id.

        With ``keep_ids`` the ids must be free (undo of a delete); otherwise a
        taken id gets a fresh one (paste). On any error nothing is inserted.
        """
        mapping: dict[str, str] = {}
        added: list[str] = []
        try:
            for node in data.get("nodes", []):
                old = node["id"]
                wanted = old if (keep_ids or old not in self.graph) and old not in mapping.values() else None
                if wanted is not None and wanted in self.graph:
                    raise GraphError(f"a node named '{wanted}' already exists; cannot insert it again.")
                x, y = node.get("position", (0.0, 0.0))
                new = self.add_node(
                    node["type"],
                    node.get("params", {}),
                    (x + offset[0], y + offset[1]),
                    node_id=wanted,
                    muted=node.get("muted", False),
                    frozen=node.get("frozen", False),
                    lr_scale=node.get("lr_scale", 1.0),
                )
                mapping[old] = new
                added.append(new)
            for e in data.get("edges", []):
                if e["src"] in mapping and e["dst"] in mapping:
                    self.connect(mapping[e["src"]], e["src_port"], mapping[e["dst"]], e["dst_port"])
        except Exception:
            for n in reversed(added):
                if n in self.graph:
                    self.remove_node(n)
            raise
        return mapping

    @classmethod
    def from_json(cls, data: dict[str, Any], registry: Registry | None = None) -> GraphDocument:
        doc = cls(registry)
        doc.insert_json(data, keep_ids=True)
        return doc


LR_SCALE_MAX = 100.0


def check_lr_scale(value: Any, node_id: str) -> float:
    """A node's learning-rate multiplier: a number in (0, 100]; freezing, not 0, stops a node learning."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value <= LR_SCALE_MAX:
        raise GraphError(
            f"node '{node_id}': lr_scale {value!r} must be a number above 0 and at most {LR_SCALE_MAX:g}. "
            "Fix: use e.g. 0.1 to train it ten times slower, or freeze the node to stop it learning."
        )
    return float(value)
