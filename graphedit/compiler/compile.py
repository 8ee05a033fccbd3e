"""Compile a graph document to ``torch.fx.GraphModule``s (DESIGN.md decision 5).

The fx graph is built directly, no tracing: placeholders for Input and
Target nodes, ``call_module`` for layers (submodules named by node id),
``call_function`` for stateless ops, and ``node.meta["graphedit_id"]`` on
every fx node so run-time errors point back to the canvas.

Three modules share one ``root`` holding the layers, so they share weights:

* ``model``: inputs → outputs, inference only; what is exported. Train-only
  nodes (noise) and muted nodes pass their input through.
* ``objective``: inputs and targets → ``{"loss": total, <loss id>: ..., <metric id>: ...}``.
* ``taps``: inputs and targets → every node's output by id, for probes.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import torch
from torch import fx, nn
from torch.fx.node import Argument

from graphedit.compiler.block_modules import block_inner_values, inner_names, inner_training
from graphedit.compiler.layers import build_layer, shapes_from, shared_owners
from graphedit.compiler.shapes import ShapeInference, reach
from graphedit.errors import NodeError
from graphedit.model.bulk import collection_paused
from graphedit.model.document import GraphDocument
from graphedit.nodes.data import feature_shape
from graphedit.nodes.init import apply_init
from graphedit.nodes.spec import Call

LOSS_ROLES = ("loss", "weight_penalty")


class CompileError(NodeError):
    """The graph has errors; ``errors`` lists all of them, the message shows the first."""

    def __init__(self, errors: list[NodeError]) -> None:
        self.errors = errors
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first.node_id, first.problem + more, first.fix)


@dataclass
class Compiled:
    root: nn.Module
    model: fx.GraphModule
    objective: fx.GraphModule | None
    taps: fx.GraphModule
    input_ids: list[str]
    target_ids: list[str]
    output_ids: list[str]
    loss_ids: list[str]
    metric_ids: list[str]
    input_specs: dict[str, tuple[tuple[int, ...], str]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    # nodes whose weights are not trained (training/optim.py freeze); inside blocks, module paths (``layer1.0.conv1``)
    frozen_ids: list[str] = field(default_factory=list)
    lr_scales: dict[str, float] = field(default_factory=dict)  # learning-rate multipliers other than 1, by node/path

    def to(self, device: str | torch.device) -> Compiled:
        self.root.to(device)
        return self


def compile_graph(
    document: GraphDocument,
    device: str | torch.device = "cpu",
    seed: int | None = None,
    shapes: ShapeInference | None = None,
) -> Compiled:
    """Build the layers (with their chosen init) and the three fx modules. Raises :class:`CompileError`."""
    with collection_paused():  # one bulk build: see graphedit/model/bulk.py
        inference = shapes or ShapeInference(document, observe=False)
        if shapes is None:
            inference.run()
        with shapes_from(inference.known):  # block copies read their inner layers' shapes from the inference
            return _compile(document, device, seed, inference)


def _compile(
    document: GraphDocument, device: str | torch.device, seed: int | None, inference: ShapeInference
) -> Compiled:
    errors = inference.errors()
    if errors:
        raise CompileError(errors)
    order = list(nx.lexicographical_topological_sort(document.graph))
    if seed is not None:
        torch.manual_seed(seed)
    root = nn.Module()
    layers: dict[str, Any] = {}
    owners = shared_owners(document, order)
    _check_shared(document, owners)
    for node_id in order:
        node_type = document.node_type(node_id)
        if node_type.role in ("input", "target", "output") or (node_type.build is None and node_type.block is None):
            continue
        if owners.get(node_id, node_id) != node_id:
            layers[node_id] = layers[owners[node_id]]
            continue
        info = inference.infos[node_id]
        params = document.params(node_id)
        shapes_in = [info.inputs.get(p.name) for p in node_type.input_ports(params)]
        layer = build_layer(node_type, params, shapes_in)
        if isinstance(layer, nn.Module):
            if node_type.has_weights_init:
                apply_init(layer, params["init"])
            root.add_module(node_id, layer)
        layers[node_id] = layer
    root.to(device)

    roles = {n: document.node_type(n).role for n in order}
    input_ids = [n for n in order if roles[n] == "input"]
    target_ids = [n for n in order if roles[n] == "target"]
    output_ids = [n for n in order if roles[n] == "output"]
    loss_ids = [n for n in order if roles[n] in LOSS_ROLES]
    metric_ids = [n for n in order if roles[n] == "metric"]
    builder = _Builder(document, order, layers, root, owners)

    model_outputs = _model_outputs(document, output_ids, loss_ids, order)
    model = builder.module(model_outputs, mode="model")
    objective = builder.module([*loss_ids, *metric_ids], mode="objective") if (loss_ids or metric_ids) else None
    taps = builder.module([n for n in order if roles[n] != "output"], mode="taps")
    specs = {}
    for n in input_ids + target_ids:
        p = document.params(n)
        specs[n] = (feature_shape(document.node_type(n).type_id, p), p.get("dtype", "float32"))
    compiled = Compiled(
        root, model, objective, taps, input_ids, target_ids, output_ids, loss_ids, metric_ids, specs, order
    )
    compiled.frozen_ids = [n for n in order if document.is_frozen(n)]
    compiled.lr_scales = {n: document.lr_scale(n) for n in order if document.lr_scale(n) != 1.0}
    for n in order:  # frozen nodes and learning rates inside block definitions: in every copy (shared: once)
        block = document.node_type(n).block
        module = root._modules.get(n)
        if block is not None and not document.is_frozen(n) and owners.get(n, n) == n and module is not None:
            frozen, scales = inner_training(block, module, n, document.lr_scale(n))
            compiled.frozen_ids += frozen
            compiled.lr_scales.update(scales)
    return compiled


def _check_shared(document: GraphDocument, owners: dict[str, str]) -> None:
    """Shared instances must have equal parameters (one module cannot be two things); raises :class:`CompileError`."""
    errors = []
    for node_id, owner in owners.items():
        params, first = document.params(node_id), document.params(owner)
        if params != first:
            differ = sorted(k for k in params if params[k] != first.get(k))
            errors.append(
                NodeError(
                    node_id,
                    f"it shares weights with '{owner}' but its {', '.join(differ)} differ",
                    "give both the same values, or switch 'shared' off on one of them",
                )
            )
    if errors:
        raise CompileError(errors)


def _model_outputs(doc: GraphDocument, output_ids: list[str], loss_ids: list[str], order: list[str]) -> list[str]:
    """Output nodes if any; otherwise what feeds the first input of each loss; otherwise the sinks."""
    if output_ids:
        return output_ids
    fed = []
    for loss in loss_ids:
        edges = sorted(doc.in_edges(loss), key=lambda e: e.dst_port)
        ports = [p.name for p in doc.node_type(loss).input_ports(doc.params(loss))]
        edges.sort(key=lambda e: ports.index(e.dst_port))
        if edges and doc.node_type(edges[0].src).role not in ("input", "target") and edges[0].src not in fed:
            fed.append(edges[0].src)
    if fed:
        return fed
    return [n for n in order if doc.graph.out_degree(n) == 0 and doc.node_type(n).role == "layer"]


class _Builder:
    """Emits fx graphs over a fixed set of built layers."""

    def __init__(
        self, doc: GraphDocument, order: list[str], layers: dict[str, Any], root: nn.Module, owners: dict[str, str]
    ) -> None:
        self.doc, self.order, self.layers, self.root, self.owners = doc, order, layers, root, owners
        self.inner_taps: dict[str, fx.Node] = {}

    def module(self, wanted: list[str], mode: str) -> fx.GraphModule:
        needed = reach(self.doc.graph, wanted, upstream=True)
        if mode == "model":
            needed = {n for n in needed if self.doc.node_type(n).role not in ("target", *LOSS_ROLES, "metric")}
        graph = fx.Graph()
        values: dict[str, dict[str, fx.Node]] = {}
        self.inner_taps = {}
        for node_id in self.order:
            if node_id in needed:
                self._emit(graph, node_id, values, mode)
        graph.output(self._result(graph, wanted, values, mode))
        graph.lint()
        gm = fx.GraphModule(self.root, graph, class_name=f"GraphEdit{mode.capitalize()}")
        return gm

    def _emit(self, graph: fx.Graph, node_id: str, values: dict[str, dict[str, fx.Node]], mode: str) -> None:
        doc = self.doc
        node_type = doc.node_type(node_id)
        params = doc.params(node_id)
        out_ports = [p.name for p in node_type.output_ports(params)]
        if node_type.role in ("input", "target"):
            node = graph.placeholder(node_id)
            node.meta["graphedit_id"] = node_id
            values[node_id] = {out_ports[0]: node}
            return
        args: list[fx.Node | None] = []
        for port in node_type.input_ports(params):
            edge = doc.edge_into(node_id, port.name)
            args.append(values[edge.src][edge.src_port] if edge is not None else None)
        present = [a for a in args if a is not None]
        if node_type.role == "output":
            values[node_id] = {"x": present[0]}
            return
        passthrough = doc.is_muted(node_id) or (mode == "model" and node_type.train_only)
        if passthrough and present:
            values[node_id] = {p: present[0] for p in out_ports}
            return
        layer = self.layers[node_id]
        if node_type.role == "weight_penalty":
            node = self._penalty(graph, node_id, layer, args)
        elif isinstance(layer, Call):
            call_args = (present,) if layer.pack else tuple(present)
            node = graph.create_node("call_function", layer.fn, call_args, dict(layer.kwargs), name=node_id)
        else:
            target = self.owners.get(node_id, node_id)
            node = graph.create_node("call_module", target, tuple(present), {}, name=node_id)
            if mode == "taps" and node_type.block is not None:
                self._inner_taps(graph, node_id, target, present)
        node.meta["graphedit_id"] = node_id
        if len(out_ports) == 1:
            values[node_id] = {out_ports[0]: node}
        else:
            values[node_id] = {}
            for i, port_name in enumerate(out_ports):
                item = graph.create_node("call_function", operator.getitem, (node, i), name=f"{node_id}_{port_name}")
                item.meta["graphedit_id"] = node_id
                values[node_id][port_name] = item

    def _inner_taps(self, graph: fx.Graph, node_id: str, target: str, inputs: list[fx.Node]) -> None:
        """Probes see inside a block: ``layer1/conv1`` is ``conv1`` of the block node's first copy, ``layer1[1]/conv1``
        of its second."""
        names = inner_names(self.layers[node_id], node_id)
        if not names:
            return
        module = graph.get_attr(target)
        args: tuple[fx.node.Argument, ...] = (module, node_id, *inputs)
        inner = graph.create_node("call_function", block_inner_values, args, name=f"{node_id}_inside")
        for name in names:
            item = graph.call_function(operator.getitem, (inner, name))
            item.meta["graphedit_id"] = node_id
            self.inner_taps[name] = item

    def _penalty(self, graph: fx.Graph, node_id: str, layer: Call, args: list[fx.Node | None]) -> fx.Node:
        """A weight penalty gets the weights of the layer wired into it, or of every layer with an init."""
        edge = self.doc.edge_into(node_id, "of")
        sources = [edge.src] if edge is not None else [n for n in self.order if self.doc.node_type(n).has_weights_init]
        weights = []
        for src in sources:
            module = self.root._modules.get(src)
            if module is None:
                continue
            for name, _ in module.named_parameters():
                if name.rsplit(".", 1)[-1].startswith("weight"):
                    weights.append(graph.get_attr(f"{src}.{name}"))
        return graph.create_node("call_function", layer.fn, (weights,), dict(layer.kwargs), name=node_id)

    def _result(self, graph: fx.Graph, wanted: list[str], values: dict[str, dict[str, fx.Node]], mode: str) -> Argument:
        first = {n: next(iter(values[n].values())) for n in wanted if values.get(n)}
        if mode == "model":
            outs = [first[n] for n in wanted if n in first]
            return outs[0] if len(outs) == 1 else tuple(outs)
        if mode == "taps":
            result: dict[str, fx.Node] = {}
            for n in wanted:
                for i, (port, node) in enumerate(values.get(n, {}).items()):
                    result[n if i == 0 else f"{n}.{port}"] = node
            result.update(self.inner_taps)
            return result
        total = None
        for n in wanted:
            role = self.doc.node_type(n).role
            if role not in LOSS_ROLES or n not in first:
                continue
            term = first[n]
            weight = self.doc.params(n).get("weight", 1.0)
            if role == "loss" and weight != 1.0:
                term = graph.call_function(operator.mul, (term, weight))
            total = term if total is None else graph.call_function(operator.add, (total, term))
        if total is None:
            total = graph.call_function(torch.zeros, ((),))
        result = {"loss": total}
        result.update({n: first[n] for n in wanted if n in first})
        return result


def readable_code(gm: fx.GraphModule) -> str:
    """The generated ``forward`` without fx's ``x = None`` bookkeeping."""
    code = gm.code
    code = re.sub(r";\s+(?:\w+ = )+None\s*$", "", code, flags=re.MULTILINE)
    return code.strip() + "\n"
