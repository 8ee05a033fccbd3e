"""Multi-head attention over token sequences [N, T, E]: self-attention and cross-attention, with masks."""

from __future__ import annotations

from typing import Any, Optional

import torch
from torch import nn

from graphedit.errors import NodeError
from graphedit.nodes._common import known, need_rank
from graphedit.nodes.spec import NodeType, Param, Port, Shape, shape_text


class Attention(nn.Module):
    """``nn.MultiheadAttention`` (batch first) fed by whichever of key, value and padding mask are wired.

    Unwired key: self-attention (key = value = query). Unwired value: value = key (attend to a memory).
    The padding mask is [N, S], nonzero where a key position must be ignored. ``causal`` hides later
    positions, so step t sees steps ≤ t only.
    """

    def __init__(
        self, dim: int, heads: int, dropout: float, bias: bool, kdim: int, vdim: int, causal: bool, wired: list[bool]
    ) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(
            dim, heads, dropout=dropout, bias=bias, batch_first=True, kdim=kdim, vdim=vdim
        )
        self.causal = causal
        self.has_key, self.has_value, self.has_mask = wired

    def forward(
        self,
        query: torch.Tensor,
        a: Optional[torch.Tensor] = None,  # noqa: UP045 (TorchScript reads it)
        b: Optional[torch.Tensor] = None,  # noqa: UP045
        c: Optional[torch.Tensor] = None,  # noqa: UP045
    ) -> torch.Tensor:
        rest = [a, b, c]
        i = 0
        key = query
        if self.has_key:
            wired = rest[i]
            assert wired is not None  # has_key: the key port is wired, so a tensor is passed for it
            key = wired
            i += 1
        value = key
        if self.has_value:
            wired = rest[i]
            assert wired is not None
            value = wired
            i += 1
        padding = None
        if self.has_mask:
            padding = rest[i] != 0
        causal = None
        if self.causal:
            causal = torch.ones(query.shape[1], key.shape[1], dtype=torch.bool, device=query.device).triu(1)
        out: torch.Tensor = self.attn(
            query, key, value, key_padding_mask=padding, attn_mask=causal, need_weights=False
        )[0]
        return out


def _check(params: dict[str, Any], shapes: list[Shape | None]) -> None:
    query, key, value, mask = shapes
    for name, shape in (("query", query), ("key", key), ("value", value)):
        fix = "add an Embedding for token ids, or a Reshape to [T, E] (tokens × features)"
        need_rank(f"MultiheadAttention {name}", shape, (3,), "[N, T, E]", fix)
    if query is not None and query[2] % params["heads"]:
        fits = [h for h in range(1, min(query[2], 64) + 1) if query[2] % h == 0]
        raise NodeError(
            None,
            f"MultiheadAttention: {params['heads']} heads do not divide the {query[2]} features of the query",
            fix=f"use heads from {', '.join(map(str, fits[-6:]))}, or project the query to a multiple of the heads",
        )
    memory = key if key is not None else query
    if key is not None and value is not None and key[1] != value[1]:
        raise NodeError(
            None,
            f"MultiheadAttention: key {shape_text(key)} and value {shape_text(value)} have different lengths",
            fix="key and value need one vector per position of the same sequence",
        )
    if mask is not None and memory is not None and tuple(mask[1:]) != (memory[1],):
        raise NodeError(
            None,
            f"MultiheadAttention: the padding mask {shape_text(mask)} does not fit keys of length {memory[1]}",
            fix=f"give the mask one entry per key position: shape [{memory[1]}]",
        )


def _build(params: dict[str, Any], shapes: list[Shape | None]) -> nn.Module:
    _, key, value, mask = shapes
    query = known(shapes)
    memory = key if key is not None else query
    value_dim = value[2] if value is not None else memory[2]
    return Attention(
        query[2],
        params["heads"],
        params["dropout"],
        params["bias"],
        memory[2],
        value_dim,
        params["causal"],
        [key is not None, value is not None, mask is not None],
    )


NODE_TYPES = [
    NodeType(
        "MultiheadAttention",
        "MultiheadAttention",
        "sequence",
        "Multi-head attention: each query position takes a weighted mean of the values, weighted by how well "
        "the query matches each key; h heads do this in parallel on E/h-dimensional projections. Only query "
        "wired: self-attention (transformer encoder); key/value wired: cross-attention to another sequence. "
        "A padding mask [N, S] (nonzero = ignore) hides padded keys; causal hides later positions.",
        build=_build,
        inputs=(
            Port("query", doc="queries [N, T, E]"),
            Port("key", doc="keys [N, S, Ek] (optional: the query)", optional=True),
            Port("value", doc="values [N, S, Ev] (optional: the key)", optional=True),
            Port("mask", doc="key padding mask [N, S], nonzero = ignore (optional)", optional=True),
        ),
        params=(
            Param("heads", "int", 4, min=1, max=256, doc="Number of heads h (divides the query's features E)."),
            Param("dropout", "float", 0.0, min=0.0, max=1.0, doc="Dropout on the attention weights while training."),
            Param("bias", "bool", True, doc="Learned biases in the input and output projections."),
            Param("causal", "bool", False, doc="Position t attends only to positions ≤ t (decoders)."),
        ),
        formula="Attention(Q, K, V) = softmax(Q Kᵀ / √(E/h)) V per head, then concatenated and projected",
        key_params=("heads",),
        check=_check,
        id_prefix="attn",
    ),
]
