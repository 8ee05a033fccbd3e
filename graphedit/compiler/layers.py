"""Build a node's layer; block nodes become torch modules (issue 13).

:func:`build_layer` runs a node type's check and build; a block node's type
builds through :func:`build_block`. Running a layer and reading its ports:
:mod:`graphedit.compiler.layer_io`.

One copy of a block is an ``fx.GraphModule`` whose class is named after the
definition and whose submodules are named after the inner node ids, so
state-dict keys read as torch's do (``conv1.weight``, ``downsample.0.weight``).
``repeat`` N gives an indexed sequence (``layer1.0``, ``layer1.1``: an
``nn.Sequential`` when the block has one input and one output); ``shared``
gives one copy applied N times. Each copy is inferred at its own input shapes
on meta tensors first, so an error names the inner node by its path
(``0/conv2``) and the repeat chain says which copy cannot feed the next. During
a compile those shapes come from its shape inference's memo (:data:`SHAPES`):
the inference ran every inner layer on meta tensors already.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import torch
from torch import fx, nn

from graphedit.compiler.block_modules import Chain, Loop
from graphedit.compiler.layer_io import LayerResult, apply_layer, explain, new_bytes, resolve_inputs, split_outputs
from graphedit.errors import GraphEditError, NodeError
from graphedit.model.blocks import BlockDefinition, instance_values
from graphedit.model.graph_view import GraphView
from graphedit.nodes.init import apply_init
from graphedit.nodes.spec import Call, NodeType, Shape, shape_text


def build_layer(node_type: NodeType, params: dict[str, Any], shapes: list[tuple[int, ...] | None]) -> Any:
    """Run the type's check and build; the result is an ``nn.Module`` or a :class:`Call`."""
    if node_type.check is not None:
        node_type.check(params, shapes)
    if node_type.block is not None:
        return build_block(node_type, params, shapes)
    if node_type.build is None:
        raise GraphEditError(f"a {node_type.title} node builds no layer")
    return node_type.build(params, shapes)


def shared_owners(document: GraphView, order: list[str]) -> dict[str, str]:
    """Block nodes with ``shared`` on → the first such node of their type (in ``order``): its module serves them all."""
    owners: dict[str, str] = {}
    first: dict[str, str] = {}
    for node_id in order:
        node_type = document.node_type(node_id)
        if node_type.block is not None and document.params(node_id).get("shared"):
            owners[node_id] = first.setdefault(node_type.type_id, node_id)
    return owners


def repeat_problem(definition: BlockDefinition, repeat: int) -> None:
    """A repeat chains each copy's outputs into the next copy's inputs: the counts must agree."""
    if repeat > 1 and len(definition.inputs()) != len(definition.outputs()):
        raise NodeError(
            None,
            f"repeat {repeat} feeds each copy's outputs into the next copy's inputs, but '{definition.name}' has "
            f"{len(definition.inputs())} inputs and {len(definition.outputs())} outputs",
            "set repeat to 1, or give the block as many outputs as inputs",
        )


def shared_problem(repeat: int, before: Sequence[Shape | None], after: Sequence[Shape | None]) -> None:
    """A shared repeat applies one copy again and again: it must keep its shapes."""
    if before != after:
        raise NodeError(
            None,
            f"shared weights apply one copy {repeat} times, but it turns {', '.join(map(shape_text, before))} "
            f"into {', '.join(map(shape_text, after))}",
            "switch 'shared' off, or keep the block's output shapes equal to its input shapes",
        )


def wrap_copy_error(exc: NodeError, index: int, repeat: int, fed: Sequence[Shape | None]) -> NodeError:
    """An error inside copy ``index``: its path gains the index (when repeated) and says what fed the copy.

    Problems inside blocks carry no path text; shape inference writes ``0/conv2: ...`` in front once, at the top.
    """
    path = (str(index), *exc.path) if repeat > 1 else exc.path
    tail = "" if index == 0 else f" (fed by copy {index - 1}: {', '.join(map(shape_text, fed))})"
    return NodeError(None, f"{exc.problem}{tail}", exc.fix, path=path)


def build_block(node_type: NodeType, params: dict[str, Any], shapes: list[Shape | None]) -> nn.Module:
    """The module of a block node with ``params`` fed ``shapes``; raises :class:`NodeError` with the inner path."""
    definition: BlockDefinition = node_type.block
    repeat, shared = params["repeat"], params["shared"]
    repeat_problem(definition, repeat)
    copies: list[nn.Module] = []
    current: Sequence[Shape | None] = list(shapes)
    for index in range(1 if shared else repeat):
        values = instance_values(node_type, params, index)
        try:
            module, out_shapes = build_copy(definition, values, current)
        except NodeError as exc:
            raise wrap_copy_error(exc, index, repeat, current) from None
        copies.append(module)
        if shared and repeat > 1:
            shared_problem(repeat, current, out_shapes)
        current = out_shapes
    if shared and repeat > 1:
        return Loop(copies[0], repeat)
    if repeat == 1:
        return copies[0]
    if len(definition.inputs()) == 1 and len(definition.outputs()) == 1:
        return nn.Sequential(*copies)
    return Chain(*copies)


Compute = Callable[[NodeType, dict[str, Any], list[Any]], LayerResult]

# the compile in progress's layer results on meta tensors (its shape inference's memo), read by the block copies it
# builds; a BatchNorm or ReLU on meta tensors takes milliseconds (torch's Python decompositions), so running every
# inner layer of a densenet121's 58 dense layers again for each build took seconds
SHAPES: ContextVar[Compute | None] = ContextVar("graphedit_compile_shapes", default=None)


@contextmanager
def shapes_from(compute: Compute) -> Iterator[None]:
    """Block copies built inside read their inner layers' shapes through ``compute``."""
    token = SHAPES.set(compute)
    try:
        yield
    finally:
        SHAPES.reset(token)


def infer_block(
    node_type: NodeType, params: dict[str, Any], values: list[Any], compute: Compute
) -> tuple[dict[str, Any], int, int, int]:
    """(outputs by port, parameter count, parameter bytes, activation bytes per example of every inner node)."""
    definition: BlockDefinition = node_type.block
    repeat, shared = params["repeat"], params["shared"]
    repeat_problem(definition, repeat)
    current = list(values)
    count = size = activation = 0
    for index in range(repeat):
        copy_values = instance_values(node_type, params, 0 if shared else index)
        try:
            outputs, copy_count, copy_size, copy_activation = infer_copy(definition, copy_values, current, compute)
        except NodeError as exc:
            raise wrap_copy_error(exc, index, repeat, [tuple(v.shape) for v in current]) from None
        if shared and repeat > 1:
            shared_problem(repeat, [tuple(v.shape) for v in current], [tuple(v.shape) for v in outputs])
        if index == 0 or not shared:
            count, size = count + copy_count, size + copy_size
        activation += copy_activation
        current = outputs
    return dict(zip(definition.outputs(), current)), count, size, activation


def infer_copy(
    definition: BlockDefinition, values: dict[str, Any], inputs: list[Any], compute: Compute
) -> tuple[list[Any], int, int, int]:
    """One copy: its output tensors in port order, parameter count and bytes, activation bytes per example."""
    doc = definition.document
    inner, disabled = definition.bound_params(values)
    ports = definition.inputs()
    meta: dict[str, dict[str, Any]] = {}
    results: dict[str, Any] = {}
    count = size = activation = 0
    for node_id in definition.order():
        node_type, p = doc.node_type(node_id), inner[node_id]
        if node_type.role == "block_input":
            index = ports.index(node_id)
            if index >= len(inputs) or inputs[index] is None:
                raise NodeError(None, f"input '{node_id}' is not connected", f"wire a tensor into '{node_id}'")
            meta[node_id] = {"y": inputs[index]}
            continue
        try:
            values_in = resolve_inputs(doc, node_id, node_type, meta, params=p)
        except NodeError as exc:
            raise NodeError(None, exc.problem, exc.fix, path=(node_id,)) from None
        if node_type.role == "block_output":
            results[node_id] = values_in[0]
            continue
        if node_type.role != "layer":
            raise NodeError(None, f"a {node_type.title} node cannot be inside a block", "", path=(node_id,))
        out_ports = [port.name for port in node_type.output_ports(p)]
        if node_id in disabled or doc.is_muted(node_id):
            first = next((v for v in values_in if v is not None), None)
            if first is None:
                raise NodeError(None, "a node with no input cannot be switched off", "keep it enabled", (node_id,))
            meta[node_id] = {port: first for port in out_ports}
            continue
        outputs, node_count, node_size, problem, node_activation = compute(node_type, p, values_in)
        if problem is not None:
            problem_text, fix, path = problem
            raise NodeError(None, problem_text, fix, path=(node_id, *path))
        meta[node_id] = outputs
        count, size = count + node_count, size + node_size
        activation += new_bytes(outputs, values_in) if node_activation is None else node_activation
    output_ids = definition.outputs()
    if not output_ids or any(o not in results for o in output_ids):
        raise NodeError(None, f"the block '{definition.name}' has no output", "add a Block output node inside it")
    return [results[o] for o in output_ids], count, size, activation


class Same:
    """A memo key's part that is one object: equal only to itself, and holding it, so that its ``id`` is not reused
    while the key lives (a block's node type is made anew when its definition changes: keyed by ``id`` alone, an
    undone edit's type could take a freed type's ``id`` and its stale shapes)."""

    __slots__ = ("obj",)

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Same) and other.obj is self.obj


def meta_compute(memo: dict[tuple[Any, ...], LayerResult]) -> Compute:
    """A layer's result on meta tensors, remembered in ``memo`` (a block's through :func:`infer_block`)."""

    def compute(node_type: NodeType, params: dict[str, Any], values: list[Any]) -> LayerResult:
        key = (Same(node_type), tuple(sorted(params.items())), tuple(_tensor_key(v) for v in values))
        if key in memo:
            return memo[key]
        shapes = [None if v is None else tuple(v.shape) for v in values]
        result: LayerResult
        try:
            if node_type.block is not None:
                if node_type.check is not None:
                    node_type.check(params, shapes)
                outputs, count, size, activation = infer_block(node_type, params, values, compute)
                result = (outputs, count, size, None, activation)
            else:
                with torch.device("meta"), torch.no_grad():
                    layer = build_layer(node_type, params, shapes)
                    result = (split_outputs(node_type, apply_layer(layer, values), params), 0, 0, None, None)
        except Exception as exc:  # the caller raises it with the inner path
            error = explain("", node_type, shapes, exc)
            result = ({}, 0, 0, (error.problem, error.fix, error.path), None)
        memo[key] = result
        return result

    return compute


def _tensor_key(value: Any) -> Any:
    return None if value is None else (tuple(value.shape), value.dtype)


def build_copy(
    definition: BlockDefinition, values: dict[str, Any], shapes: Sequence[Shape | None]
) -> tuple[fx.GraphModule, list[Shape]]:
    """One copy of a definition with exposed ``values``: the module and its output shapes."""
    doc = definition.document
    inner, disabled = definition.bound_params(values)
    on_meta = torch.get_default_device().type == "meta"
    compute = SHAPES.get() or meta_compute({})
    root = nn.Module()
    graph = fx.Graph()
    meta: dict[str, dict[str, Any]] = {}
    nodes: dict[str, dict[str, fx.Node]] = {}
    inputs, outputs = definition.inputs(), definition.outputs()
    results: dict[str, tuple[Shape, fx.Node]] = {}
    for index, node_id in enumerate(inputs):  # in port order: the caller passes the ports' values in this order
        shape = shapes[index] if index < len(shapes) else None
        if shape is None:
            raise NodeError(None, f"input '{node_id}' is not connected", f"wire a tensor into '{node_id}'")
        meta[node_id] = {"y": torch.empty(shape, device="meta")}
        nodes[node_id] = {"y": graph.placeholder(_name(node_id))}
    for node_id in definition.order():
        node_type, p = doc.node_type(node_id), inner[node_id]
        if node_type.role == "block_input":
            continue
        try:
            values_in = resolve_inputs(doc, node_id, node_type, meta, params=p)
        except NodeError as exc:
            raise NodeError(None, exc.problem, exc.fix, path=(node_id,)) from None
        if node_type.role == "block_output":
            edge = doc.edge_into(node_id, "x")
            assert edge is not None  # resolve_inputs raised for an unwired output
            value = values_in[0]
            results[node_id] = (tuple(value.shape), nodes[edge.src][edge.src_port])
            continue
        if node_type.role not in ("layer",):
            raise NodeError(
                None,
                f"a {node_type.title} node cannot be inside a block",
                "keep data, loss and metric nodes in the top-level graph",
                path=(node_id,),
            )
        in_shapes = [None if v is None else tuple(v.shape) for v in values_in]
        args = [_wired(doc, node_id, port.name, nodes) for port in node_type.input_ports(p)]
        present = [a for a in args if a is not None]
        out_ports = [port.name for port in node_type.output_ports(p)]
        if node_id in disabled or doc.is_muted(node_id):
            if not present:
                raise NodeError(None, "a node with no input cannot be switched off", "keep it enabled", (node_id,))
            first = next(v for v in values_in if v is not None)
            meta[node_id] = {port: first for port in out_ports}
            nodes[node_id] = {port: present[0] for port in out_ports}
            continue
        try:
            if node_type.block is not None or not on_meta:  # shapes through the memo, the module built once
                outputs_in, _, _, problem, _ = compute(node_type, p, values_in)
                if problem is not None:
                    raise NodeError(None, problem[0], problem[1], path=problem[2])
                meta[node_id] = outputs_in
                layer = build_layer(node_type, p, in_shapes)
            else:
                with torch.device("meta"), torch.no_grad():
                    meta_layer = build_layer(node_type, p, in_shapes)
                    meta[node_id] = split_outputs(node_type, apply_layer(meta_layer, values_in), p)
                layer = meta_layer
        except Exception as exc:  # any failure inside becomes this block's error with the inner path
            error = explain(node_id, node_type, in_shapes, exc)
            raise NodeError(None, error.problem, error.fix, path=(node_id, *error.path)) from None
        if isinstance(layer, nn.Module):
            if node_type.has_weights_init and not on_meta:
                apply_init(layer, p["init"])
            root.add_module(node_id, layer)
            fx_node = graph.create_node("call_module", node_id, tuple(present), {}, name=_name(node_id))
        elif isinstance(layer, Call):
            call_args = (present,) if layer.pack else tuple(present)
            fx_node = graph.create_node("call_function", layer.fn, call_args, dict(layer.kwargs), name=_name(node_id))
        else:
            raise GraphEditError(f"node '{node_id}' built neither a module nor a call")
        fx_node.meta["graphedit_id"] = node_id
        if len(out_ports) == 1:
            nodes[node_id] = {out_ports[0]: fx_node}
        else:
            nodes[node_id] = {
                port: graph.create_node("call_function", operator.getitem, (fx_node, i), name=f"n_{node_id}_{port}")
                for i, port in enumerate(out_ports)
            }
    missing = [o for o in outputs if o not in results]
    if not outputs or missing:
        raise NodeError(None, f"the block '{definition.name}' has no output", "add a Block output node inside it")
    returned = [results[o][1] for o in outputs]
    graph.output(returned[0] if len(returned) == 1 else tuple(returned))
    module = fx.GraphModule(root, graph, class_name=definition.name)
    # submodules in the definition's node order, as its author listed them (torch's __init__ order), not run order
    rank = {n: i for i, n in enumerate(doc.node_ids())}
    module._modules = dict(sorted(module._modules.items(), key=lambda item: rank.get(item[0], len(rank))))
    return module, [results[o][0] for o in outputs]


def _name(node_id: str) -> str:
    return f"n{node_id}" if node_id[:1].isdigit() else node_id


def _wired(doc: GraphView, node_id: str, port: str, nodes: dict[str, dict[str, fx.Node]]) -> fx.Node | None:
    edge = doc.edge_into(node_id, port)
    return None if edge is None else nodes[edge.src][edge.src_port]
