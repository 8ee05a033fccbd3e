"""torch's ``nn.MultiheadAttention``, as its TorchScript exporter decomposes it, folded back into one node.

The exporter writes the layer as ~100 ops under one name scope (``/block/attn/…``): shape arithmetic, the
input projection (``MatMul`` with the transposed ``in_proj_weight``, ``Add`` its bias), the heads' scaled
dot products, ``Softmax``, and the output projection (``Gemm`` with ``….out_proj.weight``). A scope holding
an ``out_proj.weight`` is taken whole: its one input from outside, its one value used outside, the weights
read by their names, the heads from the Softmax's shape, ``causal`` from a ``Where`` mask. The import's
final comparison with ONNX Runtime checks the fold. Cross-attention and padding masks (more than one input
from outside) are refused in one line.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import torch

from graphedit.importers.onnx_ops import _fail

OUT_PROJ = "out_proj.weight"


def attention_scopes(graph: onnx.GraphProto, consts: dict[str, np.ndarray]) -> dict[str, str]:
    """Name-scope prefix (``/op/attn/``) → the ``out_proj.weight`` initializer its projection reads."""
    scopes = {}
    for node in graph.node:
        weight = next((i for i in node.input if i.endswith(OUT_PROJ) and i in consts), None)
        if weight is not None and node.op_type in ("Gemm", "MatMul") and node.name.count("/") >= 2:
            scopes[node.name.rsplit("/", 1)[0] + "/"] = weight
    return scopes


def scope_of(scopes: dict[str, str], node: onnx.NodeProto) -> str | None:
    return next((p for p in scopes if node.name.startswith(p)), None)


def fold_attention(imp: Any, node: onnx.NodeProto) -> bool:
    """Add the MultiheadAttention node of the scope ``node`` opens; False when ``node`` is in none."""
    prefix = scope_of(imp.attention, node)
    if prefix is None:
        return False
    members = [n for n in imp.graph.node if n.name.startswith(prefix)]
    inside = {o for n in members for o in n.output}
    outside: list[str] = []
    for m in members:
        for name in m.input:
            if name and name not in inside and not imp.is_static(name) and name not in outside:
                outside.append(name)
    used = [
        o
        for m in members
        for o in m.output
        if o and (o in imp.outputs or any(not u.name.startswith(prefix) for u in imp.users.get(o, [])))
    ]
    if len(outside) != 1 or len(used) != 1:
        raise _fail(
            node,
            "only self-attention (one input, no padding mask) folds back into a MultiheadAttention node; "
            "cross-attention and padding masks are not imported from ONNX yet (import the PyTorch module instead)",
        )
    final = next(m for m in members if used[0] in m.output)
    base = imp.attention[prefix][: -len(OUT_PROJ)]
    weights = _weights(imp, members, base, node)
    softmax = next((m for m in members if m.op_type == "Softmax"), None)
    if softmax is None:
        raise _fail(node, "its scope holds an out_proj but no Softmax: not torch's attention")
    scores = imp.shape(softmax.input[0])
    heads = scores[1] if len(scores) == 4 else scores[0] // imp.shape(outside[0])[0]
    params = {
        "heads": int(heads),
        "bias": "in_proj_bias" in weights,
        "causal": any(m.op_type == "Where" for m in members),
    }
    for m in members:
        imp.fused.update(o for o in m.output if o)
    imp.fused.discard(final.output[0])
    name = imp.name(final)
    leaf = prefix.strip("/").rsplit("/", 1)[-1]
    if name and name.endswith("_" + leaf):  # /op/attn/…: the node 'op' of a GraphEdit export
        name = name[: -len(leaf) - 1]
    if final.output[0] != used[0]:
        raise _fail(final, "the attention's result must be the first output of its last op")
    imp.add(final, "MultiheadAttention", params, [imp.ref(outside[0])], weights=weights, sub="attn", name=name)
    return True


def _weights(imp: Any, members: list[onnx.NodeProto], base: str, node: onnx.NodeProto) -> dict[str, torch.Tensor]:
    consts = imp.consts
    out_w, out_b = consts[base + OUT_PROJ], consts.get(base + "out_proj.bias")
    dim = out_w.shape[0]
    in_w = consts.get(base + "in_proj_weight")
    if in_w is None:  # the exporter keeps it transposed for the MatMul of the input projection
        found = [
            consts[i]
            for m in members
            if m.op_type == "MatMul"
            for i in m.input
            if i in consts and np.shape(consts[i]) == (dim, 3 * dim)
        ]
        if len(found) != 1:
            raise _fail(node, "its input projection is not the one packed weight [3E, E] of self-attention")
        in_w = np.asarray(found[0]).T
    arrays = {"in_proj_weight": in_w, "out_proj.weight": out_w}
    if base + "in_proj_bias" in consts:
        arrays["in_proj_bias"] = consts[base + "in_proj_bias"]
    if out_b is not None:
        arrays["out_proj.bias"] = out_b
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
