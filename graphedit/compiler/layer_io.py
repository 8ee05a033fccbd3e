"""A node's layer at its ports: the values on its inputs, running it, its outputs by port, what they cost in
memory, and a failure turned into an error with a fix. :mod:`graphedit.compiler.layers` builds the layers
(a block node's too); shape inference, the costs and the compiler run them through these.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import torch

from graphedit.errors import GraphEditError, NodeError
from graphedit.model.graph_view import GraphView
from graphedit.nodes.spec import Call, NodeType, Shape, shape_text


def resolve_inputs(
    doc: GraphView,
    node_id: str,
    node_type: NodeType,
    outputs: dict[str, dict[str, Any]],
    params: dict[str, Any] | None = None,
) -> list[Any]:
    """The value on each input port (``None`` where unconnected), or raise for a missing required input."""
    params = doc.params(node_id) if params is None else params
    values: list[Any] = []
    for port in node_type.input_ports(params):
        edge = doc.edge_into(node_id, port.name)
        if edge is None:
            if not port.optional:
                raise NodeError(
                    node_id,
                    f"input '{port.name}' is not connected",
                    f"drag a wire from a node's output into '{port.name}'",
                )
            values.append(None)
            continue
        values.append(outputs[edge.src][edge.src_port])
    return values


def example_bytes(tensor: Any) -> int:
    """Bytes of one example of a batch tensor (a scalar such as a loss: 0)."""
    if not isinstance(tensor, torch.Tensor) or tensor.dim() == 0:
        return 0
    return tensor[0].numel() * tensor.element_size()


def _shares(out: Any, values: list[Any]) -> bool:
    """Whether ``out`` is an input or a view of one (Flatten, Reshape, Identity allocate nothing)."""
    if not isinstance(out, torch.Tensor):
        return False
    bases = {id(out), id(out._base)} if out._base is not None else {id(out)}
    for v in values:
        if isinstance(v, torch.Tensor) and (id(v) in bases or (v._base is not None and id(v._base) in bases)):
            return True
    return False


def new_bytes(outputs: dict[str, Any], inputs: list[Any]) -> int:
    """Bytes per example of a node's outputs that are new tensors (a view or pass-through of an input: 0)."""
    return sum(example_bytes(v) for v in outputs.values() if not _shares(v, inputs))


def apply_layer(layer: Any, values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    if isinstance(layer, Call):
        return layer.fn(present, **layer.kwargs) if layer.pack else layer.fn(*present, **layer.kwargs)
    return layer(*present)


def split_outputs(node_type: NodeType, result: Any, params: dict[str, Any] | None = None) -> dict[str, Any]:
    ports = node_type.output_ports(params)
    if len(ports) == 1:
        return {ports[0].name: result}
    return {p.name: r for p, r in zip(ports, result)}


_FIXES = (
    (re.compile(r"mat1 and mat2 shapes cannot be multiplied"), "insert a Flatten before it"),
    (
        re.compile(r"Kernel size can't be greater|Output size is too small|smaller than kernel"),
        "use a smaller kernel, more padding, or a larger input",
    ),
    (
        re.compile(r"expected (input|scalar type)|dtype|Expected tensor for argument"),
        "check the dtype: class labels are int64, features float32",
    ),
    (
        re.compile(r"must match the size of tensor|size of tensor a"),
        "make the input shapes equal (e.g. a 1×1 Conv2d or Dense to match sizes)",
    ),
)


def explain(node_id: str, node_type: NodeType, shapes: Sequence[Shape | None], exc: Exception) -> NodeError:
    """Turn a failure inside build or forward into a NodeError with a fix."""
    if isinstance(exc, NodeError):
        return NodeError(node_id, exc.problem, exc.fix, path=exc.path)
    if isinstance(exc, GraphEditError):
        return NodeError(node_id, str(exc).rstrip("."))
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    fix = next((f for pattern, f in _FIXES if pattern.search(message)), "check the input shapes and the parameters")
    got = ", ".join(shape_text(s) for s in shapes) or "no inputs"
    return NodeError(node_id, f"{node_type.title} cannot take {got}: {message}", fix)


LayerResult = tuple[dict[str, Any], int, int, "tuple[str, str, tuple[str, ...]] | None", "int | None"]
"""(outputs by port, parameters, parameter bytes, (problem, fix, path) or None, activation bytes or None)"""
