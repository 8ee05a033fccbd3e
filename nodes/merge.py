"""Merge nodes: combine branches (skip connections, DenseNet/U-Net/Inception concatenation, gating, attention).

Add, Concat and Multiply are variadic: ``inputs`` sets how many ports they have (one or more, no upper
limit; DenseNet-121 concatenates up to 25 branches). Multiply, Subtract and Divide broadcast like torch,
so a per-channel gate [N, C, 1, 1] scales a feature map [N, C, H, W] (squeeze-and-excitation).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from graphedit.errors import NodeError
from graphedit.nodes._common import Build, Check, mismatch_fix, spatial_text
from graphedit.nodes.spec import Call, NodeType, Param, Port, Shape, shape_text

INPUTS = Param(
    "inputs",
    "int",
    2,
    min=1,
    max=512,  # a port each: a file's 10¹² would take the editor's memory (DenseNet's widest concat has 49)
    doc="Number of inputs (ports in1 … inN); wiring the last port adds a free one in the editor.",
)


def add(xs: list[torch.Tensor]) -> torch.Tensor:
    """Element-wise sum of all inputs (a list, so TorchScript can compile it)."""
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out


def multiply(xs: list[torch.Tensor]) -> torch.Tensor:
    """Element-wise product of all inputs."""
    out = xs[0]
    for x in xs[1:]:
        out = out * x
    return out


def _elementwise(two: Callable[..., torch.Tensor], many: Callable[[list[torch.Tensor]], torch.Tensor]) -> Build:
    """``torch.add(a, b)`` for two inputs (reads best), ``add([a, b, c])`` for more."""

    def build(params: dict[str, Any], shapes: list[Shape | None]) -> Call:
        wired = sum(s is not None for s in shapes) if shapes else params["inputs"]  # the free last port may be unwired
        return Call(two) if wired == 2 else Call(many, pack=True)  # one input: y = x

    return build


def _check_equal(title: str) -> Check:
    def check(params: dict[str, Any], shapes: list[Shape | None]) -> None:
        known = [s for s in shapes if s is not None]
        for other in known[1:]:
            if tuple(other) != tuple(known[0]):
                raise NodeError(
                    None,
                    f"{title} inputs differ: {shape_text(known[0])} vs {shape_text(other)}",
                    fix=mismatch_fix(known[0], other),
                )

    return check


def _check_broadcast(title: str) -> Check:
    def check(params: dict[str, Any], shapes: list[Shape | None]) -> None:
        known = [s for s in shapes if s is not None]
        if len(known) < 2:
            return
        try:
            torch.broadcast_shapes(*known)
        except RuntimeError:
            a, b = known[0], next(s for s in known[1:] if _clash(known[0], s))
            raise NodeError(
                None,
                f"{title}: {shape_text(a)} and {shape_text(b)} do not broadcast",
                fix=_broadcast_fix(a, b),
            ) from None

    return check


def _clash(a: Shape, b: Shape) -> bool:
    try:
        torch.broadcast_shapes(a, b)
    except RuntimeError:
        return True
    return False


def _broadcast_fix(a: Shape, b: Shape) -> str:
    if len(a) != len(b):
        small, big = (a, b) if len(a) < len(b) else (b, a)
        ones = ", ".join(["1"] * (len(big) - len(small)))
        return (
            f"sizes are matched from the right: reshape the {shape_text(small)} input to "
            f"[{', '.join(map(str, small[1:]))}, {ones}] so it broadcasts over the missing dimensions"
        )
    return "each size must be equal or 1; " + mismatch_fix(a, b)


def _check_matmul(params: dict[str, Any], shapes: list[Shape | None]) -> None:
    a, b = shapes
    if a is None or b is None:
        return
    if len(a) < 3 or len(b) < 3:
        raise NodeError(
            None, "MatMul needs matrices per example", fix="add a Reshape so each input has two dimensions, [M, K]"
        )
    if a[-1] != b[-2]:
        raise NodeError(
            None,
            f"MatMul: {shape_text(a)} @ {shape_text(b)} — the inner sizes {a[-1]} and {b[-2]} differ",
            fix="a's last size must equal b's second-to-last; transpose b with Permute, or project with a Dense",
        )
    try:
        torch.broadcast_shapes(a[:-2], b[:-2])
    except RuntimeError:
        raise NodeError(
            None,
            f"MatMul: the batch sizes {shape_text(a[:-2])} and {shape_text(b[:-2])} do not broadcast",
            fix="make the leading sizes equal (or 1), e.g. with Reshape",
        ) from None


def _check_concat(params: dict[str, Any], shapes: list[Shape | None]) -> None:
    axis = params["axis"]
    known = [s for s in shapes if s is not None]
    for s in known:
        if axis >= len(s):
            raise NodeError(
                None,
                f"Concat axis {axis} does not exist in {shape_text(s)}",
                fix=f"use an axis from 1 to {len(s) - 1}",
            )
    if not known:
        return
    first = known[0]
    for other in known[1:]:
        if len(other) != len(first):
            raise NodeError(
                None,
                f"Concat inputs differ in rank: {shape_text(first)} vs {shape_text(other)}",
                fix="give all inputs the same number of dimensions, e.g. with Flatten or Reshape",
            )
        bad = [i for i in range(1, len(first)) if i != axis and first[i] != other[i]]
        if not bad:
            continue
        if axis == 1 and len(first) >= 3 and min(bad) >= 2:
            fix = (
                f"spatial sizes differ: {spatial_text(first)} vs {spatial_text(other)} — "
                "add pooling/upsampling or crop so they match"
            )
        else:
            fix = f"all sizes except axis {axis} must be equal; reshape or resize the inputs"
        raise NodeError(None, f"Concat inputs differ: {shape_text(first)} vs {shape_text(other)}", fix=fix)


NODE_TYPES = [
    NodeType(
        "Add",
        "Add",
        "merge",
        "Element-wise sum of its inputs; a skip (residual) connection adds a block's input to its output, "
        "so the block learns only a correction F(x).",
        build=_elementwise(torch.add, add),
        params=(INPUTS,),
        formula="y = x₁ + x₂ + … + xₙ",
        variadic="inputs",
        check=_check_equal("Add"),
        id_prefix="add",
    ),
    NodeType(
        "Concat",
        "Concat",
        "merge",
        "Concatenates its inputs along an axis (1: channels/features), as in DenseNet, U-Net and Inception; "
        "all other sizes must agree.",
        build=lambda params, shapes: Call(torch.cat, {"dim": params["axis"]}, pack=True),
        params=(INPUTS, Param("axis", "int", 1, min=1, max=8, doc="Axis to join along; 1 = channels/features.")),
        formula="y = [x₁, x₂, …, xₙ] along axis",
        key_params=("axis",),
        variadic="inputs",
        check=_check_concat,
        id_prefix="concat",
    ),
    NodeType(
        "Multiply",
        "Multiply",
        "merge",
        "Element-wise product of its inputs, broadcasting like torch (sizes equal or 1): a sigmoid gate "
        "[N, C, 1, 1] scales each channel of [N, C, H, W], as squeeze-and-excitation does.",
        build=_elementwise(torch.mul, multiply),
        params=(INPUTS,),
        formula="y = x₁ ⊙ x₂ ⊙ … ⊙ xₙ",
        variadic="inputs",
        check=_check_broadcast("Multiply"),
        id_prefix="mul",
    ),
    NodeType(
        "Subtract",
        "Subtract",
        "merge",
        "Element-wise difference a − b, broadcasting like torch (sizes equal or 1, matched from the right).",
        build=lambda params, shapes: Call(torch.sub),
        inputs=(Port("a", doc="minuend"), Port("b", doc="subtrahend")),
        formula="y = a − b",
        check=_check_broadcast("Subtract"),
        id_prefix="sub",
    ),
    NodeType(
        "Divide",
        "Divide",
        "merge",
        "Element-wise quotient a / b, broadcasting like torch; b = 0 gives ±inf.",
        build=lambda params, shapes: Call(torch.div),
        inputs=(Port("a", doc="numerator"), Port("b", doc="denominator")),
        formula="y = a / b",
        check=_check_broadcast("Divide"),
        id_prefix="div",
    ),
    NodeType(
        "MatMul",
        "MatMul",
        "merge",
        "Matrix product of each example's matrices, [N, M, K] @ [N, K, P] → [N, M, P] (batch sizes broadcast); "
        "attention scores are Q @ Kᵀ.",
        build=lambda params, shapes: Call(torch.matmul),
        inputs=(Port("a", doc="left matrix [.., M, K]"), Port("b", doc="right matrix [.., K, P]")),
        formula="y[n, i, j] = Σ_k a[n, i, k] · b[n, k, j]",
        check=_check_matmul,
        id_prefix="matmul",
    ),
]
