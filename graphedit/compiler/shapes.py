"""Shape inference on meta tensors (DESIGN.md decision 4).

Each node's layer is built under ``torch.device("meta")`` and run on meta
tensors of its input shapes, in topological order. After an edit only the
edited node and what lies downstream of it are run again. The result per
node is a :class:`NodeInfo`: output shape per port, parameter count, or an
error naming the node, the shapes and a fix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import torch
from torch import nn

from graphedit.compiler.layer_io import (
    LayerResult,
    apply_layer,
    example_bytes,
    explain,
    new_bytes,
    resolve_inputs,
    split_outputs,
)
from graphedit.compiler.layers import Same, build_layer, infer_block, shared_owners
from graphedit.errors import NodeError
from graphedit.model.bulk import collection_paused
from graphedit.model.document import GraphDocument
from graphedit.model.events import (
    EdgeAdded,
    EdgeRemoved,
    Event,
    NodeAdded,
    NodeMuted,
    NodeRemoved,
    NodeRenamed,
    ParamChanged,
    TypesChanged,
)
from graphedit.model.graph_view import GraphView
from graphedit.nodes.data import feature_shape
from graphedit.nodes.spec import NodeType

META_BATCH = 2
MEMO_SIZE = 4096
DTYPES = {"float32": torch.float32, "int64": torch.int64}


@dataclass
class NodeInfo:
    """What shape inference knows about one node."""

    node_id: str
    outputs: dict[str, tuple[int, ...]] = field(default_factory=dict)
    inputs: dict[str, tuple[int, ...]] = field(default_factory=dict)
    params: int = 0
    param_bytes: int = 0  # the layer's parameters and buffers (BatchNorm statistics)
    activation_bytes: int = 0  # this node's new output tensors for one example (views and pass-throughs: 0)
    error: NodeError | None = None
    blocked: bool = False  # an upstream node has an error, so this one cannot be computed

    @property
    def ok(self) -> bool:
        return self.error is None and not self.blocked


MAX_ELEMENTS = 2**48
"""At most this many numbers in one example (far beyond any memory), so a batch never overflows int64 sizes."""


def data_tensor(type_id: str, params: dict[str, Any]) -> torch.Tensor:
    """A meta tensor for an Input/Target node's data."""
    dtype = DTYPES.get(params.get("dtype", "float32"), torch.float32)
    return torch.empty((META_BATCH, *feature_shape(type_id, params)), dtype=dtype, device="meta")


def _memo_key(node_type: NodeType, params: dict[str, Any], values: list[Any]) -> tuple[Any, ...] | None:
    """What a layer's result depends on (``build(params, input_shapes)`` is pure); ``None`` if not hashable."""
    inputs = tuple(None if v is None else (tuple(v.shape), v.dtype, v.stride()) for v in values)
    key = (node_type.type_id, Same(node_type), tuple(sorted(params.items())), inputs)
    try:
        hash(key)
    except TypeError:
        return None
    return key


class ShapeInference:
    """Shapes of every node of a document, kept current incrementally.

    ``update()`` re-runs only nodes marked dirty by document events and
    their descendants. ``run()`` recomputes everything.
    """

    def __init__(self, document: GraphDocument, observe: bool = True) -> None:
        self.document = document
        self.doc: GraphView = document  # what is read: the document, or a block copy's view of it
        self.infos: dict[str, NodeInfo] = {}
        self._values: dict[str, dict[str, Any]] = {}
        self._dirty: set[str] = set(document.node_ids())
        self._order: list[str] | None = None
        self._position: dict[str, int] = {}
        # (type, parameters, input shapes and dtypes) -> result: a repeated block is computed once
        self._memo: dict[tuple[Any, ...], LayerResult] = {}
        self.kernel_runs = 0  # layers built and run on meta tensors (the memo saves the others)
        if observe:
            document.subscribe(self._on_event)

    def close(self) -> None:
        if self._on_event in self.document._listeners:
            self.document.unsubscribe(self._on_event)

    # --------------------------------------------------------------- events
    def _on_event(self, event: Event) -> None:
        if isinstance(event, (NodeAdded, ParamChanged, NodeMuted)):
            self._dirty.add(event.node_id)
        elif isinstance(event, (EdgeAdded, EdgeRemoved)):
            self._dirty.add(event.edge.dst)
        elif isinstance(event, NodeRemoved):
            self.infos.pop(event.node_id, None)
            self._values.pop(event.node_id, None)
            self._dirty.discard(event.node_id)
        elif isinstance(event, TypesChanged):  # a block definition was edited: its instances change
            self._dirty.update(n for n in self.doc.node_ids() if self.doc.node_type(n).type_id in event.type_ids)
        elif isinstance(event, NodeRenamed):
            if event.old_id in self.infos:
                self.infos[event.new_id] = self.infos.pop(event.old_id)
            if event.old_id in self._values:
                self._values[event.new_id] = self._values.pop(event.old_id)
            if event.new_id in self.infos:
                self.infos[event.new_id].node_id = event.new_id
            if event.old_id in self._dirty:
                self._dirty.discard(event.old_id)
                self._dirty.add(event.new_id)
            # errors mention the old name: recompute the renamed node and what follows
            self._dirty.add(event.new_id)
        if not isinstance(event, (ParamChanged, NodeMuted, TypesChanged)):
            self._order = None

    # ------------------------------------------------------------- running
    def order(self) -> list[str]:
        if self._order is None:
            self._order = list(nx.topological_sort(self.doc.graph))
            self._position = {n: i for i, n in enumerate(self._order)}
        return self._order

    def run(self) -> dict[str, NodeInfo]:
        """Recompute every node once, in topological order: O(nodes + edges)."""
        self._dirty.clear()
        with collection_paused():
            for node_id in self.order():
                self._infer(node_id)
        return self.infos

    def update(self) -> dict[str, NodeInfo]:
        """Recompute dirty nodes and everything downstream of them, each once.

        One walk from all dirty nodes together finds what lies downstream, so
        the cost is proportional to the nodes and wires re-run, not to the
        number of dirty nodes times the graph.
        """
        if not self._dirty:
            return self.infos
        todo = reach(self.doc.graph, [n for n in self._dirty if n in self.doc])
        self._dirty.clear()
        self.order()
        for node_id in sorted(todo, key=self._position.__getitem__):
            self._infer(node_id)
        return self.infos

    def _infer(self, node_id: str) -> None:
        node_type = self.doc.node_type(node_id)
        params = self.doc.params(node_id)
        info = NodeInfo(node_id)
        self.infos[node_id] = info
        self._values[node_id] = {}
        if node_type.role in ("input", "target"):
            if math.prod(params.get("shape") or ()) > MAX_ELEMENTS:  # torch's sizes are int64
                info.error = NodeError(
                    node_id,
                    f"the shape {list(params['shape'])} holds more than 2**48 numbers per example",
                    "use the shape of one example (a few dimensions of sensible size)",
                )
                return
            tensor = data_tensor(node_type.type_id, params)
            self._values[node_id] = {node_type.output_ports()[0].name: tensor}
            info.outputs = {k: tuple(v.shape) for k, v in self._values[node_id].items()}
            info.activation_bytes = example_bytes(tensor)
            return
        try:
            values = resolve_inputs(self.doc, node_id, node_type, self._values)
        except NodeError as exc:
            info.error = exc
            return
        except KeyError:  # an upstream node has no value: it has an error itself
            info.blocked = True
            return
        ports = node_type.input_ports(params)
        info.inputs = {p.name: tuple(v.shape) for p, v in zip(ports, values) if isinstance(v, torch.Tensor)}
        if any(not self.infos.get(e.src, NodeInfo(e.src)).ok for e in self.doc.in_edges(node_id)):
            info.blocked = True
            return
        if node_type.role == "output":
            return
        if self.doc.is_muted(node_id) and any(v is not None for v in values):
            first = next(v for v in values if v is not None)
            self._values[node_id] = {p.name: first for p in node_type.output_ports(params)}
        elif node_type.role == "weight_penalty":
            self._values[node_id] = {node_type.output_ports()[0].name: torch.empty((), device="meta")}
        else:
            outputs, info.params, info.param_bytes, problem, activation = self.known(node_type, params, values)
            if problem is not None:
                text, fix, path = problem
                info.error = NodeError(node_id, f"{'/'.join(path)}: {text}" if path else text, fix, path)
                self._values[node_id] = {}
                return
            self._values[node_id] = dict(outputs)
            info.activation_bytes = new_bytes(outputs, values) if activation is None else activation
        info.outputs = {k: tuple(v.shape) for k, v in self._values[node_id].items()}

    def known(self, node_type: NodeType, params: dict[str, Any], values: list[Any]) -> LayerResult:
        """A layer's result from the memo, or computed and remembered."""
        key = _memo_key(node_type, params, values)
        known = self._memo.get(key) if key is not None else None
        if known is None:
            known = self._compute(node_type, params, values)
            if key is not None:
                if len(self._memo) >= MEMO_SIZE:
                    self._memo.clear()
                self._memo[key] = known
        return known

    def _compute(self, node_type: NodeType, params: dict[str, Any], values: list[Any]) -> LayerResult:
        """Build the layer on the meta device and run it; a block walks its copies, each inner layer memoised.

        Returns (outputs by port, parameter count, parameter and buffer bytes, (problem, fix, path) or None).
        """
        shapes = [tuple(v.shape) if isinstance(v, torch.Tensor) else None for v in values]
        count = size = 0
        if node_type.block is not None:
            try:
                if node_type.check is not None:
                    node_type.check(params, shapes)
                outputs, count, size, activation = infer_block(node_type, params, values, self.known)
                return outputs, count, size, None, activation
            except Exception as exc:  # any failure inside becomes an error on the block node, with its path
                error = explain("", node_type, shapes, exc)
                return {}, count, size, (error.problem, error.fix, error.path), None
        self.kernel_runs += 1
        try:
            with torch.device("meta"):
                layer = build_layer(node_type, params, shapes)
                if isinstance(layer, nn.Module):
                    count = sum(p.numel() for p in layer.parameters())
                    size = sum(t.numel() * t.element_size() for t in (*layer.parameters(), *layer.buffers()))
                    layer.train()
                with torch.no_grad():
                    result = apply_layer(layer, values)
            return split_outputs(node_type, result, params), count, size, None, None
        except Exception as exc:  # any failure becomes an error on the node, never a crash
            error = explain("", node_type, shapes, exc)
            return {}, count, size, (error.problem, error.fix, error.path), None

    # --------------------------------------------------------------- queries
    def info(self, node_id: str) -> NodeInfo:
        self.update()
        return self.infos[node_id]

    def errors(self) -> list[NodeError]:
        self.update()
        return [e for n in self.order() if n in self.infos and (e := self.infos[n].error) is not None]

    def total_params(self) -> int:
        """Trainable numbers of the whole graph; shared block instances count once."""
        self.update()
        owners = shared_owners(self.doc, self.order())
        return sum(i.params for n, i in self.infos.items() if owners.get(n, n) == n)


def reach(graph: nx.MultiDiGraph, starts: list[str], upstream: bool = False) -> set[str]:
    """``starts`` and every node reachable from them, downstream or ``upstream``, in one walk.

    Each node's neighbours are read once (per-node ``nx.descendants``/``nx.ancestors`` is quadratic).
    """
    step = graph.predecessors if upstream else graph.successors
    seen = set(starts)
    stack = list(seen)
    while stack:
        for nxt in step(stack.pop()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def port_accepts(inference: ShapeInference, dst: str, dst_port: str, shape: tuple[int, ...] | None) -> bool:
    """Whether a tensor of ``shape`` wired into ``dst.dst_port`` lets ``dst`` compute (the canvas lights such ports).

    The node's other inputs keep their current shapes; while one of them is
    unconnected only the type's ``check`` runs (it compares what is known).
    Unknown shapes fit: nothing says they do not.
    """
    doc = inference.doc
    if shape is None or doc.is_muted(dst):
        return True
    params = doc.params(dst)
    ports = doc.node_type(dst).input_ports(params)
    shapes = [shape if p.name == dst_port else _wired_shape(inference, dst, p.name) for p in ports]
    return type_accepts(doc.node_type(dst), params, shapes)


def type_accepts(node_type: NodeType, params: dict[str, Any], shapes: list[tuple[int, ...] | None]) -> bool:
    """Whether a node of ``node_type`` with ``params`` computes on these input shapes, one per input port in order.

    Ports past the end of ``shapes``, and ``None`` entries, are unwired: while a required one is, only the
    type's ``check`` runs (it compares what is known). The quick-add search asks this of every type.
    """
    if node_type.role in ("output", "weight_penalty"):
        return True
    ports = node_type.input_ports(params)
    shapes = [*shapes, *[None] * (len(ports) - len(shapes))]
    missing = any(s is None and not p.optional for s, p in zip(shapes, ports))
    try:
        with torch.device("meta"), torch.no_grad():
            if missing:
                if node_type.check is not None:
                    node_type.check(params, shapes)
                return True
            layer = build_layer(node_type, params, shapes)
            values = [None if s is None else torch.empty(s, device="meta") for s in shapes]
            apply_layer(layer, values)
    except Exception:  # any failure means: this wire would put the node in error
        return False
    return True


def _wired_shape(inference: ShapeInference, node_id: str, port: str) -> tuple[int, ...] | None:
    edge = inference.doc.edge_into(node_id, port)
    if edge is None:
        return None
    info = inference.infos.get(edge.src)
    return info.outputs.get(edge.src_port) if info is not None else None
