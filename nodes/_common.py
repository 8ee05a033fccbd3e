"""Helpers shared by the node families: shape checks that raise good errors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from graphedit.errors import NodeError
from graphedit.nodes.spec import Shape, shape_text

Build = Callable[[dict[str, Any], list[Shape | None]], object]
"""A node type's ``build(params, input_shapes)``: an ``nn.Module`` or a :class:`~graphedit.nodes.spec.Call`."""

Check = Callable[[dict[str, Any], list[Shape | None]], None]
"""A node type's ``check(params, input_shapes)``: raises a :class:`NodeError` for inputs it cannot take."""


def known(shapes: Sequence[Shape | None], index: int = 0) -> Shape:
    """The shape of input ``index``, which a ``build`` needs: shape inference builds a layer only from known shapes."""
    shape = shapes[index]
    if shape is None:
        raise NodeError(None, f"input {index + 1} has no shape yet", fix="connect it")
    return shape


def need_rank(title: str, shape: Shape | None, ranks: Sequence[int], expects: str, fix: str) -> None:
    """Raise a :class:`NodeError` unless ``shape`` has one of ``ranks`` dimensions."""
    if shape is not None and len(shape) not in ranks:
        raise NodeError(None, f"{title} expects {expects} but gets {shape_text(shape)}", fix=fix)


def spatial_text(shape: Shape) -> str:
    """``8×8`` for ``[N, C, 8, 8]``."""
    return "×".join(map(str, shape[2:]))


def mismatch_fix(a: Shape, b: Shape) -> str:
    """A remedy for two shapes that should be equal (used by Add, Multiply, losses)."""
    if len(a) != len(b):
        return "give both inputs the same number of dimensions, e.g. with Flatten or Reshape"
    differ = [i for i in range(1, len(a)) if a[i] != b[i]]
    if differ == [1]:
        what = {2: "features", 3: "channels", 4: "channels"}.get(len(a), "channels")
        layer = {2: "a Dense layer", 3: "a Conv1d with kernel 1"}.get(len(a), "a 1×1 Conv2d")
        return f"{what} differ: {a[1]} vs {b[1]} — add {layer} to match them"
    if len(a) >= 3 and differ and min(differ) >= 2:
        return (
            f"spatial sizes differ: {spatial_text(a)} vs {spatial_text(b)} — "
            "add pooling/upsampling or crop so they match"
        )
    return "make both shapes equal, e.g. with a Dense/Conv layer, pooling or a Reshape"


def require_same(title: str, a: Shape | None, b: Shape | None, what: str = "inputs") -> None:
    if a is None or b is None or tuple(a) == tuple(b):
        return
    raise NodeError(None, f"{title}: {what} differ: {shape_text(a)} vs {shape_text(b)}", fix=mismatch_fix(a, b))
