"""What each node costs: floating-point operations per example, counted by torch's own flop counter.

Each node's layer is built on the meta device and run on meta tensors of the shapes inference found,
inside :class:`torch.utils.flop_counter.FlopCounterMode`: no weights are allocated and no data is
touched, so this costs milliseconds even for a large network. The counter counts what dominates a
network's cost (matrix products and convolutions: a Dense layer of ``i`` inputs and ``o`` outputs is
``2·i·o`` per example, a Conv2d ``2·(C_in/groups)·k_h·k_w·C_out·H_out·W_out``); elementwise operations
count as zero, as in the counter. The flop counter is imported only when costs are asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from graphedit.compiler.layer_io import apply_layer, resolve_inputs
from graphedit.compiler.layers import build_layer
from graphedit.compiler.shapes import META_BATCH, ShapeInference
from graphedit.errors import GraphEditError
from graphedit.model.document import GraphDocument
from graphedit.nodes.spec import NodeType, Shape

if TYPE_CHECKING:
    from torch.utils.flop_counter import FlopCounterMode

NO_COMPUTE = ("input", "target", "output")

FlopCache = dict[tuple[Any, ...], "int | None"]
"""(type, parameters, input shapes and dtypes) -> forward FLOPs per example (``None``: no count)."""


def node_flops(
    document: GraphDocument, inference: ShapeInference | None = None, cache: FlopCache | None = None
) -> dict[str, int]:
    """Forward FLOPs per example of every node that computes (nodes with errors are left out).

    ``cache`` (a dict the caller keeps) remembers each (type, parameters, input shapes and dtypes).
    """
    inference = inference or ShapeInference(document, observe=False)
    if inference.infos:
        inference.update()
    else:
        inference.run()
    cache = {} if cache is None else cache
    out: dict[str, int] = {}
    for node_id in inference.order():
        flops = flops_of(document, inference, node_id, cache)
        if flops is not None:
            out[node_id] = flops
    return out


def flops_of(document: GraphDocument, inference: ShapeInference, node_id: str, cache: FlopCache) -> int | None:
    """One node's forward FLOPs per example from current shape inference (None: no count, or no compute)."""
    from torch.utils.flop_counter import FlopCounterMode

    info = inference.infos.get(node_id)
    node_type = document.node_type(node_id)
    if info is None or not info.ok or node_type.role in NO_COMPUTE or node_type.build is None:
        return None
    if document.is_muted(node_id):
        return None
    params = document.params(node_id)
    try:
        # the meta tensors inference made, with their dtypes (class indices are integers)
        values = resolve_inputs(document, node_id, node_type, inference._values)
    except (GraphEditError, KeyError, ValueError, TypeError, RuntimeError):
        return None
    shapes = [None if v is None else tuple(v.shape) for v in values]
    key = (
        node_type.type_id,
        repr(sorted(params.items())),
        tuple(None if v is None else (tuple(v.shape), v.dtype) for v in values),
    )
    if key not in cache:
        cache[key] = _count(node_type, params, shapes, values, FlopCounterMode)
    return cache[key]


def _count(
    node_type: NodeType,
    params: dict[str, Any],
    shapes: list[Shape | None],
    values: list[Any],
    counter_type: type[FlopCounterMode],
) -> int | None:
    try:
        with torch.device("meta"):
            layer = build_layer(node_type, params, shapes)
        counter = counter_type(display=False)
        with counter, torch.no_grad():
            apply_layer(layer, values)
    except Exception:  # noqa: BLE001 - a layer the counter cannot run has no count, never a crash
        return None
    return int(counter.get_total_flops()) // META_BATCH


def flops_text(flops: int) -> str:
    """``1.2 MFLOPs``-style text for the Summary and badges."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if flops >= size:
            return f"{flops / size:.3g} {unit}FLOPs"
    return f"{flops} FLOPs"
