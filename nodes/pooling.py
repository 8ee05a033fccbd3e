"""Pooling: summarise windows of sequences, images and volumes (max, average, adaptive, global)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from graphedit.errors import NodeError
from graphedit.nodes._common import Check, need_rank
from graphedit.nodes.convolution import _check_rank, _int
from graphedit.nodes.spec import Call, NodeType, Param, Shape

_SIZE = (
    "Output size per dimension: ⌊(i + 2p − d(k−1) − 1) / s⌋ + 1, rounded up instead with ceil_mode "
    "(a last window may then start in the padding-free remainder)."
)
_CEIL = Param(
    "ceil_mode",
    "bool",
    False,
    doc="Round the output size up instead of down, so the last partial window counts (SqueezeNet, GoogLeNet).",
)
_DIMS_TEXT = {1: "k", 2: "k×k", 3: "k×k×k"}


def pool_out(i: int, k: int, s: int, p: int, d: int = 1, ceil: bool = False) -> int:
    """PyTorch's pooling output size; with ``ceil`` a window must still start inside the (left-padded) input."""
    span = i + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= i + p:
        out -= 1
    return out


def _pool_check(title: str, dims: int) -> Check:
    def check(params: dict[str, Any], shapes: list[Shape | None]) -> None:
        _check_rank(title, dims, shapes[0])
        k, p = params["kernel"], params["padding"]
        if p * 2 > k:
            raise NodeError(
                None, f"{title}: padding {p} is more than half the kernel {k}", fix=f"use padding ≤ {k // 2}"
            )
        if shapes[0] is None:
            return
        d = params.get("dilation", 1)
        sizes = [pool_out(i, k, params["stride"], p, d, params["ceil_mode"]) for i in shapes[0][2:]]
        if min(sizes) < 1:
            raise NodeError(
                None,
                f"{title}: its {_DIMS_TEXT[dims]} window (k = {k}, dilation {d}) does not fit the "
                f"{'×'.join(map(str, shapes[0][2:]))} input; the output would be empty",
                fix="use a smaller kernel, add padding, or downsample less before it",
            )

    return check


def _pool_type(kind: str, dims: int, doc: str, formula: str) -> NodeType:
    title = f"{kind}Pool{dims}d"
    cls: type[nn.Module] = getattr(nn, title)
    params: list[Param] = [
        _int("kernel", 2, "Window size k.", hi=64),
        _int("stride", 2, "Step s between windows; equal to k for non-overlapping pooling.", hi=64),
        _int("padding", 0, "Padding p on each side (at most k/2).", lo=0, hi=32),
    ]
    if kind == "Max":
        params.append(_int("dilation", 1, "Spacing d between the window's taps.", hi=16))
    params.append(_CEIL)
    if kind == "Avg":
        params.append(
            Param(
                "count_include_pad",
                "bool",
                True,
                doc="Divide by the whole window k^dims even where it covers padding (off: by the real values only).",
            )
        )

    def build(params: dict[str, Any], shapes: list[Shape | None]) -> nn.Module:
        extra = {k: params[k] for k in ("dilation", "count_include_pad") if k in params}
        return cls(
            params["kernel"], stride=params["stride"], padding=params["padding"], ceil_mode=params["ceil_mode"], **extra
        )

    prefix = {"Max": "pool", "Avg": "avgpool"}[kind] + ("" if dims == 2 else f"{dims}d_")
    return NodeType(
        title,
        title,
        "convolution",
        f"{doc} Channels stay; {_SIZE}",
        build=build,
        params=tuple(params),
        formula=formula,
        key_params=("kernel", "stride"),
        check=_pool_check(title, dims),
        id_prefix=prefix,
    )


def _adaptive_check(title: str, dims: int) -> Check:
    def check(params: dict[str, Any], shapes: list[Shape | None]) -> None:
        _check_rank(title, dims, shapes[0])

    return check


def _adaptive_type(kind: str, dims: int) -> NodeType:
    title = f"Adaptive{kind}Pool{dims}d"
    cls: type[nn.Module] = getattr(nn, title)
    what = {"Avg": "mean", "Max": "largest value"}[kind]
    return NodeType(
        title,
        title,
        "convolution",
        f"Adaptive {kind.lower()} pooling: chooses its windows so the output has exactly the size asked for, "
        f"whatever the input size; each output cell is the {what} of the input cells it covers (output 1: global).",
        build=lambda params, shapes: cls(tuple(params["size"])),
        params=(Param("size", "ints", (1,) * dims, min=1, max=4096, length=dims, doc="Output size per dimension."),),
        formula=f"y[c, i] = {'mean' if kind == 'Avg' else 'max'}(x[c, ⌊i·I/O⌋ … ⌈(i+1)·I/O⌉ − 1])",
        key_params=("size",),
        check=_adaptive_check(title, dims),
        id_prefix=f"adapt{kind.lower()}",
    )


def global_avg_pool(x: torch.Tensor) -> torch.Tensor:
    """Mean over every position: [N, C, ...] → [N, C]."""
    return x.flatten(2).mean(dim=2)


_MAX_DOC = "Max pooling: keeps the largest value of each window, halving resolution with k = s = 2."
_AVG_DOC = "Average pooling: the mean of each window."

NODE_TYPES = [
    _pool_type("Max", 2, _MAX_DOC, "y[c, i, j] = max_(u,v ∈ window) x[c, s·i + d·u − p, s·j + d·v − p]"),
    _pool_type("Avg", 2, _AVG_DOC, "y[c, i, j] = (1/k²) Σ_(u,v ∈ window) x[c, s·i + u − p, s·j + v − p]"),
    _pool_type("Max", 1, _MAX_DOC, "y[c, i] = max_(u ∈ window) x[c, s·i + d·u − p]"),
    _pool_type("Avg", 1, _AVG_DOC, "y[c, i] = (1/k) Σ_(u ∈ window) x[c, s·i + u − p]"),
    _pool_type("Max", 3, _MAX_DOC, "y[c, t, i, j] = max over the k×k×k window"),
    _pool_type("Avg", 3, _AVG_DOC, "y[c, t, i, j] = (1/k³) Σ over the k×k×k window"),
    _adaptive_type("Avg", 2),
    _adaptive_type("Max", 2),
    NodeType(
        "GlobalAvgPool",
        "GlobalAvgPool",
        "convolution",
        "Global average pooling: one number per channel, the mean over all positions; [N, C, H, W] → [N, C].",
        build=lambda params, shapes: Call(global_avg_pool),
        formula="y_c = (1/HW) Σ_(i,j) x[c, i, j]",
        check=lambda params, shapes: need_rank(
            "GlobalAvgPool", shapes[0], (3, 4, 5), "[N, C, H, W] or [N, C, L]", "it needs a channel dimension"
        ),
        id_prefix="gap",
    ),
]
