"""The traced ops that rearrange or combine tensors, as catalog nodes.

``x.view(n, -1)`` and ``flatten`` become Flatten or Reshape (keeping the batch dimension), ``x[:, 0]`` one Slice per
axis cut, ``chunk``/``split`` a Chunk or Split node with several outputs (:class:`Multi`), ``+ - * /`` a merge node
or Arithmetic with a number, ``torch.cat`` Concat, ``permute``/``transpose`` Permute or Transpose, and ``expand`` of
a learned [1, …] tensor its Parameter node. Each function takes the
:class:`~graphedit.importers.fx_import.FxImporter` walking the graph and records the node's value in its ``refs``;
an op that would move or cut the batch axis is refused with :class:`UnsupportedOpError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import fx

from graphedit.importers.common import Ref, UnsupportedOpError
from graphedit.importers.fx_functions import arg, op_name
from graphedit.importers.fx_layers import Spec

if TYPE_CHECKING:
    from graphedit.importers.fx_import import FxImporter

MERGE = {"add": "Add", "sub": "Subtract", "mul": "Multiply", "div": "Divide"}
ARITHMETIC = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "divide"}


@dataclass(frozen=True)
class Multi:
    """The outputs of a node with several (Chunk, Split): ``x1, x2 = x.chunk(2, 1)`` picks them by index."""

    refs: tuple[Ref, ...]


def reshape_node(imp: FxImporter, node: fx.Node, src: fx.Node) -> None:
    ref, out = imp.refs[src], imp._shape(node)
    if not isinstance(ref, Ref):
        raise UnsupportedOpError(op_name(node), node.name, "its input is not a single tensor")
    if node.target in ("view", "reshape", torch.reshape):  # x.view(n, -1): n must come from x.size(0)
        sizes = node.args[1:] if node.op == "call_method" else tuple(arg(node, 1, "shape", ()))
        sizes = sizes[0] if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
        first = sizes[0] if sizes else None
    else:
        first = None
    if isinstance(first, int) and first != -1:
        raise UnsupportedOpError(
            op_name(node), node.name, f"its size {first} fixes the batch dimension", "use x.size(0) or -1 there"
        )
    if ref.shape == out:
        imp.refs[node] = ref
    elif out[:1] != ref.shape[:1]:
        raise UnsupportedOpError(op_name(node), node.name, "it changes the batch dimension")
    elif len(out) == 2:
        imp.refs[node] = imp.b.add("Flatten", {}, [ref], out, node.name)
    else:
        imp.refs[node] = imp.b.add("Reshape", {"shape": list(out[1:])}, [ref], out, node.name)


def slice_node(imp: FxImporter, node: fx.Node, src: fx.Node, index: Any) -> None:
    """``x[:, 0]``, ``x[:, 1:-1, ::2]``: one Slice per axis cut; integer indices then dropped by a Reshape."""
    index = index if isinstance(index, tuple) else (index,)
    op = "tensor indexing x[...]"
    if not index or index[0] != slice(None):
        raise UnsupportedOpError(op, node.name, "it indexes the batch axis", "index from axis 1: x[:, …]")
    ref = imp._input(src)
    for axis, item in enumerate(index[1:], start=1):
        if isinstance(item, int):
            item = slice(item, item + 1 if item != -1 else None)
        if not isinstance(item, slice) or any(isinstance(v, fx.Node) for v in (item.start, item.stop, item.step)):
            raise UnsupportedOpError(op, node.name, "only integers and constant slices are supported")
        if item == slice(None):
            continue
        params = {"axis": axis, "start": item.start or 0, "end": "end" if item.stop is None else item.stop}
        params["step"] = item.step or 1
        length = len(range(ref.shape[axis])[item])
        shape = (*ref.shape[:axis], length, *ref.shape[axis + 1 :])
        ref = imp.b.add("Slice", params, [ref], shape, node.name)
    imp.refs[node] = imp.b.ensure(ref, imp._shape(node))


def split_node(imp: FxImporter, node: fx.Node, key: str, src: fx.Node) -> None:
    parts = imp.values[node]
    rank = len(imp._shape(src))
    axis = arg(node, 2, "dim", 0) % rank
    if axis == 0:
        raise UnsupportedOpError(op_name(node), node.name, "it splits the batch axis")
    if key == "chunk" and all(p.shape[axis] == parts[0].shape[axis] for p in parts):
        spec = Spec("Chunk", {"chunks": len(parts), "axis": axis})
    else:
        spec = Spec("Split", {"sizes": [int(p.shape[axis]) for p in parts], "axis": axis})
    first = imp.b.add(spec.type_id, spec.params, [imp._input(src)], tuple(parts[0].shape), node.name)
    ports = [p.name for p in imp.b.doc.node_type(first.node).output_ports(imp.b.doc.params(first.node))]
    imp.refs[node] = Multi(tuple(Ref(first.node, port, tuple(p.shape)) for port, p in zip(ports, parts)))


def merge_node(imp: FxImporter, node: fx.Node, key: str, tensors: list[fx.Node]) -> None:
    op = op_name(node)
    if "alpha" in node.kwargs:
        raise UnsupportedOpError(op, node.name, "alpha (a scaled second operand) is not supported")
    if len(tensors) == 2:
        params = {"inputs": 2} if key in ("add", "mul") else {}
        imp._add(node, Spec(MERGE[key], params), [imp._input(t) for t in tensors])
        return
    values = [*node.args, *(v for k, v in node.kwargs.items() if k == "other")]
    constant = next((a for a in values if not isinstance(a, fx.Node)), None)
    if len(tensors) != 1 or not isinstance(constant, (int, float)):
        raise UnsupportedOpError(op, node.name, "only two tensors, or a tensor and a number")
    reverse = node.args[0] is not tensors[0]  # ``1 - x``, ``2 / x``
    if reverse and key == "div":
        raise UnsupportedOpError(op, node.name, "dividing a number by a tensor is not supported")
    name = "subtract from" if reverse and key == "sub" else ARITHMETIC[key]
    imp._add(node, Spec("Arithmetic", {"op": name, "value": float(constant)}), [imp._input(tensors[0])])


def cat_node(imp: FxImporter, node: fx.Node, tensors: list[fx.Node]) -> None:
    rank = len(imp._shape(node))
    dim = arg(node, 1, "dim", 0)
    dim = dim + rank if dim < 0 else dim
    if dim < 1 or len(tensors) != len(node.args[0]):
        raise UnsupportedOpError(op_name(node), node.name, "Concat joins tensors along a non-batch axis")
    if len(tensors) == 1:
        imp.refs[node] = imp.refs[tensors[0]]
        return
    imp._add(node, Spec("Concat", {"inputs": len(tensors), "axis": dim}), [imp._input(t) for t in tensors])


def permute_node(imp: FxImporter, node: fx.Node, key: str, src: fx.Node) -> None:
    rank = len(imp._shape(src))
    if key == "transpose":
        a, b = (int(arg(node, i, n)) % rank for i, n in ((1, "dim0"), (2, "dim1")))
        if 0 in (a, b):
            raise UnsupportedOpError(op_name(node), node.name, "it moves the batch axis")
        spec = Spec("Transpose", {"dim0": min(a, b), "dim1": max(a, b)})
    else:
        dims = node.args[1:] if node.op == "call_method" else (arg(node, 1, "dims"),)
        dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        order = [int(d) % rank for d in dims]
        if order[0] != 0:
            raise UnsupportedOpError(op_name(node), node.name, "it moves the batch axis")
        spec = Spec("Permute", {"order": order[1:]})
    imp._add(node, spec, [imp._input(src)])


def expand_node(imp: FxImporter, node: fx.Node) -> None:
    """``token.expand(n, -1, -1)`` of a learned [1, …] tensor: its Parameter node already has the batch."""
    src = node.args[0]
    ref = imp._input(src) if isinstance(imp.refs.get(src), tuple) else None
    if ref is None or ref.shape[1:] != imp._shape(node)[1:]:
        raise UnsupportedOpError(op_name(node), node.name, "only a learned [1, …] tensor expanded over the batch")
    imp.refs[node] = ref
