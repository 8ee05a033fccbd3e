"""A traced call of torch's ``nn.MultiheadAttention`` as one MultiheadAttention node.

The call's query wires the node's query port, its key and value the key and value ports where they differ
from the query and the key. A ``key_padding_mask`` written ``x != 0`` or ``x.bool()`` wires ``x`` to the
mask port; an ``attn_mask`` computed from constants and sizes alone (``torch.ones(T, S, dtype=torch.bool)
.triu(1)``, ``nn.Transformer.generate_square_subsequent_mask(T)``) sets ``causal`` when it hides the
positions after each step. :func:`claim_masks` marks the ops computing the masks before the walk reaches
them, so they are read here rather than imported as nodes of their own.
"""

from __future__ import annotations

import operator
from typing import Any

import torch
from torch import fx, nn

from graphedit.importers.common import MASK_FIX, Ref, UnsupportedOpError, causal_mask
from graphedit.importers.fx_functions import arg

# methods that read a tensor only for its dtype and device (query.new_ones(T, S).triu(1) is a constant)
META = {"new_ones", "new_zeros", "new_full", "new_empty", "new_tensor"}
MASK = "mask"  # a claimed op's entry in the importer's refs: ("mask", x, x == 0) or ("mask", None, False)
NAMES = ("query", "key", "value", "key_padding_mask", "need_weights", "attn_mask")


def _padding(node: Any) -> tuple[fx.Node, bool] | None:
    """``(x, inverted)`` for ``x != 0``, ``x.ne(0)``, ``x.bool()`` (inverted False) or ``x == 0`` (True)."""
    if not isinstance(node, fx.Node) or node.op not in ("call_function", "call_method"):
        return None
    target = node.target
    if target == "bool" and len(node.args) == 1:
        return (node.args[0], False) if isinstance(node.args[0], fx.Node) else None
    compares = {operator.ne: False, torch.ne: False, "ne": False, operator.eq: True, torch.eq: True, "eq": True}
    if target not in compares or len(node.args) != 2 or node.kwargs:
        return None
    x, zero = node.args
    return (x, compares[target]) if isinstance(x, fx.Node) and zero == 0 else None


def _constant_part(imp: Any, mask: fx.Node, attention: fx.Node) -> set[fx.Node]:
    """The ops computing ``mask`` from constants, buffers and sizes alone, used for nothing else; empty when it
    reads data. A buffer (``self.mask[:T, :T]``) is read, not claimed: the walk keeps it for its other users."""
    part, stack = set(), [mask]
    while stack:
        n = stack.pop()
        if n not in part and n.op in ("call_function", "call_method", "get_attr"):
            part.add(n)
            stack.extend(n.all_input_nodes)
    for n in part:
        if not imp._is_tensor(n) or n.op == "get_attr":
            continue  # shape bookkeeping (q.size(1)) reads tensors only for their sizes; a buffer is a constant
        reads = n.all_input_nodes[1:] if n.op == "call_method" and n.target in META else n.all_input_nodes
        if any(i not in part and imp._is_tensor(i) for i in reads):
            return set()  # computed from a tensor's values
        if any(u not in part and u is not attention for u in n.users):
            return set()
    return {n for n in part if imp._is_tensor(n) and n.op != "get_attr"}


def masked_examples(gm: fx.GraphModule, examples: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """``examples`` where each input read as an attention's padding mask [N, S] hides example i's last i + 1 keys
    (never the first): random values would hide every key, and the comparison with the source would see NaNs."""
    inputs = [n for n in gm.graph.nodes if n.op == "placeholder"]
    out = list(examples)
    for node in gm.graph.nodes:
        if node.op == "call_module" and isinstance(gm.get_submodule(node.target), nn.MultiheadAttention):
            found = _padding(arg(node, 3, NAMES[3]))
            if found is not None and found[0] in inputs and out[inputs.index(found[0])].dim() == 2:
                i = inputs.index(found[0])
                n, steps = out[i].shape
                hidden = torch.arange(steps) >= (steps - 1 - torch.arange(n)[:, None]).clamp(min=1)
                out[i] = hidden.to(out[i].dtype)
    return tuple(out)


def claim_masks(imp: Any) -> None:
    """Mark the ops computing each attention call's masks (see the module doc)."""
    for node in imp.gm.graph.nodes:
        if node.op != "call_module" or not isinstance(imp.gm.get_submodule(node.target), nn.MultiheadAttention):
            continue
        padding, attn_mask = arg(node, 3, NAMES[3]), arg(node, 5, NAMES[5])
        found = _padding(padding)
        if found is not None and list(padding.users) == [node]:
            imp.refs[padding] = (MASK, *found)
        if isinstance(attn_mask, fx.Node):
            for n in _constant_part(imp, attn_mask, node):
                imp.refs[n] = (MASK, None, False)


def attention_node(imp: Any, node: fx.Node, m: nn.MultiheadAttention) -> tuple[dict[str, Any], list[Ref], list[str]]:
    """The MultiheadAttention node's parameters, inputs and their ports for the call ``node`` of ``m``."""
    op, where = "MultiheadAttention", f"module '{node.target}'"
    if not m.batch_first:
        raise UnsupportedOpError(op, where, "batch_first=False", "construct it with batch_first=True ([N, T, E])")
    if m.bias_k is not None or m.add_zero_attn:
        raise UnsupportedOpError(op, where, "add_bias_kv and add_zero_attn have no MultiheadAttention node equivalent")
    given = {n: arg(node, i, n) for i, n in enumerate(NAMES)}
    query, key, value = given["query"], given["key"], given["value"]
    inputs, ports = [imp._input(query)], ["query"]
    if key is not query:
        inputs.append(imp._input(key))
        ports.append("key")
    if value is not key:
        inputs.append(imp._input(value))
        ports.append("value")
    padding = given["key_padding_mask"]
    if padding is not None:
        claimed = imp.refs.get(padding) if isinstance(padding, fx.Node) else None
        if not (isinstance(claimed, tuple) and claimed[0] == MASK and claimed[1] is not None):
            raise UnsupportedOpError(op, where, "its key_padding_mask is not written x != 0 or x.bool()", MASK_FIX)
        if claimed[2]:
            why = "its key_padding_mask is x == 0 (zero = ignore), but the mask port ignores nonzero positions"
            raise UnsupportedOpError(op, where, why, MASK_FIX)
        inputs.append(imp._input(claimed[1]))
        ports.append("mask")
    params = {"heads": m.num_heads, "dropout": float(m.dropout), "bias": m.in_proj_bias is not None, "causal": False}
    attn_mask = given["attn_mask"]
    if attn_mask is not None:
        claimed = imp.refs.get(attn_mask) if isinstance(attn_mask, fx.Node) else None
        constant = isinstance(attn_mask, fx.Node) and attn_mask.op == "get_attr"  # a buffer, or a traced constant
        if not constant and not (isinstance(claimed, tuple) and claimed[0] == MASK):
            raise UnsupportedOpError(op, where, "its attn_mask is computed from the inputs' values", MASK_FIX)
        steps = (imp._shape(query)[1], imp._shape(key)[1])
        why = causal_mask(imp.values[attn_mask].numpy(), steps)
        if why:
            raise UnsupportedOpError(op, where, why, MASK_FIX)
        params["causal"] = True
    return params, inputs, ports
