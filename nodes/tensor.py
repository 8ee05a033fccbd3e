"""Tensor operations without weights: rearrange axes, reduce, split, slice, pad, crop, constant arithmetic.

Axes count from the batch dimension N = 0, so axis 1 is the channels/features; the batch axis itself is
never moved, reduced or split, because every example must stay an example.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from graphedit.errors import NodeError
from graphedit.nodes.spec import Call, NodeType, Param, Port, Shape, shape_text

_AXIS = Param("axis", "int", 1, min=1, max=8, doc="Axis to work along (0 is the batch; 1 the channels/features).")


def _rank_fix(title: str, axis: int, shape: Shape) -> NodeError:
    return NodeError(
        None,
        f"{title}: axis {axis} does not exist in {shape_text(shape)}",
        fix=f"use an axis from 1 to {len(shape) - 1}",
    )


def _check_axes(title: str, axes: tuple[int, ...] | list[int], shape: Shape | None) -> None:
    if shape is None:
        return
    for axis in axes:
        if axis >= len(shape):
            raise _rank_fix(title, axis, shape)
    if len(set(axes)) != len(axes):
        raise NodeError(None, f"{title}: axes {list(axes)} repeat an axis", fix="name each axis once")


# ------------------------------------------------------------------ arithmetic with a constant
_OPS: dict[str, Callable[..., torch.Tensor]] = {
    "add": torch.add,
    "subtract": torch.sub,
    "multiply": torch.mul,
    "divide": torch.div,
    "power": torch.pow,
}


def subtract_from(x: torch.Tensor, value: float) -> torch.Tensor:
    """c − x."""
    return value - x


def _build_arith(params: dict[str, Any], shapes: list[Shape | None]) -> Call:
    if params["op"] == "subtract from":
        return Call(subtract_from, {"value": params["value"]})
    name = "exponent" if params["op"] == "power" else "other"
    return Call(_OPS[params["op"]], {name: params["value"]})


# ------------------------------------------------------------------ axes
def permute(x: torch.Tensor, order: list[int]) -> torch.Tensor:
    """Reorder the axes after the batch: ``order`` lists axes 1 … R−1 in their new order."""
    return x.permute([0] + order)


def _check_permute(params: dict[str, Any], shapes: list[Shape | None]) -> None:
    order, shape = list(params["order"]), shapes[0]
    if shape is not None and sorted(order) != list(range(1, len(shape))):
        raise NodeError(
            None,
            f"Permute: order {order} is not a reordering of the axes 1 … {len(shape) - 1} of {shape_text(shape)}",
            fix=f"list each of the axes {', '.join(map(str, range(1, len(shape))))} once, e.g. "
            f"{list(range(len(shape) - 1, 0, -1))}",
        )


def _check_transpose(params: dict[str, Any], shapes: list[Shape | None]) -> None:
    _check_axes("Transpose", (params["dim0"], params["dim1"]), shapes[0])


# ------------------------------------------------------------------ reductions
_REDUCE: dict[str, Callable[..., torch.Tensor]] = {"Mean": torch.mean, "Sum": torch.sum, "Max": torch.amax}


def _reduce_type(title: str, doc: str, formula: str) -> NodeType:
    def build(params: dict[str, Any], shapes: list[Shape | None]) -> Call:
        return Call(_REDUCE[title], {"dim": list(params["axes"]), "keepdim": params["keepdim"]})

    def check(params: dict[str, Any], shapes: list[Shape | None]) -> None:
        _check_axes(title, params["axes"], shapes[0])

    return NodeType(
        title,
        title,
        "tensor",
        doc,
        build=build,
        params=(
            Param("axes", "ints", (1,), min=1, max=8, doc="Axes to reduce (1 = channels/features; never 0)."),
            Param("keepdim", "bool", False, doc="Keep each reduced axis with size 1 (so the result broadcasts)."),
        ),
        formula=formula,
        key_params=("axes",),
        check=check,
        id_prefix=title.lower(),
    )


# ------------------------------------------------------------------ split and slice
def _check_split(params: dict[str, Any], shapes: list[Shape | None]) -> None:
    shape, axis, sizes = shapes[0], params["axis"], params["sizes"]
    _check_axes("Split", (axis,), shape)
    if shape is not None and sum(sizes) != shape[axis]:
        raise NodeError(
            None,
            f"Split: sizes {list(sizes)} add up to {sum(sizes)}, "
            f"but axis {axis} of {shape_text(shape)} has {shape[axis]}",
            fix=f"choose sizes that add up to {shape[axis]}",
        )


def _check_chunk(params: dict[str, Any], shapes: list[Shape | None]) -> None:
    shape, axis, chunks = shapes[0], params["axis"], params["chunks"]
    _check_axes("Chunk", (axis,), shape)
    if shape is not None and shape[axis] % chunks:
        raise NodeError(
            None,
            f"Chunk: axis {axis} of {shape_text(shape)} has {shape[axis]}, "
            f"which does not split into {chunks} equal parts",
            fix=f"use a number of chunks that divides {shape[axis]}, or Split with explicit sizes",
        )


def slice_axis(x: torch.Tensor, axis: int, start: int, end: int | None, step: int) -> torch.Tensor:
    """``x[..., start:end:step, ...]`` on one axis, as Python slicing (negative counts from the end)."""
    index = [slice(None)] * axis + [slice(start, end, step)]
    return x[tuple(index)]


def _build_slice(params: dict[str, Any], shapes: list[Shape | None]) -> Call:
    end = None if params["end"] == "end" else params["end"]
    kw = {"axis": params["axis"], "start": params["start"], "end": end, "step": params["step"]}
    return Call(slice_axis, kw)


def _check_slice(params: dict[str, Any], shapes: list[Shape | None]) -> None:
    shape, axis = shapes[0], params["axis"]
    _check_axes("Slice", (axis,), shape)
    if shape is None:
        return
    end = None if params["end"] == "end" else params["end"]
    if not range(shape[axis])[slice(params["start"], end, params["step"])]:
        raise NodeError(
            None,
            f"Slice: {params['start']}:{params['end']} keeps nothing of axis {axis} in {shape_text(shape)}",
            fix=f"choose start < end within 0 … {shape[axis]} (negative counts from the end)",
        )


# ------------------------------------------------------------------ pad and crop
def _build_pad(params: dict[str, Any], shapes: list[Shape | None]) -> Call:
    kw: dict[str, Any] = {"pad": list(params["pad"]), "mode": params["mode"]}
    if params["mode"] == "constant":
        kw["value"] = params["value"]
    return Call(F.pad, kw)


def _check_pad(params: dict[str, Any], shapes: list[Shape | None]) -> None:
    shape, pad = shapes[0], params["pad"]
    if len(pad) % 2:
        raise NodeError(None, f"Pad: {list(pad)} has an odd count", fix="give two numbers per axis: before and after")
    if shape is None:
        return
    axes = len(pad) // 2
    limit = len(shape) - 1 if params["mode"] == "constant" else len(shape) - 2
    if axes > limit:
        raise NodeError(
            None,
            f"Pad: {list(pad)} pads {axes} axes but {shape_text(shape)} has {limit} that {params['mode']} mode can pad",
            fix="give two numbers per axis from the last one backwards (W, then H, …)",
        )
    if params["mode"] != "constant" and not 1 <= axes <= 3:
        raise NodeError(None, f"Pad: {params['mode']} mode pads 1 to 3 axes", fix="use 2, 4 or 6 numbers")
    if params["mode"] == "reflect":
        for i in range(axes):
            size = shape[len(shape) - 1 - i]
            if max(pad[2 * i], pad[2 * i + 1]) >= size:
                raise NodeError(
                    None,
                    f"Pad: reflect padding {max(pad[2 * i], pad[2 * i + 1])} is not smaller than the size {size}",
                    fix=f"pad by at most {size - 1}, or use replicate mode",
                )


def center_crop(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Cut the middle of ``x`` to the spatial size of ``like`` (axes 2 and up), as U-Net does before concat."""
    for axis in range(2, x.dim()):
        start = (x.shape[axis] - like.shape[axis]) // 2
        x = x.narrow(axis, start, like.shape[axis])
    return x


def _check_crop(params: dict[str, Any], shapes: list[Shape | None]) -> None:
    x, like = shapes
    if x is None or like is None:
        return
    if len(x) != len(like) or len(x) < 3:
        raise NodeError(
            None,
            f"Crop: {shape_text(x)} and the reference {shape_text(like)} need the same layout [N, C, …]",
            fix="wire maps of the same rank, e.g. two [N, C, H, W] feature maps",
        )
    big = [i for i in range(2, len(x)) if like[i] > x[i]]
    if big:
        raise NodeError(
            None,
            f"Crop: cannot cut {shape_text(x)} down to the larger {'×'.join(map(str, like[2:]))} of {shape_text(like)}",
            fix="swap the inputs (crop the larger map), or Pad the smaller one",
        )


NODE_TYPES = [
    NodeType(
        "Arithmetic",
        "Arithmetic",
        "tensor",
        "Arithmetic with a constant c: add, subtract, multiply, divide, raise to a power, or subtract from c "
        "(e.g. scale pixels by 1/255, or 1 − x).",
        build=_build_arith,
        params=(
            Param("op", "choice", "multiply", choices=(*_OPS, "subtract from"), doc="The operation."),
            Param("value", "float", 1.0, min=-1e9, max=1e9, doc="The constant c."),
        ),
        formula="y = x ∘ c,  ∘ ∈ {+, −, ×, ÷, ^}  (or c − x)",
        key_params=("op", "value"),
        id_prefix="arith",
    ),
    NodeType(
        "Permute",
        "Permute",
        "tensor",
        "Reorders the axes after the batch, e.g. [N, C, H, W] → [N, H, W, C] with order [2, 3, 1]; "
        "sequences [N, T, F] ↔ [N, F, T] with [2, 1].",
        build=lambda params, shapes: Call(permute, {"order": list(params["order"])}),
        params=(Param("order", "ints", (2, 1), min=1, max=8, doc="The old axes 1 … R−1 in their new order."),),
        formula="y[n, i_order(1), …] = x[n, i_1, …]",
        key_params=("order",),
        check=_check_permute,
        id_prefix="permute",
    ),
    NodeType(
        "Transpose",
        "Transpose",
        "tensor",
        "Swaps two axes, e.g. 1 and 2 turn [N, T, F] into [N, F, T] (Conv1d wants channels first).",
        build=lambda params, shapes: Call(torch.transpose, {"dim0": params["dim0"], "dim1": params["dim1"]}),
        params=(
            Param("dim0", "int", 1, min=1, max=8, doc="First axis."),
            Param("dim1", "int", 2, min=1, max=8, doc="Second axis."),
        ),
        formula="y[…, j, …, i, …] = x[…, i, …, j, …]",
        key_params=("dim0", "dim1"),
        check=_check_transpose,
        id_prefix="transpose",
    ),
    _reduce_type(
        "Mean", "Mean over the chosen axes, e.g. over the tokens of a sequence (axes [1]).", "y = (1/|A|) Σ_A x"
    ),
    _reduce_type("Sum", "Sum over the chosen axes.", "y = Σ_A x"),
    _reduce_type("Max", "Largest value over the chosen axes (global max pooling with axes [2, 3]).", "y = max_A x"),
    NodeType(
        "Split",
        "Split",
        "tensor",
        "Splits a tensor along an axis into parts of the given sizes, one output each (out1, out2, …); "
        "e.g. the two halves of a GLU, or Q, K, V from one projection.",
        build=lambda params, shapes: Call(
            torch.split, {"split_size_or_sections": list(params["sizes"]), "dim": params["axis"]}
        ),
        params=(
            Param("sizes", "ints", (1, 1), min=1, doc="Size of each part along the axis; one output per entry."),
            _AXIS,
        ),
        outputs=(),
        formula="[y₁, …, yₖ] = x split along axis into sizes s₁ … sₖ",
        key_params=("sizes", "axis"),
        variadic_outputs="sizes",
        check=_check_split,
        id_prefix="split",
    ),
    NodeType(
        "Chunk",
        "Chunk",
        "tensor",
        "Splits a tensor along an axis into k equal parts, one output each (out1 … outk); ShuffleNet's "
        "channel split is Chunk with k = 2.",
        build=lambda params, shapes: Call(torch.chunk, {"chunks": params["chunks"], "dim": params["axis"]}),
        params=(Param("chunks", "int", 2, min=1, max=64, doc="Number k of equal parts (outputs)."), _AXIS),
        outputs=(),
        formula="yᵢ = x[…, (i−1)·S/k : i·S/k, …] along axis",
        key_params=("chunks", "axis"),
        variadic_outputs="chunks",
        check=_check_chunk,
        id_prefix="chunk",
    ),
    NodeType(
        "Slice",
        "Slice",
        "tensor",
        "Keeps positions start … end−1 (every step-th) of one axis, as Python's x[start:end:step]; "
        "negative positions count from the end, e.g. the class token of a ViT is start 0, end 1 on axis 1.",
        build=_build_slice,
        params=(
            _AXIS,
            Param("start", "int", 0, min=-65536, max=65536, doc="First position kept."),
            Param(
                "end", "int", "end", min=-65536, max=65536, allow=("end",), doc="Position after the last kept; 'end'."
            ),
            Param("step", "int", 1, min=1, max=65536, doc="Keep every step-th position."),
        ),
        formula="y = x[:, …, start:end:step, …]",
        key_params=("axis", "start", "end"),
        check=_check_slice,
        id_prefix="slice",
    ),
    NodeType(
        "Pad",
        "Pad",
        "tensor",
        "Pads the last axes, two numbers per axis from the last backwards ([left, right, top, bottom] for "
        "images): with a constant, the mirror image (reflect), the edge value (replicate) or wrapping round "
        "(circular).",
        build=_build_pad,
        params=(
            Param("pad", "ints", (1, 1, 1, 1), min=0, max=4096, doc="Before/after counts per axis, last axis first."),
            Param("mode", "choice", "constant", choices=("constant", "reflect", "replicate", "circular"), doc="Fill."),
            Param("value", "float", 0.0, min=-1e9, max=1e9, doc="Fill value in constant mode."),
        ),
        formula="y = x surrounded by p values per side",
        key_params=("pad", "mode"),
        check=_check_pad,
        id_prefix="pad",
    ),
    NodeType(
        "Crop",
        "Crop",
        "tensor",
        "Cuts the middle of x to the spatial size of a reference map, so an encoder map fits its decoder map "
        "before concatenation (U-Net's crop-and-concat with unpadded convolutions).",
        build=lambda params, shapes: Call(center_crop),
        inputs=(Port("x", doc="the map to crop"), Port("like", doc="a map of the wanted size")),
        formula="y[n, c, i, j] = x[n, c, i + ⌊(H − h)/2⌋, j + ⌊(W − w)/2⌋]",
        check=_check_crop,
        id_prefix="crop",
    ),
]
