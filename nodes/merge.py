"""Merge nodes: combine several branches (skip connections, DenseNet/U-Net/Inception concatenation)."""

from __future__ import annotations

from typing import Any

import torch

from graphedit.errors import NodeError
from graphedit.nodes._common import mismatch_fix, spatial_text
from graphedit.nodes.spec import Call, NodeType, Param, Shape, shape_text

INPUTS = Param("inputs", "int", 2, min=2, max=8, doc="Number of inputs (ports in1 … inN).")


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


def _elementwise(two: object, many: object) -> object:
    """``torch.add(a, b)`` for two inputs (reads best), ``add([a, b, c])`` for more."""

    def build(params: dict[str, Any], shapes: list[Shape | None]) -> Call:
        return Call(two) if params["inputs"] == 2 else Call(many, pack=True)

    return build


def _check_equal(title: str) -> Any:
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
    first = known[0] if known else None
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
        "Element-wise product of its inputs, e.g. for gating one branch by another (sigmoid gate).",
        build=_elementwise(torch.mul, multiply),
        params=(INPUTS,),
        formula="y = x₁ ⊙ x₂ ⊙ … ⊙ xₙ",
        variadic="inputs",
        check=_check_equal("Multiply"),
        id_prefix="mul",
    ),
]
