"""ONNX element-wise, merging and rearranging ops → catalog nodes (activations, Add/Mul/Sub/Div, Concat,
Transpose, reductions, Split, Slice, Gather, Pad, DepthToSpace). Each handler gets the importer, the ONNX
node and its non-constant inputs; axes count from the batch (0), which no handler lets an op move or mix.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx

from graphedit.importers.common import Ref
from graphedit.importers.onnx_ops import Handler, _fail, _input, attrs, handler_table

HANDLERS: dict[str, Handler] = {}
handles = handler_table(HANDLERS)
SIMPLE = {
    "Relu": "ReLU",
    "Sigmoid": "Sigmoid",
    "Tanh": "Tanh",
    "HardSwish": "Hardswish",
    "Mish": "Mish",
}
MERGE = {"Add": "Add", "Mul": "Multiply", "Sub": "Subtract", "Div": "Divide"}
ARITHMETIC = {"Add": "add", "Mul": "multiply", "Sub": "subtract", "Div": "divide", "Pow": "power"}
BIG = 2**62  # ONNX Slice's "to the end" is INT64_MAX (or any huge number)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _scalar(imp: Any, name: str) -> float | None:
    value = imp.consts.get(name) if name else None
    return None if value is None or np.size(value) != 1 else float(np.reshape(value, -1)[0])


def _ints(imp: Any, node: onnx.NodeProto, attr: str, index: int) -> list[int] | None:
    """An ints attribute (older opsets) or the same list as a constant input (newer ones)."""
    value = attrs(node).get(attr)
    if value is None and _input(node, index):
        value = imp.const(node.input[index], attr, node)
    return None if value is None else [int(v) for v in np.ravel(value)]


@handles(*SIMPLE, "Selu", "Elu", "LeakyRelu", "Gelu", "Softmax", "HardSigmoid", "Softplus", "Clip", "PRelu")
def activation(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    a = attrs(node)
    op, params, weights = node.op_type, {}, None
    if op in SIMPLE:
        type_id = SIMPLE[op]
    elif op == "Selu":
        if abs(a.get("alpha", 1.67326) - 1.6732632) > 1e-5 or abs(a.get("gamma", 1.0507) - 1.0507009) > 1e-5:
            raise _fail(node, "only the standard SELU constants are supported")
        type_id = "SELU"
    elif op == "Elu":
        type_id, params = "ELU", {"alpha": float(a.get("alpha", 1.0))}
    elif op == "LeakyRelu":
        type_id, params = "LeakyReLU", {"alpha": float(a.get("alpha", 0.01))}
    elif op == "Gelu":
        if _text(a.get("approximate", "none")) != "none":
            raise _fail(node, "the tanh approximation of GELU is not supported")
        type_id = "GELU"
    elif op == "HardSigmoid":
        if abs(a.get("alpha", 0.2) - 1 / 6) > 1e-6 or abs(a.get("beta", 0.5) - 0.5) > 1e-6:
            raise _fail(node, "only PyTorch's hard sigmoid (α = 1/6, β = 0.5)")
        type_id = "Hardsigmoid"
    elif op == "Softplus":
        type_id = "Softplus"
    elif op == "Clip":
        type_id = _clip(imp, node)
    elif op == "PRelu":
        slope = imp.const(node.input[1], "slope", node).reshape(-1)
        type_id, params = "PReLU", {"shared": slope.size == 1, "alpha": float(slope[0])}
        weights = imp.weights(weight=slope)
    else:
        rank = len(imp.shape(dynamic[0]))
        if a.get("axis", -1) not in (1, 1 - rank):
            raise _fail(node, "GraphEdit's Softmax is over axis 1", "export a Softmax over the features/classes")
        type_id = "Softmax"
    imp.add(node, type_id, params, [imp.ref(dynamic[0])], weights=weights)


def _clip(imp: Any, node: onnx.NodeProto) -> str:
    a = attrs(node)
    low = _scalar(imp, _input(node, 1)) if _input(node, 1) else a.get("min")
    high = _scalar(imp, _input(node, 2)) if _input(node, 2) else a.get("max")
    if low == 0.0 and high == 6.0:
        return "ReLU6"
    if low == 0.0 and (high is None or high > 3e38):
        return "ReLU"
    raise _fail(node, f"only Clip(0, 6) (ReLU6) or Clip(0, ∞) (ReLU), not Clip({low}, {high})")


@handles("Identity", "Dropout")
def identity(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    imp.alias(node, imp.refs[dynamic[0]])


@handles("Flatten", "Reshape", "Squeeze", "Unsqueeze")
def reshape(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    ref, out = imp.refs[node.input[0]], imp.shape(node.output[0])
    if ref.shape == out:
        imp.alias(node, ref)
    elif out[:1] != ref.shape[:1]:
        raise _fail(node, "it changes the batch dimension")
    elif len(out) == 2:
        imp.add(node, "Flatten", {}, [ref])
    else:
        imp.add(node, "Reshape", {"shape": list(out[1:])}, [ref])


@handles("Add", "Mul", "Sub", "Div", "Pow")
def merge(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    op = node.op_type
    if len(dynamic) == 2 and op != "Pow":
        if op == "Add" and imp.shape(dynamic[0]) != imp.shape(dynamic[1]):
            raise _fail(node, "Add of tensors of different shapes (broadcasting)", "Add needs equal shapes")
        params = {"inputs": 2} if op in ("Add", "Mul") else {}
        imp.add(node, MERGE[op], params, [imp.ref(d) for d in node.input])
        return
    constant = next(n for n in node.input if n != dynamic[0])
    value = _scalar(imp, constant)
    reverse = node.input[0] != dynamic[0]  # 1 − x, 2 / x
    if value is None:
        raise _fail(node, f"{op} with a constant tensor (not a number)", "only a number or two computed tensors")
    if reverse and op in ("Div", "Pow"):
        raise _fail(node, "a number divided by (or raised to) a tensor is not supported")
    name = "subtract from" if reverse and op == "Sub" else ARITHMETIC[op]
    imp.add(node, "Arithmetic", {"op": name, "value": value}, [imp.ref(dynamic[0])])


@handles("Neg")
def neg(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    imp.add(node, "Arithmetic", {"op": "multiply", "value": -1.0}, [imp.ref(dynamic[0])])


@handles("Concat")
def concat(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    rank = len(imp.shape(node.output[0]))
    axis = attrs(node)["axis"] % rank
    if len(dynamic) != len(node.input) or axis < 1:
        raise _fail(node, "Concat joins computed tensors along a non-batch axis")
    if len(dynamic) == 1:
        imp.alias(node, imp.refs[dynamic[0]])
        return
    imp.add(node, "Concat", {"inputs": len(dynamic), "axis": axis}, [imp.ref(d) for d in dynamic])


@handles("Transpose")
def transpose(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    rank = len(imp.shape(dynamic[0]))
    perm = [int(p) for p in attrs(node).get("perm", range(rank - 1, -1, -1))]
    if perm[0] != 0:
        raise _fail(node, f"perm {perm} moves the batch axis")
    moved = [i for i, p in enumerate(perm) if p != i]
    if len(moved) == 2:
        imp.add(node, "Transpose", {"dim0": moved[0], "dim1": moved[1]}, [imp.ref(dynamic[0])])
    else:
        imp.add(node, "Permute", {"order": perm[1:]}, [imp.ref(dynamic[0])])


@handles("ReduceMean", "ReduceSum", "ReduceMax", "GlobalAveragePool", "GlobalMaxPool")
def reduce(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    rank = len(imp.shape(dynamic[0]))
    if node.op_type.startswith("Global"):
        axes, keep = list(range(2, rank)), True
    else:
        axes = _ints(imp, node, "axes", 1)
        if axes is None:
            raise _fail(node, "a reduction over every axis would mix the batch")
        axes, keep = sorted(a % rank for a in axes), bool(attrs(node).get("keepdims", 1))
    if 0 in axes:
        raise _fail(node, "it reduces the batch axis")
    if node.op_type in ("ReduceMean", "GlobalAveragePool") and axes == list(range(2, rank)) and rank > 2:
        imp.add(node, "GlobalAvgPool", {}, [imp.ref(dynamic[0])], shape=imp.shape(node.output[0])[:2])
        return
    type_id = {"ReduceMean": "Mean", "ReduceSum": "Sum"}.get(node.op_type, "Max")
    imp.add(node, type_id, {"axes": axes, "keepdim": keep}, [imp.ref(dynamic[0])])


@handles("Split")
def split(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    rank = len(imp.shape(dynamic[0]))
    axis = int(attrs(node).get("axis", 0)) % rank
    if axis == 0:
        raise _fail(node, "it splits the batch axis")
    sizes = [imp.shape(out)[axis] for out in node.output]
    first = imp.add(node, "Split", {"sizes": sizes, "axis": axis}, [imp.ref(dynamic[0])])
    for i, out in enumerate(node.output):
        imp.refs[out] = Ref(first.node, f"out{i + 1}", imp.shape(out))


@handles("Slice")
def slice_(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    shape = imp.shape(dynamic[0])
    starts, ends = _ints(imp, node, "starts", 1), _ints(imp, node, "ends", 2)
    axes = _ints(imp, node, "axes", 3) or list(range(len(starts)))
    steps = _ints(imp, node, "steps", 4) or [1] * len(starts)
    ref = imp.ref(dynamic[0])
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis %= len(shape)
        if axis == 0:
            raise _fail(node, "it slices the batch axis")
        if step < 1:
            raise _fail(node, f"step {step}: only forward slices are supported")
        size = ref.shape[axis]
        end = "end" if end >= size or end >= BIG else end
        start = max(start, -size)
        kept = range(size)[slice(start, None if end == "end" else end, step)]
        if len(kept) == size:
            continue
        params = {"axis": axis, "start": start, "end": end, "step": step}
        ref = imp.b.add("Slice", params, [ref], (*ref.shape[:axis], len(kept), *ref.shape[axis + 1 :]), imp.name(node))
    imp.alias(node, ref)


@handles("Gather")
def gather(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    axis = int(attrs(node).get("axis", 0))
    table = imp.consts.get(node.input[0])
    if table is not None and table.ndim == 2 and axis == 0 and dynamic == [node.input[1]]:
        params = {"vocab": int(table.shape[0]), "dim": int(table.shape[1]), "init": "torch"}
        imp.add(node, "Embedding", params, [imp.ref(dynamic[0])], weights=imp.weights(weight=table))
        return
    index = imp.consts.get(node.input[1])
    shape = imp.shape(node.input[0]) if dynamic == [node.input[0]] else ()
    if index is None or index.ndim != 0 or not shape or axis % len(shape) == 0:
        raise _fail(node, "only an Embedding lookup in a constant table, or x[:, i] with a constant i")
    axis %= len(shape)
    i = int(index) % shape[axis]
    params = {"axis": axis, "start": i, "end": i + 1 if i + 1 < shape[axis] else "end", "step": 1}
    kept = (*shape[:axis], 1, *shape[axis + 1 :])
    ref = imp.b.add("Slice", params, [imp.ref(dynamic[0])], kept, imp.name(node))
    imp.alias(node, imp.b.ensure(ref, imp.shape(node.output[0])))


@handles("Pad")
def pad(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    shape = imp.shape(dynamic[0])
    rank = len(shape)
    pads = _ints(imp, node, "pads", 1)
    axes = _ints(imp, node, "axes", 3) or list(range(rank))
    before, after = [0] * rank, [0] * rank
    for k, axis in enumerate(axes):
        before[axis % rank], after[axis % rank] = pads[k], pads[k + len(axes)]
    if min(pads) < 0:
        raise _fail(node, "negative padding (cropping) is not supported", "use a Crop or Slice")
    if before[0] or after[0]:
        raise _fail(node, "it pads the batch axis")
    first = next((i for i in range(1, rank) if before[i] or after[i]), rank)
    if first == rank:  # no padding at all (torch's Unfold writes one): the value passes through
        imp.alias(node, imp.ref(dynamic[0]))
        return
    torch_pad = [p for i in range(rank - 1, first - 1, -1) for p in (before[i], after[i])]
    mode = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}
    params: dict[str, Any] = {"pad": torch_pad, "mode": mode[_text(attrs(node).get("mode", "constant"))]}
    if params["mode"] == "constant":
        params["value"] = _scalar(imp, _input(node, 2)) or 0.0
    imp.add(node, "Pad", params, [imp.ref(dynamic[0])])


@handles("DepthToSpace")
def depth_to_space(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    a = attrs(node)
    if _text(a.get("mode", "DCR")) != "CRD":
        raise _fail(node, "only mode CRD, which is PyTorch's pixel shuffle")
    imp.add(node, "PixelShuffle", {"factor": int(a["blocksize"])}, [imp.ref(dynamic[0])])
