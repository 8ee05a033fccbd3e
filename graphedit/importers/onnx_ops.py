"""ONNX layer ops → catalog nodes (Gemm, Conv, pooling, normalisation, Embedding, Resize).

Each handler gets the importer, the ONNX node and its non-constant inputs. Element-wise and
tensor-rearranging ops are in :mod:`graphedit.importers.onnx_tensor`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import onnx
import torch
from onnx import helper

from graphedit.importers.common import UnsupportedOpError

QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")
Handler = Callable[[Any, onnx.NodeProto, list[str]], None]
HANDLERS: dict[str, Handler] = {}


def handler_table(table: dict[str, Handler]) -> Callable[..., Callable[[Handler], Handler]]:
    """A decorator ``@handles("Op", …)`` that enters a handler in ``table``."""

    def handles(*ops: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            for op in ops:
                table[op] = fn
            return fn

        return register

    return handles


handles = handler_table(HANDLERS)


def attrs(node: onnx.NodeProto) -> dict[str, Any]:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def listed(text: str) -> list[str]:
    """The strings of a list written as Python text (``"['', 'layer1']"``), read without evaluating it."""
    return [m.replace("\\'", "'") for m in QUOTED.findall(text)]


def _fail(node: onnx.NodeProto, why: str, support: str = "") -> UnsupportedOpError:
    return UnsupportedOpError(f"ONNX {node.op_type}", f"node '{node.name or node.output[0]}'", why, support)


def _one(values: Any, what: str, node: onnx.NodeProto) -> int:
    values = list(values)
    if len(set(values)) > 1:
        raise _fail(node, f"{what} {values} differs per dimension; GraphEdit needs it equal")
    return int(values[0]) if values else 0


def _input(node: onnx.NodeProto, i: int) -> str:
    return node.input[i] if len(node.input) > i else ""


def dense_weights(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
    """The [out, in] weight and bias of a Gemm computing x·Wᵀ + b (a Dense layer, or Maxout's linear part)."""
    a = attrs(node)
    if a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0 or a.get("transA", 0) or dynamic != [node.input[0]]:
        raise _fail(node, "only x·Wᵀ + b with constant W and b (a Dense layer)")
    w = imp.const(node.input[1], "weight", node)
    w = w if a.get("transB", 0) else w.T
    b = imp.const(node.input[2], "bias", node) if _input(node, 2) else None
    return w, None if b is None else np.broadcast_to(b, (w.shape[0],))


@handles("Gemm")
def gemm(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    w, b = dense_weights(imp, node, dynamic)
    params = {"units": int(w.shape[0]), "bias": b is not None, "init": "torch"}
    imp.add(node, "Dense", params, [imp.ref(dynamic[0])], weights=imp.weights(weight=w, bias=b))


@handles("MatMul")
def matmul(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    if len(dynamic) == 2:
        imp.add(node, "MatMul", {}, [imp.ref(n) for n in node.input])
        return
    w = imp.consts.get(node.input[1])
    src = imp.shape(dynamic[0])
    if dynamic != [node.input[0]] or len(src) < 2 or np.ndim(w) != 2:
        raise _fail(node, "only x · W with a constant matrix W (a Dense layer), or the product of two tensors")
    w = w.T
    users = imp.users.get(node.output[0], [])
    bias_add = None
    if len(users) == 1 and users[0].op_type == "Add":
        other = [n for n in users[0].input if n != node.output[0]]
        if len(other) == 1 and imp.is_static(other[0]) and np.size(imp.consts[other[0]]) == w.shape[0]:
            bias_add = users[0]
    b = np.reshape(imp.consts[[n for n in bias_add.input if n != node.output[0]][0]], -1) if bias_add else None
    params = {"units": int(w.shape[0]), "bias": b is not None, "init": "torch"}
    x = imp.ref(dynamic[0])
    if len(src) > 3:  # Dense takes [N, F] or [N, T, F]: the middle axes become T, and come back after it
        x = imp.b.ensure(x, (src[0], int(np.prod(src[1:-1])), src[-1]))
    shape = (*x.shape[:-1], int(w.shape[0]))
    ref = imp.add(node, "Dense", params, [x], weights=imp.weights(weight=w, bias=b), shape=shape)
    if bias_add is not None:
        imp.alias(bias_add, ref)


def _window(node: onnx.NodeProto, a: dict[str, Any], dims: int) -> dict[str, int]:
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise _fail(node, "auto_pad is not supported; export with explicit pads")
    return {
        "stride": _one(a.get("strides", [1] * dims), "strides", node),
        "padding": _one(a.get("pads", [0] * 2 * dims), "pads", node),
    }


@handles("Conv", "ConvTranspose")
def conv(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    a = attrs(node)
    w = imp.const(node.input[1], "weight", node)
    b = imp.const(node.input[2], "bias", node) if _input(node, 2) else None
    dims = w.ndim - 2
    if dims not in (1, 2, 3) or dynamic != [node.input[0]]:
        raise _fail(node, "only 1-D, 2-D or 3-D convolution with constant weights")
    groups = int(a.get("group", 1))
    params = {"kernel": _one(w.shape[2:], "kernel", node), **_window(node, a, dims), "bias": b is not None}
    dilation = _one(a.get("dilations", [1] * dims), "dilations", node)
    if node.op_type == "Conv":
        params.update(filters=int(w.shape[0]), dilation=dilation, groups=groups)
        type_id = f"Conv{dims}d"
    else:
        if dims not in (2, 3) or dilation != 1 or "output_shape" in a:
            raise _fail(node, "only 2-D or 3-D transposed convolution without dilation or output_shape")
        type_id = f"ConvTranspose{dims}d"
        output_padding = _one(a.get("output_padding", [0] * dims), "output_padding", node)
        params.update(filters=int(w.shape[1]) * groups, output_padding=output_padding, groups=groups)
    params["init"] = "torch"
    imp.add(node, type_id, params, [imp.ref(dynamic[0])], weights=imp.weights(weight=w, bias=b))


@handles("MaxPool", "AveragePool")
def pool(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    a = attrs(node)
    kernel = a["kernel_shape"]
    dims = len(kernel)
    if len(node.output) > 1 and node.output[1]:
        raise _fail(node, "the indices output is not supported")
    params = {"kernel": _one(kernel, "kernel", node), **_window(node, a, dims)}
    if a.get("ceil_mode", 0):
        params["ceil_mode"] = True
    dilation = _one(a.get("dilations", [1] * dims), "dilations", node)
    kind = "Max" if node.op_type == "MaxPool" else "Avg"
    if kind == "Max" and dilation != 1:
        params["dilation"] = dilation
    elif dilation != 1:
        raise _fail(node, "dilated average pooling has no PyTorch equivalent")
    if kind == "Avg" and params["padding"] and not a.get("count_include_pad", 0):
        params["count_include_pad"] = False
    imp.add(node, f"{kind}Pool{dims}d", params, [imp.ref(dynamic[0])])


@handles("BatchNormalization")
def batchnorm(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    a = attrs(node)
    if a.get("training_mode", 0) or len(dynamic) != 1:
        raise _fail(node, "only inference-mode batch normalisation with constant statistics")
    scale, bias, mean, var = (imp.const(n, "statistics", node) for n in node.input[1:5])
    params = {"momentum": round(1.0 - float(a.get("momentum", 0.9)), 7), "eps": float(a.get("epsilon", 1e-5))}
    weights = imp.weights(weight=scale, bias=bias, running_mean=mean, running_var=var)
    weights["num_batches_tracked"] = torch.tensor(0)
    imp.add(node, "BatchNorm", params, [imp.ref(dynamic[0])], weights=weights)


@handles("InstanceNormalization")
def instancenorm(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    if dynamic != [node.input[0]]:
        raise _fail(node, "its scale and bias must be constants")
    scale, bias = imp.const(node.input[1], "scale", node), imp.const(node.input[2], "bias", node)
    affine = not (np.all(scale == 1) and np.all(bias == 0))
    params = {"eps": float(attrs(node).get("epsilon", 1e-5)), "affine": bool(affine)}
    weights = imp.weights(weight=scale, bias=bias) if affine else None
    imp.add(node, "InstanceNorm", params, [imp.ref(dynamic[0])], weights=weights)


@handles("LayerNormalization")
def layernorm(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    a = attrs(node)
    rank = len(imp.shape(dynamic[0]))
    axis = a.get("axis", -1) % rank
    if axis not in (1, rank - 1) or len(dynamic) != 1:
        raise _fail(node, "only normalisation over every non-batch dimension, or over the last one")
    scale = imp.const(node.input[1], "scale", node)
    bias = imp.const(node.input[2], "bias", node) if _input(node, 2) else np.zeros_like(scale)
    params = {"eps": float(a.get("epsilon", 1e-5)), "over": "all" if axis == 1 else "last"}
    imp.add(node, "LayerNorm", params, [imp.ref(dynamic[0])], weights=imp.weights(weight=scale, bias=bias))


@handles("Resize", "Upsample")
def resize(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    mode = attrs(node).get("mode", b"nearest")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    src, out = imp.shape(dynamic[0]), imp.shape(node.output[0])
    factors = {o // s if o % s == 0 else 0 for s, o in zip(src[2:], out[2:], strict=False)}
    if len(src) not in (4, 5) or mode not in ("nearest", "linear") or len(factors) != 1 or 0 in factors:
        raise _fail(node, "only 2-D or 3-D nearest/linear upsampling by the same whole factor on every axis")
    linear = "bilinear" if len(src) == 4 else "trilinear"
    params = {"scale": factors.pop(), "mode": "nearest" if mode == "nearest" else linear}
    imp.add(node, "Upsample" if len(src) == 4 else "Upsample3d", params, [imp.ref(dynamic[0])])


@handles("RNN", "LSTM", "GRU")
def recurrent(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    """Reached only when onnx_patterns did not find the batch-first layer around it."""
    raise _fail(
        node,
        "only batch-first layers as torch exports them (Transpose (1, 0, 2) → layer → Squeeze → Transpose back) "
        "are imported; a time-first recurrent layer has no GraphEdit node",
    )
