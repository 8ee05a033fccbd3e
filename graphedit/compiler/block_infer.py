"""Shapes of block nodes without building modules: each copy's inner nodes through the inference memo.

Shape inference asks :func:`infer_block` for a block node's outputs. It walks
the copies of the repeat and, inside each, the definition's nodes in order,
getting every inner layer's result from ``compute`` (the inference's memo), so
copies with the same parameters and input shapes cost one lookup per node and
an edit inside a definition recomputes only the edited node per input shape.
The errors and their paths are the builder's (:mod:`graphedit.compiler.layers`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphedit.compiler.layers import new_bytes, repeat_problem, resolve_inputs, shared_problem, wrap_copy_error
from graphedit.errors import NodeError
from graphedit.model.blocks import BlockDefinition, instance_values
from graphedit.nodes.spec import NodeType

Compute = Callable[[NodeType, dict[str, Any], list[Any]], tuple[dict[str, Any], int, int, Any, "int | None"]]


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
    outputs = definition.outputs()
    if not outputs or any(o not in results for o in outputs):
        raise NodeError(None, f"the block '{definition.name}' has no output", "add a Block output node inside it")
    return [results[o] for o in outputs], count, size, activation
