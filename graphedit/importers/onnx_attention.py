"""torch's ``nn.MultiheadAttention``, as its TorchScript exporter decomposes it, folded back into one node.

The exporter writes the layer as ~100 ops under one name scope (``/block/attn/…``): the batch-first inputs
transposed (1, 0, 2) to time first, shape arithmetic, the input projections, the heads' scaled dot
products, ``Softmax``, and the output projection. A scope whose ops read an initializer named after the
layer's weights (``….out_proj.weight``, ``….in_proj_weight``, ``….q_proj_weight``…) is taken whole:

* its one value used outside is the node's output;
* the values it transposes are, in torch's order, the query, the key (where it is not the query) and the
  value (where it is not the key);
* a key padding mask enters as ``x != 0`` (``Not(Equal(x, 0))``) or ``x.bool()`` (``Cast``), computed just
  before the scope, perhaps as the float ``Where(mask, −inf, 0)`` (nn.TransformerEncoderLayer): ``x`` feeds
  the node's mask port;
* the constant [T, S] mask the scores meet sets ``causal`` when it hides the positions after each step,
  whether given in forward or built inside for ``is_causal``;
* the weights are read by their names or from the projections' MatMuls, the heads from the Softmax's shape.

Anything else is one line naming the scope. The import's final comparison with ONNX Runtime checks the fold.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import onnx
import torch

from graphedit.importers.common import MASK_FIX, UnsupportedOpError, causal_mask, hidden_score
from graphedit.importers.onnx_ops import attrs, listed

OUT_PROJ = "out_proj.weight"
NAMED = (OUT_PROJ, "in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight")  # what marks a scope
SEQUENCE_FIX = "construct nn.MultiheadAttention(…, batch_first=True), or import the PyTorch module instead"


class PaddingMask(NamedTuple):
    """The ``x != 0`` or ``x.bool()`` a scope reads as its key padding mask."""

    source: str  # x: what the node's mask port gets
    ops: list[str]  # the outputs of the ops computing it, folded with the attention
    zero: str  # the constant x is compared with ("" for a Cast)
    inverted: bool = False  # x == 0: zero marks the padding, which the mask port cannot express
    fill: tuple[str, str] = ("", "")  # Where(mask, −inf, 0): the float form nn.TransformerEncoderLayer passes on


def _meta_scope(node: onnx.NodeProto) -> str | None:
    """``/path/attn/`` of the MultiheadAttention the dynamo exporter's metadata puts ``node`` in; "" in none.

    None where the node has no such metadata (the TorchScript exporter names the scope in the node's name).
    """
    meta = {p.key: p.value for p in node.metadata_props}
    if "pkg.torch.onnx.name_scopes" not in meta:
        return None
    paths, classes = (listed(meta.get(k, "")) for k in ("pkg.torch.onnx.name_scopes", "pkg.torch.onnx.class_hierarchy"))
    at = next((i for i, c in enumerate(classes) if c.endswith(".MultiheadAttention")), None)
    return "" if at is None or len(paths) != len(classes) else "/" + paths[at].replace(".", "/") + "/"


def attention_scopes(graph: onnx.GraphProto, consts: dict[str, np.ndarray]) -> dict[str, str]:
    """Scope (``/op/attn/``) → the module path its weights are named under (``op.attn.``)."""
    scopes = {}
    for node in graph.node:
        for name in node.input:
            suffix = next((s for s in NAMED if name.endswith(s)), None)
            scope = _meta_scope(node)
            if scope is None and node.name.count("/") >= 2:
                scope = node.name.rsplit("/", 1)[0] + "/"
            if suffix and name in consts and scope:
                scopes.setdefault(scope, name[: -len(suffix)])
    return scopes


def _fail(node: onnx.NodeProto, why: str, support: str = "") -> UnsupportedOpError:
    """One line naming the attention (its name scope) and why it does not fold into a MultiheadAttention node."""
    scope = _meta_scope(node) or node.name.rsplit("/", 1)[0] + "/"
    return UnsupportedOpError("ONNX attention (torch's nn.MultiheadAttention)", f"scope '{scope}'", why, support)


def scope_of(scopes: dict[str, str], node: onnx.NodeProto) -> str | None:
    """The attention scope ``node`` is in, or None."""
    scope = _meta_scope(node)
    if scope is not None:
        return scope if scope in scopes else None
    return next((p for p in scopes if node.name.startswith(p)), None)


def padding_masks(graph: onnx.GraphProto, scopes: dict[str, str], static: set[str]) -> dict[str, PaddingMask]:
    """The masks computed just outside an attention scope for it alone, as torch writes key padding masks.

    ``x != 0`` is ``Not(Equal(x, 0))``, ``x.bool()`` a ``Cast`` to bool; either may be turned into the float
    mask ``Where(mask, −inf, 0)`` (through another ``Cast`` to bool) before it enters the scope.
    """
    producer = {o: n for n in graph.node for o in n.output if o}
    users: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            users.setdefault(name, []).append(node)
    outputs = {v.name for v in graph.output}

    def sole(name: str, user: onnx.NodeProto) -> bool:  # read by ``user`` alone (and for its shape), outside scopes
        src = producer.get(name)
        readers = [u for u in users[name] if u.op_type not in ("Shape", "Size")]
        return src is not None and not scope_of(scopes, src) and name not in outputs and readers == [user]

    def to_bool(op: onnx.NodeProto) -> bool:
        return op.op_type == "Cast" and attrs(op).get("to") == onnx.TensorProto.BOOL

    masks = {}
    for node in graph.node:
        prefix = scope_of(scopes, node)
        for name in node.input if prefix else ():
            src = producer.get(name)
            if name in masks or name in static or src is None or scope_of(scopes, src) or name in outputs:
                continue
            if any(scope_of(scopes, u) != prefix for u in users[name]):
                continue
            ops, fill = [name], ("", "")
            if src.op_type == "Where" and all(i in static for i in src.input[1:]) and sole(src.input[0], src):
                fill, ops, src = (src.input[1], src.input[2]), [src.input[0], *ops], producer[src.input[0]]
                if to_bool(src) and producer.get(src.input[0]) and producer[src.input[0]].op_type in ("Not", "Equal"):
                    if not sole(src.input[0], src):
                        continue
                    ops, src = [src.input[0], *ops], producer[src.input[0]]
            if to_bool(src):
                masks[name] = PaddingMask(src.input[0], ops, "", fill=fill)
                continue
            if src.op_type == "Not" and src.input[0] in producer and sole(src.input[0], src):
                ops, src = [src.input[0], *ops], producer[src.input[0]]
                inverted = False
            else:
                inverted = True  # x == 0: refused with its reason when the attention is folded
            dynamic = [i for i in src.input if i not in static]
            if src.op_type == "Equal" and len(dynamic) == 1:
                zero = next(i for i in src.input if i != dynamic[0])
                masks[name] = PaddingMask(dynamic[0], ops, zero, inverted, fill)
    return masks


def fold_attention(imp: Any, node: onnx.NodeProto) -> bool:
    """Add the MultiheadAttention node of the scope ``node`` opens; False when ``node`` is in none."""
    prefix = scope_of(imp.attention, node)
    if prefix is None:
        return False
    members = [n for n in imp.graph.node if scope_of(imp.attention, n) == prefix]
    inside = {o for n in members for o in n.output}
    outside = list(dict.fromkeys(i for m in members for i in m.input if i and i not in inside and not imp.is_static(i)))
    used = [
        o
        for m in members
        for o in m.output
        if o and (o in imp.outputs or any(scope_of(imp.attention, u) != prefix for u in imp.users.get(o, [])))
    ]
    if len(used) != 1:
        raise _fail(
            node,
            f"{len(used)} of its values are used outside it, but a MultiheadAttention node has one output",
            "call the attention with need_weights=False (only its output used), or import the PyTorch module",
        )
    final = next(m for m in members if used[0] in m.output)
    if final.output[0] != used[0]:
        raise _fail(final, "the attention's result must be the first output of its last op")
    query, key, value = _sequences(imp, members, outside, node)
    mask = _padding_mask(imp, [n for n in outside if n not in (query, key, value)], node)
    base = imp.attention[prefix]
    if base + "bias_k" in imp.consts:
        raise _fail(node, "add_bias_kv has no MultiheadAttention node equivalent", "import the PyTorch module instead")
    weights = _weights(imp, members, base, [query, key, value], node)
    softmax = next((m for m in members if m.op_type == "Softmax"), None)
    if softmax is None:
        raise _fail(node, "its scope holds an out_proj but no Softmax: not torch's attention")
    scores = imp.shape(softmax.input[0])
    heads = scores[1] if len(scores) == 4 else scores[0] // imp.shape(query)[0]
    steps = (imp.shape(query)[1], imp.shape(key)[1])
    causal = _causal(imp, members, base, steps, node)
    params = {"heads": int(heads), "bias": "in_proj_bias" in weights, "causal": causal}
    for m in members:
        imp.fused.update(o for o in m.output if o)
    imp.fused.discard(final.output[0])
    name = imp.name(final)
    leaf = prefix.strip("/").rsplit("/", 1)[-1]
    if name and name.endswith("_" + leaf):  # /op/attn/…: the node 'op' of a GraphEdit export
        name = name[: -len(leaf) - 1]
    wired = {"query": query, "key": key if key != query else None, "value": value if value != key else None}
    wired["mask"] = mask
    ports = [p for p, v in wired.items() if v is not None]
    inputs = [imp.ref(wired[p]) for p in ports]
    imp.add(final, "MultiheadAttention", params, inputs, weights=weights, sub="attn", name=name, ports=ports)
    return True


def _sequences(imp: Any, members: list[onnx.NodeProto], outside: list[str], node: onnx.NodeProto) -> list[str]:
    """Query, key and value: what the scope transposes to time first, in torch's order (q; q, k; or q, k, v)."""
    read = [m for m in members if m.op_type == "Transpose" and m.input[0] in outside]
    if not read or len(read) > 3:
        raise _fail(node, "only batch-first attention folds into a MultiheadAttention node", SEQUENCE_FIX)
    for m in read:
        if list(attrs(m).get("perm", ())) != [1, 0, 2]:
            raise _fail(m, "a batch-first attention transposes its inputs (1, 0, 2); this one does not", SEQUENCE_FIX)
    names = [m.input[0] for m in read]
    return (names * 3)[:3] if len(names) == 1 else [*names, names[1]][:3]


def _padding_mask(imp: Any, rest: list[str], node: onnx.NodeProto) -> str | None:
    """The tensor x whose ``x != 0`` is the key padding mask, or None without one."""
    if not rest:
        return None
    mask = imp.masks.get(rest[0])
    if len(rest) > 1 or mask is None:
        why = f"it reads '{rest[-1]}', which is neither its query, key or value nor a padding mask"
        raise _fail(node, why, MASK_FIX)
    hidden, shown = (imp.consts.get(n) for n in mask.fill)
    if mask.fill[0] and not (np.all(hidden_score(hidden)) and np.all(shown == 0)):
        raise _fail(node, "its key_padding_mask is a float mask other than Where(mask, −inf, 0)", MASK_FIX)
    if mask.zero and np.any(imp.consts.get(mask.zero, 1) != 0):
        raise _fail(node, "its padding mask compares with a value other than 0", MASK_FIX)
    if mask.inverted:
        why = "its key_padding_mask is x == 0 (zero = ignore), but the mask port ignores nonzero positions"
        raise _fail(node, why, MASK_FIX)
    return mask.source


def _causal(imp: Any, members: list[onnx.NodeProto], base: str, steps: tuple[int, int], node: onnx.NodeProto) -> bool:
    """True when the constant attn_mask [T, S] the scores meet hides exactly the positions after each step.

    The mask is the constant [T, S] (or [1, …, T, S]) an op on the scores reads: given in forward, it enters
    the scope and is converted inside; with ``is_causal`` the scope builds it itself.
    """
    found = {}
    for m in members:
        if m.op_type in ("MatMul", "Gemm") or all(o in imp.consts for o in m.output if o):
            continue  # a projection, or an op on constants (computing the mask, not applying it)
        for i in m.input:
            shape = np.shape(imp.consts[i]) if i in imp.consts and not i.startswith(base) else ()
            if len(shape) >= 2 and tuple(shape[-2:]) == steps and int(np.prod(shape[:-2])) == 1:
                found[i] = np.reshape(imp.consts[i], steps)
    if not found:
        return False
    why = "its attn_mask is not one constant" if len(found) > 1 else causal_mask(found.popitem()[1], steps)
    if why:
        raise _fail(node, why, MASK_FIX)
    return True


def _weights(
    imp: Any, members: list[onnx.NodeProto], base: str, sequences: list[str], node: onnx.NodeProto
) -> dict[str, torch.Tensor]:
    consts = imp.consts
    out_w, out_b = consts.get(base + OUT_PROJ), consts.get(base + "out_proj.bias")
    if out_w is None:  # without a bias, out_proj is a MatMul with its transposed weight: the scope's last one
        last = [m for m in members if m.op_type == "MatMul" and np.ndim(consts.get(m.input[1])) == 2]
        if not last:
            raise _fail(node, "its output projection is neither out_proj.weight nor a MatMul with a constant")
        out_w = np.asarray(consts[last[-1].input[1]]).T
    gemm = next((m for m in members if m.op_type == "Gemm" and base + OUT_PROJ in m.input), None)
    if out_b is None and gemm is not None and len(gemm.input) > 2:  # the bias under another name
        out_b = consts.get(gemm.input[2])
    arrays = {"out_proj.weight": out_w}
    if base + "in_proj_weight" in consts:
        arrays["in_proj_weight"] = consts[base + "in_proj_weight"]
        if base + "in_proj_bias" in consts:
            arrays["in_proj_bias"] = consts[base + "in_proj_bias"]
    else:
        arrays.update(_projections(imp, members, out_w.shape[0], sequences, node))
    if out_b is None and "in_proj_bias" in arrays:  # a zero bias the exporter left out (torch starts it at 0)
        out_b = np.zeros(out_w.shape[0], out_w.dtype)
    if out_b is not None:
        arrays["out_proj.bias"] = np.reshape(out_b, -1)
    return {k: torch.from_numpy(np.array(v)) for k, v in arrays.items()}


def _projections(
    imp: Any, members: list[onnx.NodeProto], dim: int, sequences: list[str], node: onnx.NodeProto
) -> dict[str, np.ndarray]:
    """The input projections, from the MatMuls (and bias Adds) on the transposed query, key and value."""
    time_first = {m.output[0]: m.input[0] for m in members if m.op_type == "Transpose" and m.input[0] in sequences}
    found = []  # (the sequence it reads, [out, in] weight, bias or None)
    for m in members:
        if m.op_type != "MatMul" or m.input[0] not in time_first or m.input[1] not in imp.consts:
            continue
        weight = np.asarray(imp.consts[m.input[1]]).T
        adds = [u for u in imp.users.get(m.output[0], []) if u.op_type == "Add"]
        bias = next((imp.consts[i] for u in adds[:1] for i in u.input if i in imp.consts), None)
        found.append((time_first[m.input[0]], weight, bias))
    rows = sum(w.shape[0] for _, w, _ in found)
    if not found or found[0][0] != sequences[0] or rows != 3 * dim:
        raise _fail(node, "its input projections are not the query, key and value projections of torch's attention")
    out = {}
    if all(w.shape[1] == dim for _, w, _ in found):
        out["in_proj_weight"] = np.concatenate([w for _, w, _ in found])
    elif len(found) == 3:  # kdim or vdim differ from the query's features: one weight each
        out.update({f"{p}_proj_weight": w for p, (_, w, _) in zip("qkv", found, strict=True)})
    else:
        raise _fail(node, "its key and value projections are packed but differ in size from the query's")
    if all(b is not None for _, _, b in found):
        out["in_proj_bias"] = np.concatenate([np.reshape(b, -1) for _, _, b in found])
    return out
