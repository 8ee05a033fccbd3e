"""Which catalog node a torch function or tensor method becomes (``F.relu6(x)``, ``x.mean([2, 3])``…).

:func:`function_key` names the function of an fx node (``None``: not one GraphEdit imports);
:func:`function_spec` gives the node for the element-wise and pooling ones. Functions that
rearrange or combine tensors (``cat``, ``view``, ``permute``, ``chunk``, ``+``…) need the
importer's bookkeeping and are handled in :mod:`graphedit.importers.fx_import`.
"""

from __future__ import annotations

import operator
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx

from graphedit.importers.common import UnsupportedOpError
from graphedit.importers.fx_layers import Spec, adaptive_spec, pool_params

FUNCTIONS: dict[str, tuple[Any, ...]] = {
    "relu": (torch.relu, F.relu, torch.relu_),
    "relu6": (F.relu6,),
    "hardtanh": (F.hardtanh,),
    "sigmoid": (torch.sigmoid, F.sigmoid),
    "tanh": (torch.tanh, F.tanh),
    "selu": (torch.selu, F.selu),
    "silu": (F.silu,),
    "hardswish": (F.hardswish,),
    "hardsigmoid": (F.hardsigmoid,),
    "mish": (F.mish,),
    "softplus": (F.softplus,),
    "gelu": (F.gelu,),
    "leaky_relu": (F.leaky_relu,),
    "elu": (F.elu,),
    "softmax": (torch.softmax, F.softmax),
    "cat": (torch.cat, torch.concat, torch.concatenate),
    "add": (operator.add, torch.add, operator.iadd),
    "sub": (operator.sub, torch.sub, operator.isub),
    "mul": (operator.mul, torch.mul, operator.imul),
    "div": (operator.truediv, torch.div, operator.itruediv),
    "matmul": (operator.matmul, torch.matmul, torch.bmm),
    "linear": (F.linear,),
    "neg": (operator.neg, torch.neg),
    "flatten": (torch.flatten,),
    "reshape": (torch.reshape,),
    "permute": (torch.permute,),
    "transpose": (torch.transpose,),
    "chunk": (torch.chunk,),
    "split": (torch.split,),
    "mean": (torch.mean,),
    "sum": (torch.sum,),
    "amax": (torch.amax,),
    "adaptive_avg_pool": (F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d),
    "adaptive_max_pool": (F.adaptive_max_pool1d, F.adaptive_max_pool2d, F.adaptive_max_pool3d),
    "max_pool": (F.max_pool1d, F.max_pool2d, F.max_pool3d),
    "avg_pool": (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d),
    "dropout": (F.dropout, F.dropout1d, F.dropout2d, F.dropout3d),
    "pad": (F.pad,),
    "pixel_shuffle": (F.pixel_shuffle, torch.pixel_shuffle),
    "channel_shuffle": (F.channel_shuffle, torch.channel_shuffle),
    "getitem": (operator.getitem,),
}
METHODS = {
    "view": "reshape",
    "flatten": "flatten",
    "contiguous": "alias",
    "clone": "alias",
    "detach": "alias",
    "__getitem__": "getitem",
    "unsqueeze": "reshape",
    "squeeze": "reshape",
    "relu_": "relu",
    "sigmoid_": "sigmoid",
    "add_": "add",
    "mul_": "mul",
    "neg": "neg",
}
METHOD_KEYS = {*FUNCTIONS, "alias", "reshape", "expand"}
SIMPLE = {
    "relu": "ReLU",
    "relu6": "ReLU6",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "selu": "SELU",
    "silu": "SiLU",
    "hardswish": "Hardswish",
    "hardsigmoid": "Hardsigmoid",
    "mish": "Mish",
}


def op_name(node: fx.Node) -> str:
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    fn = node.target
    module = getattr(fn, "__module__", None) or "torch"
    return f"{module.replace('_operator', 'operator')}.{getattr(fn, '__name__', fn)}"


def function_key(node: fx.Node) -> str | None:
    if node.op == "call_method":
        name = METHODS.get(node.target, node.target)
        return name if name in METHOD_KEYS else None
    for key, fns in FUNCTIONS.items():
        if any(node.target is f for f in fns):
            return key
    return None


def arg(node: fx.Node, i: int, name: str, default: Any = None) -> Any:
    """Argument ``i`` (after the tensor, for methods counted the same way) or keyword ``name``."""
    return node.args[i] if len(node.args) > i else node.kwargs.get(name, default)


def axes_of(value: Any, rank: int) -> list[int]:
    values = (value,) if isinstance(value, int) else tuple(value or ())
    return sorted(int(d) % rank for d in values)


def function_spec(node: fx.Node, key: str, rank: int, out_shape: tuple[int, ...]) -> Spec:
    """The node for an element-wise, reducing or pooling function ``key`` of a rank-``rank`` tensor."""
    op, where = op_name(node), node.name
    if key in SIMPLE:
        return Spec(SIMPLE[key], {})
    if key == "neg":
        return Spec("Arithmetic", {"op": "multiply", "value": -1.0})
    if key == "hardtanh":
        if (arg(node, 1, "min_val", -1.0), arg(node, 2, "max_val", 1.0)) != (0.0, 6.0):
            raise UnsupportedOpError(op, where, "only hardtanh(0, 6), which is ReLU6")
        return Spec("ReLU6", {})
    if key == "softplus":
        return Spec(
            "Softplus", {"beta": float(arg(node, 1, "beta", 1.0)), "threshold": float(arg(node, 2, "threshold", 20.0))}
        )
    if key == "gelu":
        if arg(node, 1, "approximate", "none") != "none":
            raise UnsupportedOpError(op, where, "the tanh approximation of GELU is not supported")
        return Spec("GELU", {})
    if key == "leaky_relu":
        return Spec("LeakyReLU", {"alpha": float(arg(node, 1, "negative_slope", 0.01))})
    if key == "elu":
        return Spec("ELU", {"alpha": float(arg(node, 1, "alpha", 1.0))})
    if key == "softmax":
        if arg(node, 1, "dim") not in (1, 1 - rank):
            raise UnsupportedOpError(op, where, "GraphEdit's Softmax is over dim 1")
        return Spec("Softmax", {})
    if key == "dropout":
        channel = node.target in (F.dropout1d, F.dropout2d, F.dropout3d)
        return Spec("ChannelDropout" if channel else "Dropout", {"p": float(arg(node, 1, "p", 0.5))})
    if key in ("mean", "sum", "amax"):
        return _reduce(node, key, rank)
    if key in ("adaptive_avg_pool", "adaptive_max_pool"):
        size = arg(node, 1, "output_size")
        if key == "adaptive_avg_pool" and size in (1, (1,), (1, 1), (1, 1, 1), [1, 1]):
            return Spec("GlobalAvgPool", {})
        return adaptive_spec("avg" if key == "adaptive_avg_pool" else "max", size, rank, op, where)
    if key == "pixel_shuffle":
        return Spec("PixelShuffle", {"factor": int(arg(node, 1, "upscale_factor"))})
    if key == "channel_shuffle":
        return Spec("ChannelShuffle", {"groups": int(arg(node, 1, "groups"))})
    if key == "pad":
        mode = arg(node, 2, "mode", "constant")
        params = {"pad": [int(p) for p in arg(node, 1, "pad")], "mode": mode}
        if mode == "constant":
            params["value"] = float(arg(node, 3, "value", 0.0) or 0.0)
        return Spec("Pad", params)
    if key in ("max_pool", "avg_pool"):
        kind = "max" if key == "max_pool" else "avg"
        names = ["kernel_size", "stride", "padding"]
        names += ["dilation", "ceil_mode"] if kind == "max" else ["ceil_mode", "count_include_pad", "divisor_override"]
        settings = {n: arg(node, i + 1, n) for i, n in enumerate(names)}
        if kind == "max" and arg(node, 6, "return_indices", False):
            raise UnsupportedOpError(op, where, "return_indices=True is not supported")
        return pool_params(kind, rank - 2, settings, op, where)
    raise UnsupportedOpError(op, where)


def _reduce(node: fx.Node, key: str, rank: int) -> Spec:
    dims = arg(node, 1, "dim")
    if dims is None:
        raise UnsupportedOpError(op_name(node), node.name, "a reduction over every axis would mix the batch")
    axes = axes_of(dims, rank)
    if 0 in axes:
        raise UnsupportedOpError(op_name(node), node.name, "it reduces the batch axis")
    keep = bool(arg(node, 2, "keepdim", False))
    if key == "mean" and not keep and rank >= 3 and axes == list(range(2, rank)):
        return Spec("GlobalAvgPool", {})
    return Spec({"mean": "Mean", "sum": "Sum", "amax": "Max"}[key], {"axes": axes, "keepdim": keep})
