"""Which catalog node a PyTorch layer becomes, with its parameters and weights.

Layers whose settings GraphEdit cannot express (non-square kernels, padding
modes, time-first RNNs, …) are refused with :class:`UnsupportedOpError`
naming the layer and the setting, rather than imported as something else.
Catalog classes (Maxout, Recurrent, GaussianNoise, Reparameterize, Attention,
StochasticDepth — torchvision's too) are recognised by name, so a module
exported as Python source imports back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from graphedit.importers.common import UnsupportedOpError

CATALOG_CLASSES = ("Maxout", "Recurrent", "GaussianNoise", "Reparameterize", "StochasticDepth", "Attention")


def is_catalog_module(m: nn.Module) -> bool:
    """A catalog layer class (also as copied into a Python export), recognised by its name and attributes."""
    name = type(m).__name__
    if name == "Attention":  # a user's own Attention class is traced through
        return isinstance(getattr(m, "attn", None), nn.MultiheadAttention) and hasattr(m, "has_key")
    return name in CATALOG_CLASSES


ALIAS = "alias"
FLATTEN = "flatten"
RNN = "rnn"


@dataclass
class Spec:
    """A node to add: type, parameters, weights for its layer (at ``sub`` inside it), input ports."""

    type_id: str
    params: dict[str, Any]
    weights: dict[str, torch.Tensor] | None = None
    sub: str = ""
    ports: list[str] | None = None


def square(value: Any, what: str, op: str, where: str) -> int:
    """One int for an int or a tuple of equal ints (GraphEdit layers are square)."""
    if isinstance(value, int):
        return value
    values = set(value)
    if len(values) != 1:
        raise UnsupportedOpError(op, where, f"{what} {tuple(value)} differs per dimension; GraphEdit needs it equal")
    return int(values.pop())


def _require(ok: bool, op: str, where: str, why: str) -> None:
    if not ok:
        raise UnsupportedOpError(op, where, why)


def _conv(m: nn.Module, op: str, where: str) -> Spec:
    _require(m.padding_mode == "zeros", op, where, f"padding_mode={m.padding_mode!r} is not supported")
    params = {
        "filters": m.out_channels,
        "kernel": square(m.kernel_size, "kernel_size", op, where),
        "stride": square(m.stride, "stride", op, where),
        "bias": m.bias is not None,
        "init": "torch",
    }
    if m.groups != 1:
        params["groups"] = m.groups
    padding = m.padding if isinstance(m.padding, str) else square(m.padding, "padding", op, where)
    if isinstance(m, (nn.ConvTranspose2d, nn.ConvTranspose3d)):
        _require(square(m.dilation, "dilation", op, where) == 1, op, where, "dilation is not supported")
        params["output_padding"] = square(m.output_padding, "output_padding", op, where)
        type_id = f"ConvTranspose{len(m.kernel_size)}d"
    else:
        params["dilation"] = square(m.dilation, "dilation", op, where)
        type_id = f"Conv{len(m.kernel_size)}d"
    params["padding"] = padding
    return Spec(type_id, params, m.state_dict())


def pool_params(kind: str, dims: int, settings: dict[str, Any], op: str, where: str) -> Spec:
    """MaxPool/AvgPool over ``dims`` spatial axes from torch's settings (kernel_size, stride, padding, …)."""
    kernel = square(_tuple(settings["kernel_size"]), "kernel_size", op, where)
    stride = settings.get("stride")
    stride = square(_tuple(stride if stride not in (None, [], ()) else kernel), "stride", op, where)
    params: dict[str, Any] = {"kernel": kernel, "stride": stride}
    params["padding"] = square(_tuple(settings.get("padding") or 0), "padding", op, where)
    if settings.get("ceil_mode"):
        params["ceil_mode"] = True
    if kind == "max":
        dilation = square(_tuple(settings.get("dilation") or 1), "dilation", op, where)
        if dilation != 1:
            params["dilation"] = dilation
    else:
        _require(settings.get("divisor_override") is None, op, where, "divisor_override is not supported")
        if settings.get("count_include_pad") is False and params["padding"]:
            params["count_include_pad"] = False
    return Spec(f"{kind.capitalize()}Pool{dims}d", params)


def adaptive_spec(kind: str, size: Any, rank: int, op: str, where: str) -> Spec:
    dims = rank - 2
    sizes = list(size) if isinstance(size, (tuple, list)) else [size] * dims
    if any(s is None for s in sizes):
        raise UnsupportedOpError(op, where, "an output size of None (keep the input's) is not supported")
    type_id = f"Adaptive{kind.capitalize()}Pool{dims}d"
    return Spec(type_id, {"size": [int(s) for s in sizes]})


def _tuple(value: Any) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _pool(m: nn.Module, op: str, where: str) -> Spec:
    kind = "max" if "Max" in op else "avg"
    names = ("kernel_size", "stride", "padding", "ceil_mode", "dilation", "count_include_pad", "divisor_override")
    settings = {n: getattr(m, n) for n in names if hasattr(m, n)}
    if kind == "max":
        _require(not m.return_indices, op, where, "return_indices=True is not supported")
    return pool_params(kind, int(op[-2]), settings, op, where)


def _rnn(m: nn.RNNBase, op: str, where: str) -> None:
    _require(m.batch_first, op, where, "batch_first=False; GraphEdit's recurrent layers take [N, T, F]")
    _require(m.bias, op, where, "bias=False is not supported")
    _require(getattr(m, "proj_size", 0) == 0, op, where, "proj_size is not supported")
    _require(getattr(m, "nonlinearity", "tanh") == "tanh", op, where, "only the tanh RNN is supported")


def _upsample(m: nn.Upsample, op: str, where: str, rank: int) -> Spec:
    volume = rank == 5 or m.mode == "trilinear"
    modes = ("nearest", "trilinear") if volume else ("nearest", "bilinear")
    _require(m.size is None and m.mode in modes, op, where, f"only scale_factor with {'/'.join(modes)}")
    _require(not m.align_corners, op, where, "align_corners=True is not supported")
    scale = square(m.scale_factor if isinstance(m.scale_factor, tuple) else (m.scale_factor,), "scale", op, where)
    _require(float(scale) == int(scale), op, where, "only whole-number scale factors are supported")
    return Spec("Upsample3d" if volume else "Upsample", {"scale": int(scale), "mode": m.mode})


def module_spec(m: nn.Module, where: str, in_shape: tuple[int, ...] | None) -> Spec | str:
    """The node for layer ``m`` (called at ``where``), :data:`ALIAS`, :data:`FLATTEN` or :data:`RNN`."""
    op = type(m).__name__
    rank = len(in_shape) if in_shape is not None else 2
    if isinstance(m, nn.Linear):
        return Spec("Dense", {"units": m.out_features, "bias": m.bias is not None, "init": "torch"}, m.state_dict())
    if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        return _conv(m, op, where)
    if isinstance(m, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)):
        return _pool(m, op, where)
    if isinstance(m, (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)):
        if m.output_size in (1, (1,), (1, 1), (1, 1, 1)):
            return Spec("GlobalAvgPool", {})
        return adaptive_spec("avg", m.output_size, rank, op, where)
    if isinstance(m, (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)):
        _require(not m.return_indices, op, where, "return_indices=True is not supported")
        return adaptive_spec("max", m.output_size, rank, op, where)
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
        _require(m.affine and m.track_running_stats, op, where, "affine=False or no running statistics")
        _require(m.momentum is not None, op, where, "momentum=None (cumulative average) is not supported")
        return Spec("BatchNorm", {"momentum": m.momentum, "eps": m.eps}, m.state_dict())
    if isinstance(m, nn.LayerNorm):
        shape = tuple(m.normalized_shape)
        over = "all" if in_shape is not None and shape == tuple(in_shape[1:]) else "last"
        ok = in_shape is not None and (over == "all" or shape == tuple(in_shape[-1:]))
        _require(ok, op, where, "it must normalise over every non-batch dimension or over the last one")
        _require(not m.elementwise_affine or m.bias is not None, op, where, "a learned γ needs a learned β")
        return Spec("LayerNorm", {"eps": m.eps, "over": over, "affine": m.elementwise_affine}, m.state_dict())
    if isinstance(m, nn.GroupNorm):
        _require(m.affine, op, where, "affine=False is not supported")
        return Spec("GroupNorm", {"groups": m.num_groups, "eps": m.eps}, m.state_dict())
    if isinstance(m, (nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)):
        _require(not m.track_running_stats, op, where, "running statistics are not supported")
        return Spec("InstanceNorm", {"eps": m.eps, "affine": m.affine}, m.state_dict() or None)
    if isinstance(m, (nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)):
        return Spec("ChannelDropout", {"p": m.p})
    if isinstance(m, nn.Dropout):
        return Spec("Dropout", {"p": m.p})
    if isinstance(m, nn.Embedding):
        _require(m.max_norm is None, op, where, "max_norm is not supported")
        return Spec("Embedding", {"vocab": m.num_embeddings, "dim": m.embedding_dim, "init": "torch"}, m.state_dict())
    if isinstance(m, (nn.RNN, nn.LSTM, nn.GRU)):
        _rnn(m, op, where)
        return RNN
    if isinstance(m, nn.Upsample):
        return _upsample(m, op, where, rank)
    if isinstance(m, nn.Identity):
        return ALIAS
    if isinstance(m, nn.Flatten):
        return FLATTEN
    return _activation_spec(m, op, where, rank)


SIMPLE = {
    nn.ReLU: "ReLU",
    nn.ReLU6: "ReLU6",
    nn.Sigmoid: "Sigmoid",
    nn.Tanh: "Tanh",
    nn.SELU: "SELU",
    nn.SiLU: "SiLU",
    nn.Hardswish: "Hardswish",
    nn.Hardsigmoid: "Hardsigmoid",
    nn.Mish: "Mish",
}
PADS = {
    nn.ZeroPad1d: "constant",
    nn.ZeroPad2d: "constant",
    nn.ZeroPad3d: "constant",
    nn.ConstantPad1d: "constant",
    nn.ConstantPad2d: "constant",
    nn.ConstantPad3d: "constant",
    nn.ReflectionPad1d: "reflect",
    nn.ReflectionPad2d: "reflect",
    nn.ReflectionPad3d: "reflect",
    nn.ReplicationPad1d: "replicate",
    nn.ReplicationPad2d: "replicate",
    nn.ReplicationPad3d: "replicate",
    nn.CircularPad1d: "circular",
    nn.CircularPad2d: "circular",
    nn.CircularPad3d: "circular",
}


def _activation_spec(m: nn.Module, op: str, where: str, rank: int) -> Spec:
    if type(m) in SIMPLE:
        return Spec(SIMPLE[type(m)], {})
    if isinstance(m, nn.Hardtanh):
        _require((m.min_val, m.max_val) == (0.0, 6.0), op, where, "only Hardtanh(0, 6), which is ReLU6")
        return Spec("ReLU6", {})
    if isinstance(m, nn.GELU):
        _require(m.approximate == "none", op, where, "the tanh approximation of GELU is not supported")
        return Spec("GELU", {})
    if isinstance(m, nn.LeakyReLU):
        return Spec("LeakyReLU", {"alpha": m.negative_slope})
    if isinstance(m, nn.ELU):
        return Spec("ELU", {"alpha": m.alpha})
    if isinstance(m, nn.Softplus):
        return Spec("Softplus", {"beta": float(m.beta), "threshold": float(m.threshold)})
    if isinstance(m, nn.PReLU):
        return Spec("PReLU", {"shared": m.num_parameters == 1, "alpha": float(m.init)}, m.state_dict())
    if isinstance(m, nn.Softmax):
        _require(m.dim in (1, 1 - rank), op, where, f"softmax over dim {m.dim}; GraphEdit's Softmax is over dim 1")
        return Spec("Softmax", {})
    if isinstance(m, nn.PixelShuffle):
        return Spec("PixelShuffle", {"factor": m.upscale_factor})
    if isinstance(m, nn.ChannelShuffle):
        return Spec("ChannelShuffle", {"groups": m.groups})
    if type(m) in PADS:
        mode = PADS[type(m)]
        params: dict[str, Any] = {"pad": [int(p) for p in m.padding], "mode": mode}
        if mode == "constant":
            params["value"] = float(getattr(m, "value", 0.0))
        return Spec("Pad", params)
    return _catalog_spec(m, op, where)


def _catalog_spec(m: nn.Module, op: str, where: str) -> Spec:
    if op == "Maxout":
        return Spec("Maxout", {"units": m.units, "pieces": m.pieces, "init": "torch"}, m.state_dict())
    if op == "Recurrent":
        kind = type(m.rnn).__name__
        _rnn(m.rnn, kind, where)
        params = {"units": m.rnn.hidden_size, "layers": m.rnn.num_layers, "return": "last" if m.last else "sequence"}
        params["bidirectional"] = m.rnn.bidirectional
        return Spec(kind, {**params, "init": "torch"}, m.state_dict())
    if op == "GaussianNoise":
        return Spec("GaussianNoise", {"std": float(m.std)})
    if op == "Reparameterize":
        return Spec("Reparameterize", {}, ports=["mu", "logvar"])
    if op == "Attention":  # the catalog's MultiheadAttention node, as a Python export writes it
        a = m.attn
        params = {"heads": a.num_heads, "dropout": float(a.dropout), "bias": a.in_proj_bias is not None}
        ports = ["query"] + [p for p, on in zip(("key", "value", "mask"), (m.has_key, m.has_value, m.has_mask)) if on]
        return Spec("MultiheadAttention", {**params, "causal": bool(m.causal)}, m.state_dict(), ports=ports)
    if op == "StochasticDepth":  # torchvision.ops.StochasticDepth (EfficientNet) or the catalog's
        return Spec("StochasticDepth", {"p": float(m.p), "mode": getattr(m, "mode", "row")})
    raise UnsupportedOpError(
        op,
        where,
        f"the layer class {type(m).__module__}.{op} has no GraphEdit node type",
        f"a node type for {op} (a node pack under the graphedit.nodes entry point) would import it; or import "
        "the model's ONNX export (torch.onnx.export(…, dynamo=False)), where the layer is the ops it computes",
    )


def rnn_spec(m: nn.RNNBase, last: bool) -> Spec:
    params = {"units": m.hidden_size, "layers": m.num_layers, "return": "last" if last else "sequence", "init": "torch"}
    params["bidirectional"] = m.bidirectional
    return Spec(type(m).__name__, params, m.state_dict(), sub="rnn")
