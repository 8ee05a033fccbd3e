"""What each node costs: floating-point operations per example, counted by torch's own flop counter.

Each node's layer is built on the meta device and run on meta tensors of the shapes inference found,
inside :class:`torch.utils.flop_counter.FlopCounterMode`: no weights are allocated and no data is
touched, so this costs milliseconds even for a large network. The counter counts what dominates a
network's cost (matrix products and convolutions: a Dense layer of ``i`` inputs and ``o`` outputs is
``2·i·o`` per example, a Conv2d ``2·(C_in/groups)·k_h·k_w·C_out·H_out·W_out``); elementwise operations
count as zero, as in the counter. The flop counter is imported only when costs are asked for.
"""

from __future__ import annotations

from typing import Any

import torch

from graphedit.compiler.shapes import META_BATCH, ShapeInference, apply_layer, build_layer
from graphedit.model.document import GraphDocument

NO_COMPUTE = ("input", "target", "output")


def node_flops(document: GraphDocument, inference: ShapeInference | None = None) -> dict[str, int]:
    """Forward FLOPs per example of every node that computes (nodes with errors are left out)."""
    from torch.utils.flop_counter import FlopCounterMode

    inference = inference or ShapeInference(document, observe=False)
    infos = inference.update() if inference.infos else inference.run()
    out: dict[str, int] = {}
    for node_id in inference.order():
        info = infos[node_id]
        node_type = document.node_type(node_id)
        if not info.ok or node_type.role in NO_COMPUTE or node_type.build is None:
            continue
        params = document.params(node_id)
        ports = node_type.input_ports(params)
        shapes = [info.inputs.get(p.name) for p in ports]
        values = [_meta(shape) for shape in shapes]
        with torch.device("meta"):
            layer = build_layer(node_type, params, shapes)
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            apply_layer(layer, values)
        out[node_id] = int(counter.get_total_flops()) // META_BATCH
    return out


def _meta(shape: Any) -> torch.Tensor | None:
    return None if shape is None else torch.empty(tuple(shape), device="meta")


def flops_text(flops: int) -> str:
    """``1.2 MFLOPs``-style text for the Summary and badges."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if flops >= size:
            return f"{flops / size:.3g} {unit}FLOPs"
    return f"{flops} FLOPs"
