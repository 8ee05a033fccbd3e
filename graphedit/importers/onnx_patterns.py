"""Groups of ONNX ops that stand for one catalog node, as torch's exporter writes them.

A matcher is called at the first op of its pattern (the walk is in graph order)
with the importer, that op and its non-constant inputs. It follows the value
through its consumers (``imp.users``); when every op fits it adds the node,
puts the pattern's final value in ``imp.refs`` and the ops in between in
``imp.fused`` (so the walk skips them), and returns True. A pattern that does
not start here returns False and the op goes to its ordinary handler. Once a
pattern is certain (a Transpose feeding an LSTM) a part GraphEdit cannot
express is an :class:`UnsupportedOpError` naming the op and why.

* Step: ``Greater(x, 0) → Cast(float)``.
* Sigmoid with β ≠ 1: ``Mul(x, β) → Sigmoid``.
* SiLU: ``Sigmoid(x) → Mul(x, ·)``; Mish: ``Softplus(x) → Tanh → Mul(x, ·)``.
* ChannelShuffle and GroupNorm: a Reshape to groups, then Transpose or InstanceNormalization, and back.
* Maxout: ``Gemm → Reshape [N, units, pieces] → ReduceMax(axis 2)``.
* RNN/LSTM/GRU (batch first): ``Transpose(1, 0, 2) → op → Squeeze(1) [→ op → Squeeze(1) …]
  → Transpose(1, 0, 2) [→ Gather(axis 1, −1) for the last step]``; each op is one layer. Bidirectional
  layers merge their directions with ``Transpose(0, 2, 1, 3) → Reshape [T, N, 2H]`` instead of the Squeeze,
  and their last step is ``Concat(Gather(−1) → Slice [:H], Gather(0) → Slice [H:])``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import onnx

from graphedit.importers.onnx_ops import _fail, _input, attrs, dense_weights

PATTERNS: dict[str, Callable[[Any, onnx.NodeProto, list[str]], bool]] = {}
# Ops that are importable only inside a pattern, after its first op (known only when the walk reaches them)
INNER_OPS = {"Cast", "ReduceMax"}
RECURRENT = ("RNN", "LSTM", "GRU")
# PyTorch's gate blocks, as indices of ONNX's: LSTM i,o,f,c → i,f,g,o; GRU z,r,h → r,z,n
GATES = {"RNN": [0], "LSTM": [0, 2, 3, 1], "GRU": [1, 0, 2]}
ACTIVATIONS = {"RNN": ["Tanh"], "LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"]}


def pattern(op: str) -> Callable[[Callable[..., bool]], Callable[..., bool]]:
    def register(fn: Callable[..., bool]) -> Callable[..., bool]:
        PATTERNS[op] = fn
        return fn

    return register


def sole_user(imp: Any, name: str, *ops: str) -> onnx.NodeProto | None:
    """The one op reading ``name`` if it is one of ``ops`` and ``name`` is not also a graph output.

    Shape and Size read only the shape (torch's exporter sizes an RNN's zero state from it), so they do not count.
    """
    users = [u for u in imp.users.get(name, []) if u.op_type not in ("Shape", "Size")]
    if len(users) != 1 or users[0].op_type not in ops or name in imp.outputs:
        return None
    return users[0]


def scalar(imp: Any, name: str) -> float | None:
    """The value of a one-element constant, else None."""
    value = imp.consts.get(name) if name else None
    return None if value is None or np.size(value) != 1 else float(np.reshape(value, -1)[0])


def axes(imp: Any, node: onnx.NodeProto) -> list[int] | None:
    """The ``axes`` of a Squeeze/Reduce op: an attribute (old opsets) or a constant second input."""
    value = attrs(node).get("axes")
    if value is None and _input(node, 1):
        value = imp.consts.get(node.input[1])
    return None if value is None else [int(v) for v in np.ravel(value)]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@pattern("Greater")
def step(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> bool:
    if dynamic != [node.input[0]] or scalar(imp, node.input[1]) != 0.0:
        return False
    cast = sole_user(imp, node.output[0], "Cast")
    if cast is None or attrs(cast).get("to") != onnx.TensorProto.FLOAT:
        return False
    imp.add(cast, "Step", {}, [imp.ref(dynamic[0])], name=imp.name(node))
    return True


@pattern("Mul")
def steep_sigmoid(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> bool:
    if len(dynamic) != 1:
        return False
    beta = scalar(imp, next(n for n in node.input if n != dynamic[0]))
    sigmoid = sole_user(imp, node.output[0], "Sigmoid")
    if beta is None or sigmoid is None:
        return False
    if not 0.0 <= beta <= 1000.0:
        raise _fail(node, f"a Sigmoid's steepness β = {beta:g} is outside GraphEdit's range 0…1000")
    beta = float(str(np.float32(beta)))  # 0.3, not 0.30000001192092896; the same float32 either way
    imp.add(sigmoid, "Sigmoid", {"beta": beta}, [imp.ref(dynamic[0])], name=imp.name(node))
    return True


@pattern("Sigmoid")
def silu(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> bool:
    """``Sigmoid(x) → Mul(x, ·)``: SiLU (swish), as torch exports it."""
    mul = sole_user(imp, node.output[0], "Mul")
    if mul is None or sorted(mul.input) != sorted([dynamic[0], node.output[0]]):
        return False
    imp.add(mul, "SiLU", {}, [imp.ref(dynamic[0])], name=imp.name(node))
    return True


@pattern("Softplus")
def mish(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> bool:
    """``Softplus(x) → Tanh → Mul(x, ·)``: Mish, as torch exports it."""
    tanh = sole_user(imp, node.output[0], "Tanh")
    mul = tanh and sole_user(imp, tanh.output[0], "Mul")
    if mul is None or sorted(mul.input) != sorted([dynamic[0], tanh.output[0]]):
        return False
    imp.fused.add(tanh.output[0])
    imp.add(mul, "Mish", {}, [imp.ref(dynamic[0])], name=imp.name(node))
    return True


@pattern("Reshape")
def reshaped(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> bool:
    """ChannelShuffle or GroupNorm, which torch exports as a Reshape to groups and back."""
    return _channel_shuffle(imp, node, dynamic) or _group_norm(imp, node, dynamic)


def _channel_shuffle(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> bool:
    """``Reshape [N, g, C/g, …] → Transpose (0, 2, 1, …) → Reshape [N, C, …]``."""
    src, grouped = imp.shape(dynamic[0]), imp.shape(node.output[0])
    swap = sole_user(imp, node.output[0], "Transpose")
    back = swap and sole_user(imp, swap.output[0], "Reshape")
    if back is None or len(src) < 3 or len(grouped) != len(src) + 1 or imp.shape(back.output[0]) != src:
        return False
    if grouped[1] * grouped[2] != src[1] or list(attrs(swap).get("perm", ())) != [0, 2, 1, *range(3, len(grouped))]:
        return False
    imp.fused.update([swap.output[0]])
    imp.add(back, "ChannelShuffle", {"groups": int(grouped[1])}, [imp.ref(dynamic[0])], name=imp.name(node))
    return True


def _group_norm(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> bool:
    """``Reshape [N, G, -1] → InstanceNormalization(1, 0) → Reshape back → Mul γ → Add β``."""
    src, grouped = imp.shape(dynamic[0]), imp.shape(node.output[0])
    norm = sole_user(imp, node.output[0], "InstanceNormalization")
    back = norm and sole_user(imp, norm.output[0], "Reshape")
    mul = back and sole_user(imp, back.output[0], "Mul")
    add = mul and sole_user(imp, mul.output[0], "Add")
    if add is None or len(grouped) != 3 or len(src) < 3 or imp.shape(back.output[0]) != src:
        return False
    scale, bias = imp.consts.get(norm.input[1]), imp.consts.get(norm.input[2])
    gamma = imp.consts.get(next((n for n in mul.input if n != back.output[0]), ""))
    beta = imp.consts.get(next((n for n in add.input if n != mul.output[0]), ""))
    if any(v is None for v in (scale, bias, gamma, beta)) or not (np.all(scale == 1) and np.all(bias == 0)):
        return False
    channels = src[1]
    if np.size(gamma) != channels or np.size(beta) != channels:
        return False
    imp.fused.update([norm.output[0], back.output[0], mul.output[0]])
    params = {"groups": int(grouped[1]), "eps": float(attrs(norm).get("epsilon", 1e-5)), "affine": True}
    weights = imp.weights(weight=np.reshape(gamma, -1), bias=np.reshape(beta, -1))
    imp.add(add, "GroupNorm", params, [imp.ref(dynamic[0])], weights=weights, name=imp.name(norm))
    return True


@pattern("Gemm")
def maxout(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> bool:
    reshape = sole_user(imp, node.output[0], "Reshape")
    reduce = reshape and sole_user(imp, reshape.output[0], "ReduceMax")
    if reduce is None or reshape.input[0] != node.output[0]:
        return False
    shape = imp.shape(reshape.output[0])
    if len(shape) != 3 or shape[2] < 2 or axes(imp, reduce) not in ([2], [-1]) or attrs(reduce).get("keepdims", 1):
        return False
    w, b = dense_weights(imp, node, dynamic)
    if b is None:
        return False
    params = {"units": int(shape[1]), "pieces": int(shape[2]), "init": "torch"}
    imp.fused.add(reshape.output[0])
    weights = imp.weights(weight=w, bias=b)
    imp.add(reduce, "Maxout", params, [imp.ref(dynamic[0])], weights=weights, sub="linear")
    return True


@pattern("Transpose")
def recurrent(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> bool:
    op = sole_user(imp, node.output[0], *RECURRENT)
    if op is None or op.input[0] != node.output[0] or list(attrs(node).get("perm", ())) != [1, 0, 2]:
        return False
    kind, layers, weights = op.op_type, [], {}
    units = _hidden_size(imp, op)
    both = _text(attrs(op).get("direction", "forward")) == "bidirectional"
    while True:
        weights.update(_layer_weights(imp, op, len(layers), units, both))
        layers.append(op)
        merged = _directions_merged(imp, op) if both else _squeezed(imp, op)
        after = sole_user(imp, merged.output[0], kind, "Transpose")
        if after is None or after.input[0] != merged.output[0]:
            raise _fail(op, f"after it, expected another {kind} layer or a Transpose back to batch first")
        imp.fused.update([op.output[0], merged.output[0]])
        if after.op_type == "Transpose":
            break
        op = after
    if list(attrs(after).get("perm", ())) != [1, 0, 2]:
        raise _fail(after, "only the Transpose (1, 0, 2) back to batch first after a recurrent layer")
    final = (_last_of_both(imp, after, units) if both else _last_step(imp, after)) or after
    params = {"units": units, "layers": len(layers), "return": "last" if final is not after else "sequence"}
    if both:
        params["bidirectional"] = True
    name = imp.name(layers[0])
    if name and name.endswith("_rnn"):  # /lstm/rnn/LSTM: the Recurrent node 'lstm' of a GraphEdit export
        name = name[: -len("_rnn")]
    params["init"] = "torch"
    imp.add(final, kind, params, [imp.ref(dynamic[0])], weights=imp.weights(**weights), sub="rnn", name=name)
    return True


def _squeezed(imp: Any, op: onnx.NodeProto) -> onnx.NodeProto:
    squeeze = sole_user(imp, op.output[0], "Squeeze")
    if squeeze is None or axes(imp, squeeze) != [1]:
        raise _fail(op, "its output Y must only be squeezed on the direction axis (Squeeze axes=[1])")
    return squeeze


def _directions_merged(imp: Any, op: onnx.NodeProto) -> onnx.NodeProto:
    """``Y [T, 2, N, H] → Transpose (0, 2, 1, 3) → Reshape [T, N, 2H]``: both directions side by side."""
    swap = sole_user(imp, op.output[0], "Transpose")
    reshape = swap and sole_user(imp, swap.output[0], "Reshape")
    if reshape is None or list(attrs(swap).get("perm", ())) != [0, 2, 1, 3] or len(imp.shape(reshape.output[0])) != 3:
        raise _fail(op, "a bidirectional layer's Y must be laid out as torch does: Transpose (0, 2, 1, 3), Reshape")
    imp.fused.add(swap.output[0])
    return reshape


def _last_step(imp: Any, after: onnx.NodeProto) -> onnx.NodeProto | None:
    """``Gather(axis 1, −1)``: the last step of a forward layer's sequence."""
    steps = imp.shape(after.output[0])[1]
    gather = sole_user(imp, after.output[0], "Gather")
    index = imp.consts.get(gather.input[1]) if gather is not None else None
    if index is not None and index.ndim == 0 and attrs(gather).get("axis", 0) == 1 and int(index) in (-1, steps - 1):
        imp.fused.add(after.output[0])
        return gather
    return None


def _last_of_both(imp: Any, after: onnx.NodeProto, units: int) -> onnx.NodeProto | None:
    """``Concat(Gather(−1)[:, :H], Gather(0)[:, H:])``: the forward direction's last step, the backward's first."""
    users = [u for u in imp.users.get(after.output[0], []) if u.op_type not in ("Shape", "Size")]
    if len(users) != 2 or after.output[0] in imp.outputs or any(u.op_type != "Gather" for u in users):
        return None
    slices = [sole_user(imp, g.output[0], "Slice") for g in users]
    concats = {id(c): c for c in (s and sole_user(imp, s.output[0], "Concat") for s in slices)}
    concat = next(iter(concats.values()))
    if len(concats) != 1 or concat is None or list(concat.input) != [s.output[0] for s in slices]:
        return None
    steps = imp.shape(after.output[0])[1]
    picked = [imp.consts.get(g.input[1]) for g in users]
    if any(p is None or np.ndim(p) != 0 or attrs(g).get("axis", 0) != 1 for p, g in zip(picked, users, strict=True)):
        return None
    if [int(p) % steps for p in picked] != [steps - 1, 0]:
        return None
    imp.fused.update([after.output[0], *(g.output[0] for g in users), *(s.output[0] for s in slices)])
    return concat


def _hidden_size(imp: Any, op: onnx.NodeProto) -> int:
    """The optional ``hidden_size`` attribute, else the last dimension of R [directions, gates·H, H]."""
    return int(attrs(op).get("hidden_size") or np.shape(imp.const(op.input[2], "R", op))[-1])


def _layer_weights(imp: Any, op: onnx.NodeProto, k: int, units: int, both: bool) -> dict[str, np.ndarray]:
    """PyTorch's ``weight_ih_l{k}``… of one ONNX recurrent layer, after checking it is one PyTorch has."""
    kind, a = op.op_type, attrs(op)
    if _hidden_size(imp, op) != units:
        raise _fail(op, f"its hidden_size differs from the first layer's {units}; GraphEdit stacks equal layers")
    if _text(a.get("direction", "forward")) != ("bidirectional" if both else "forward"):
        raise _fail(op, "reverse layers, and layers of one direction stacked on bidirectional ones, are not supported")
    if a.get("layout", 0) or "clip" in a or "activation_alpha" in a or "activation_beta" in a:
        raise _fail(op, "layout=1, clip and activation parameters have no PyTorch equivalent")
    default = ACTIVATIONS[kind] * (2 if both else 1)  # one list per direction
    if [_text(x) for x in a.get("activations", default)] != default:
        raise _fail(op, f"only the default activations {ACTIVATIONS[kind]} are supported")
    if kind == "LSTM" and (a.get("input_forget", 0) or _input(op, 7)):
        raise _fail(op, "peephole connections and coupled input/forget gates are not supported")
    if kind == "GRU" and a.get("linear_before_reset", 0) != 1:
        raise _fail(op, "linear_before_reset=0 applies the reset gate before the linear map; PyTorch's GRU does not")
    if _input(op, 4):
        raise _fail(op, "per-example sequence lengths (sequence_lens) are not supported")
    for i, what in ((5, "initial_h"), (6, "initial_c")):
        if _input(op, i) and np.any(imp.const(op.input[i], what, op)):
            raise _fail(op, f"its {what} must be zero, as a GraphEdit recurrent layer starts from zeros")
    for extra in op.output[1:]:
        if extra and (imp.users.get(extra) or extra in imp.outputs):
            raise _fail(op, "only its output sequence Y may be used, not the final states Y_h/Y_c")
    order, gates = GATES[kind], len(GATES[kind])
    w, r = imp.const(op.input[1], "W", op), imp.const(op.input[2], "R", op)
    b = imp.const(op.input[3], "B", op) if _input(op, 3) else np.zeros((1, 2 * gates * units), w.dtype)
    if w.shape[0] != (2 if both else 1):
        raise _fail(op, f"its W holds {w.shape[0]} directions, not {2 if both else 1}")

    def torch_order(m: np.ndarray) -> np.ndarray:
        blocks = np.split(m, gates, axis=0)
        return np.ascontiguousarray(np.concatenate([blocks[i] for i in order], axis=0))

    out = {}
    for d, suffix in enumerate(("", "_reverse")[: w.shape[0]]):
        out[f"weight_ih_l{k}{suffix}"] = torch_order(w[d])
        out[f"weight_hh_l{k}{suffix}"] = torch_order(r[d])
        out[f"bias_ih_l{k}{suffix}"] = torch_order(b[d, : gates * units])
        out[f"bias_hh_l{k}{suffix}"] = torch_order(b[d, gates * units :])
    return out
