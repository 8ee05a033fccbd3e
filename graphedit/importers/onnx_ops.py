"""ONNX op → catalog node. Each handler gets the importer, the ONNX node and its non-constant inputs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import onnx
import torch
from onnx import helper

from graphedit.importers.common import UnsupportedOpError

SIMPLE = {"Relu": "ReLU", "Sigmoid": "Sigmoid", "Tanh": "Tanh"}
HANDLERS: dict[str, Callable[[Any, onnx.NodeProto, list[str]], None]] = {}


def handles(*ops: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def register(fn: Callable[..., None]) -> Callable[..., None]:
        for op in ops:
            HANDLERS[op] = fn
        return fn

    return register


def attrs(node: onnx.NodeProto) -> dict[str, Any]:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _fail(node: onnx.NodeProto, why: str) -> UnsupportedOpError:
    return UnsupportedOpError(f"ONNX {node.op_type}", f"node '{node.name or node.output[0]}'", why)


def _one(values: Any, what: str, node: onnx.NodeProto) -> int:
    values = list(values)
    if len(set(values)) > 1:
        raise _fail(node, f"{what} {values} differs per dimension; GraphEdit needs it equal")
    return int(values[0]) if values else 0


def _input(node: onnx.NodeProto, i: int) -> str:
    return node.input[i] if len(node.input) > i else ""


@handles(*SIMPLE, "Selu", "Elu", "LeakyRelu", "Gelu", "Softmax")
def activation(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    a = attrs(node)
    op, params = node.op_type, {}
    if op in SIMPLE:
        type_id = SIMPLE[op]
    elif op == "Selu":
        if abs(a.get("alpha", 1.67326) - 1.6732632) > 1e-5 or abs(a.get("gamma", 1.0507) - 1.0507009) > 1e-5:
            raise _fail(node, "only the standard SELU constants are supported")
        type_id = "SELU"
    elif op in ("Elu", "LeakyRelu"):
        type_id, params = ("ELU", {"alpha": a.get("alpha", 1.0)}) if op == "Elu" else ("LeakyReLU", {})
        if op == "LeakyRelu":
            params = {"alpha": float(a.get("alpha", 0.01))}
    elif op == "Gelu":
        if a.get("approximate", b"none") not in (b"none", "none"):
            raise _fail(node, "the tanh approximation of GELU is not supported")
        type_id = "GELU"
    else:
        rank = len(imp.shape(dynamic[0]))
        if a.get("axis", -1) not in (1, 1 - rank):
            raise _fail(node, "GraphEdit's Softmax is over axis 1")
        type_id = "Softmax"
    imp.add(node, type_id, {k: float(v) for k, v in params.items()}, [imp.ref(dynamic[0])])


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


@handles("Add", "Mul")
def merge(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    if len(dynamic) != 2:
        raise _fail(node, f"{node.op_type} with a constant is only supported as a layer's bias (MatMul + Add)")
    if imp.shape(dynamic[0]) != imp.shape(dynamic[1]):
        raise _fail(node, "broadcasting between different shapes is not supported")
    type_id = "Add" if node.op_type == "Add" else "Multiply"
    imp.add(node, type_id, {"inputs": 2}, [imp.ref(d) for d in dynamic])


@handles("Concat")
def concat(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    rank = len(imp.shape(node.output[0]))
    axis = attrs(node)["axis"] % rank
    if len(dynamic) != len(node.input) or axis < 1 or not 2 <= len(dynamic) <= 8:
        raise _fail(node, "Concat joins 2–8 non-constant tensors along a non-batch axis")
    imp.add(node, "Concat", {"inputs": len(dynamic), "axis": axis}, [imp.ref(d) for d in dynamic])


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
    if dynamic != [node.input[0]] or len(imp.shape(dynamic[0])) != 2:
        raise _fail(node, "only [N, F] · W with a constant W (a Dense layer)")
    w = imp.const(node.input[1], "weight", node).T
    users = imp.users.get(node.output[0], [])
    bias_add = None
    if len(users) == 1 and users[0].op_type == "Add":
        other = [n for n in users[0].input if n != node.output[0]]
        if len(other) == 1 and imp.is_static(other[0]) and np.size(imp.consts[other[0]]) == w.shape[0]:
            bias_add = users[0]
    b = np.reshape(imp.consts[[n for n in bias_add.input if n != node.output[0]][0]], -1) if bias_add else None
    params = {"units": int(w.shape[0]), "bias": b is not None, "init": "torch"}
    ref = imp.add(node, "Dense", params, [imp.ref(dynamic[0])], weights=imp.weights(weight=w, bias=b))
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
    if a.get("group", 1) != 1 or dims not in (1, 2) or dynamic != [node.input[0]]:
        raise _fail(node, "only 1-D/2-D convolution with groups=1 and constant weights")
    params = {"kernel": _one(w.shape[2:], "kernel", node), **_window(node, a, dims), "bias": b is not None}
    dilation = _one(a.get("dilations", [1] * dims), "dilations", node)
    if node.op_type == "Conv":
        type_id = "Conv1d" if dims == 1 else "Conv2d"
        params.update(filters=int(w.shape[0]), dilation=dilation)
    else:
        if dims != 2 or dilation != 1 or "output_shape" in a:
            raise _fail(node, "only 2-D transposed convolution without dilation or output_shape")
        type_id = "ConvTranspose2d"
        params.update(
            filters=int(w.shape[1]), output_padding=_one(a.get("output_padding", [0, 0]), "output_padding", node)
        )
    params["init"] = "torch"
    imp.add(node, type_id, params, [imp.ref(dynamic[0])], weights=imp.weights(weight=w, bias=b))


@handles("MaxPool", "AveragePool")
def pool(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    a = attrs(node)
    kernel = a["kernel_shape"]
    if len(kernel) != 2 or a.get("ceil_mode", 0) or any(d != 1 for d in a.get("dilations", [1, 1])):
        raise _fail(node, "only 2-D pooling without ceil_mode or dilation")
    if len(node.output) > 1 and node.output[1]:
        raise _fail(node, "the indices output is not supported")
    params = {"kernel": _one(kernel, "kernel", node), **_window(node, a, 2)}
    if node.op_type == "AveragePool" and params["padding"] and not a.get("count_include_pad", 0):
        raise _fail(node, "padding that is not counted in the average (count_include_pad=0)")
    imp.add(node, "MaxPool2d" if node.op_type == "MaxPool" else "AvgPool2d", params, [imp.ref(dynamic[0])])


@handles("GlobalAveragePool", "ReduceMean")
def global_pool(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    rank = len(imp.shape(dynamic[0]))
    if node.op_type == "ReduceMean":
        a = attrs(node)
        axes = a.get("axes")
        if axes is None and _input(node, 1):
            axes = imp.const(node.input[1], "axes", node).tolist()
        if sorted(int(x) % rank for x in axes or ()) != list(range(2, rank)):
            raise _fail(node, "only the mean over all positions (global average pooling)")
    shape = imp.shape(node.output[0])[:2]
    imp.add(node, "GlobalAvgPool", {}, [imp.ref(dynamic[0])], shape=shape)


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


@handles("LayerNormalization")
def layernorm(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    a = attrs(node)
    rank = len(imp.shape(dynamic[0]))
    if a.get("axis", -1) % rank != 1 or len(dynamic) != 1:
        raise _fail(node, "only normalisation over every non-batch dimension")
    scale = imp.const(node.input[1], "scale", node)
    bias = imp.const(node.input[2], "bias", node) if _input(node, 2) else np.zeros_like(scale)
    params = {"eps": float(a.get("epsilon", 1e-5))}
    imp.add(node, "LayerNorm", params, [imp.ref(dynamic[0])], weights=imp.weights(weight=scale, bias=bias))


@handles("Gather")
def gather(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    table = imp.consts.get(node.input[0])
    if table is None or table.ndim != 2 or attrs(node).get("axis", 0) != 0 or dynamic != [node.input[1]]:
        raise _fail(node, "only a lookup in a constant [vocab, dim] table (an Embedding)")
    params = {"vocab": int(table.shape[0]), "dim": int(table.shape[1]), "init": "torch"}
    imp.add(node, "Embedding", params, [imp.ref(dynamic[0])], weights=imp.weights(weight=table))


@handles("Resize", "Upsample")
def resize(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    mode = attrs(node).get("mode", b"nearest")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    src, out = imp.shape(dynamic[0]), imp.shape(node.output[0])
    if len(src) != 4 or mode not in ("nearest", "linear") or out[2] % src[2] or out[2] // src[2] != out[3] // src[3]:
        raise _fail(node, "only 2-D nearest/bilinear upsampling by a whole factor")
    params = {"scale": out[2] // src[2], "mode": "nearest" if mode == "nearest" else "bilinear"}
    imp.add(node, "Upsample", params, [imp.ref(dynamic[0])])


@handles("RNN", "LSTM", "GRU")
def recurrent(imp: Any, node: onnx.NodeProto, dynamic: list[str]) -> None:
    """Reached only when onnx_patterns did not find the batch-first layer around it."""
    raise _fail(
        node,
        "only batch-first layers as torch exports them (Transpose (1, 0, 2) → layer → Squeeze → Transpose back) "
        "are imported; a time-first recurrent layer has no GraphEdit node",
    )
