"""Convolution and reshaping layers for sequences ([N, C, L]), images ([N, C, H, W]) and volumes ([N, C, D, H, W]).

Pooling lives in :mod:`graphedit.nodes.pooling`.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from graphedit.errors import NodeError
from graphedit.nodes._common import Build, Check, known, need_rank
from graphedit.nodes.spec import Call, NodeType, Param, Shape, init_param, shape_text

_SIZE = "Output size per dimension: ⌊(i + 2p − d(k−1) − 1) / s⌋ + 1."


def _int(name: str, default: int, doc: str, lo: int = 1, hi: int = 1024, **kw: Any) -> Param:
    return Param(name, "int", default, min=lo, max=hi, doc=doc, **kw)


FILTERS = _int("filters", 16, "Number of output channels (filters), each a learned k×k detector.", hi=65536)
KERNEL = _int("kernel", 3, "Kernel (filter) size k.", hi=64)
STRIDE = _int("stride", 1, "Step s between filter positions; 2 halves the size.", hi=64)
PADDING = _int(
    "padding",
    0,
    "Zeros added on each side: a number p, 'same' (output = ⌈input / stride⌉) or 'valid' (p = 0).",
    lo=0,
    hi=64,
    allow=("same", "valid"),
)
DILATION = _int("dilation", 1, "Spacing d between kernel taps (à trous convolution).", hi=64)
BIAS = Param("bias", "bool", True, doc="Add a learned bias per filter.")
GROUPS = _int(
    "groups",
    1,
    "Split channels into g groups convolved separately (g = C with filters a multiple of C: depthwise).",
    hi=65536,
)

_RANK_FIX = {
    1: {
        2: "add a Reshape to [1, L] before it (one channel of length L)",
        4: "use Conv2d for images, or Flatten/Reshape to [C, L]",
    },
    2: {
        2: "add a Reshape to [C, H, W] before it, e.g. [1, 28, 28]",
        3: "add a Reshape to [1, H, W] before it to give the image one channel",
        5: "use Conv3d for volumes, or a Reshape to [C, H, W]",
    },
    3: {
        2: "add a Reshape to [C, D, H, W] before it, e.g. [1, 16, 28, 28]",
        4: "add a Reshape to [1, D, H, W] before it to give the volume one channel",
    },
}
_LAYOUT = {1: "[N, C, L]", 2: "[N, C, H, W]", 3: "[N, C, D, H, W]"}


def _check_rank(title: str, dims: int, shape: Shape | None) -> None:
    want = _LAYOUT[dims]
    fix = _RANK_FIX.get(dims, {}).get(len(shape) if shape is not None else 0, f"reshape the input to {want}")
    need_rank(title, shape, (dims + 2,), want, fix)


def conv_out(i: int, k: int, s: int, p: int, d: int = 1) -> int:
    """The notes' output size ⌊(i + 2p − k) / s⌋ + 1, with dilation: k → d(k−1) + 1."""
    return (i + 2 * p - d * (k - 1) - 1) // s + 1


def resolve_padding(title: str, params: dict[str, Any]) -> int | str:
    """A number of zeros per side, or torch's 'same' (stride 1 with an even kernel)."""
    pad: int | str = params.get("padding", 0)
    if pad == "valid":
        return 0
    if pad != "same":
        return pad
    span: int = params.get("dilation", 1) * (params["kernel"] - 1)
    if span % 2 == 0:
        return span // 2  # for an odd kernel this gives ⌈i / s⌉ at any stride
    if params.get("stride", 1) == 1:
        return "same"
    raise NodeError(
        None,
        f"{title}: padding 'same' with stride {params['stride']} needs an odd kernel, not {params['kernel']}",
        fix="use an odd kernel size, stride 1, or a number for padding",
    )


def _out_sizes(title: str, shape: Shape, params: dict[str, Any], dims: int) -> list[int]:
    pad = resolve_padding(title, params)
    if isinstance(pad, str):  # "same", the only text resolve_padding returns
        return list(shape[2:])
    k, s, d = params["kernel"], params.get("stride", 1), params.get("dilation", 1)
    sizes = [conv_out(i, k, s, pad, d) for i in shape[2:]]
    if min(sizes) < 1:
        kk = "×".join([str(k)] * dims)
        raise NodeError(
            None,
            f"{title}: its {kk} kernel does not fit the {'×'.join(map(str, shape[2:]))} input "
            f"(padding {pad}, dilation {d}); the output would be empty",
            fix="use a smaller kernel, add padding, or downsample less before it",
        )
    return sizes


def check_groups(title: str, channels: int, filters: int, groups: int) -> None:
    """Both the input channels and the filters must split evenly into ``groups``."""
    if channels % groups == 0 and filters % groups == 0:
        return
    fits = [g for g in range(1, channels + 1) if channels % g == 0 and filters % g == 0]
    raise NodeError(
        None,
        f"{title}: groups {groups} does not divide both the {channels} input channels and the {filters} filters",
        fix=f"use groups from {', '.join(map(str, fits[-6:]))}; depthwise needs groups = channels and "
        "filters a multiple of them",
    )


def _conv_check(title: str, dims: int) -> Check:
    def check(params: dict[str, Any], shapes: list[Shape | None]) -> None:
        shape = shapes[0]
        _check_rank(title, dims, shape)
        if shape is not None:
            check_groups(title, shape[1], params["filters"], params["groups"])
            _out_sizes(title, shape, params, dims)

    return check


def _build_conv(dims: int) -> Build:
    cls = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[dims]

    def build(params: dict[str, Any], shapes: list[Shape | None]) -> nn.Module:
        pad = resolve_padding(f"Conv{dims}d", params)
        return cls(
            known(shapes)[1],
            params["filters"],
            params["kernel"],
            stride=params["stride"],
            padding=pad,
            dilation=params["dilation"],
            groups=params["groups"],
            bias=params["bias"],
        )

    return build


def _conv_type(dims: int) -> NodeType:
    title = f"Conv{dims}d"
    what = {1: "sequences", 2: "images", 3: "volumes (video, scans)"}[dims] + " " + _LAYOUT[dims]
    return NodeType(
        title,
        title,
        "convolution",
        f"Convolution over {what}: each filter slides over the input and takes a weighted sum of the "
        f"patch under it, so the same detector is applied everywhere. {_SIZE} With groups g each filter "
        "sees only C/g channels (g = C: depthwise, as in MobileNet).",
        build=_build_conv(dims),
        params=(FILTERS, KERNEL, STRIDE, PADDING, DILATION, GROUPS, BIAS, init_param()),
        formula="y[f, p] = b_f + Σ_c Σ_k w[f, c, k] · x[c, s·p + d·k − pad]",
        key_params=("filters", "kernel", "stride"),
        check=_conv_check(title, dims),
        id_prefix="conv" if dims == 2 else f"conv{dims}d_",
    )


def _tconv_check(dims: int) -> Check:
    title = f"ConvTranspose{dims}d"

    def check(params: dict[str, Any], shapes: list[Shape | None]) -> None:
        _check_rank(title, dims, shapes[0])
        if shapes[0] is not None:
            check_groups(title, shapes[0][1], params["filters"], params["groups"])
        if params["output_padding"] >= params["stride"]:
            raise NodeError(
                None,
                f"{title}: output_padding {params['output_padding']} must be smaller than stride {params['stride']}",
                fix=f"set output_padding to at most {params['stride'] - 1}",
            )
        if shapes[0] is not None:
            sizes = [
                (i - 1) * params["stride"] - 2 * params["padding"] + params["kernel"] + params["output_padding"]
                for i in shapes[0][2:]
            ]
            if min(sizes) < 1:
                raise NodeError(None, f"{title}: padding leaves an empty output", fix="reduce the padding")

    return check


def _build_tconv(dims: int) -> Build:
    cls = {2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}[dims]

    def build(params: dict[str, Any], shapes: list[Shape | None]) -> nn.Module:
        return cls(
            known(shapes)[1],
            params["filters"],
            params["kernel"],
            stride=params["stride"],
            padding=params["padding"],
            output_padding=params["output_padding"],
            groups=params["groups"],
            bias=params["bias"],
        )

    return build


def _tconv_type(dims: int) -> NodeType:
    title = f"ConvTranspose{dims}d"
    what = "H and W" if dims == 2 else "D, H and W"
    patch = "k×k" if dims == 2 else "k×k×k"
    return NodeType(
        title,
        title,
        "convolution",
        f"Transposed convolution ('deconvolution') over {'images' if dims == 2 else 'volumes'} {_LAYOUT[dims]}: "
        f"spreads each input value over a {patch} patch of the output, learning to upsample; kernel 2, "
        f"stride 2 doubles {what}.",
        build=_build_tconv(dims),
        params=(
            FILTERS,
            _int("kernel", 2, "Kernel size k.", hi=64),
            _int("stride", 2, "Upsampling factor s.", hi=64),
            _int("padding", 0, "Rows/columns p removed from each side of the output.", lo=0, hi=64),
            _int("output_padding", 0, "Extra rows/columns added on one side (< stride).", lo=0, hi=63),
            GROUPS,
            BIAS,
            init_param(),
        ),
        formula="o = (i − 1)·s − 2p + k + output_padding",
        key_params=("filters", "kernel", "stride"),
        check=_tconv_check(dims),
        id_prefix="deconv" if dims == 2 else f"deconv{dims}d_",
    )


def reshape(x: torch.Tensor, shape: list[int]) -> torch.Tensor:
    """Reshape each example, keeping the batch dimension in front."""
    return x.reshape([x.shape[0]] + shape)


def _reshape_check(params: dict[str, Any], shapes: list[Shape | None]) -> None:
    target = params["shape"]
    if 0 in target or target.count(-1) > 1:
        raise NodeError(
            None, f"Reshape: shape {list(target)} is not valid", fix="use positive sizes and at most one -1"
        )
    shape = shapes[0]
    if shape is None:
        return
    have = math.prod(shape[1:])
    known = math.prod(d for d in target if d != -1)
    if (-1 in target and have % known) or (-1 not in target and have != known):
        raise NodeError(
            None,
            f"Reshape: {shape_text(shape)} holds {have} values per example, which do not fit {list(target)}",
            fix=f"choose sizes whose product is {have}, or use -1 for one of them",
        )


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """ShuffleNet's shuffle: view channels as [groups, C/groups], transpose, flatten back."""
    n, c = x.shape[0], x.shape[1]
    y = x.reshape([n, groups, c // groups] + list(x.shape[2:]))
    return y.transpose(1, 2).reshape(x.shape)


def _divides_channels(title: str, factor: int, what: str, shapes: list[Shape | None]) -> None:
    _check_rank(title, 2, shapes[0])
    shape = shapes[0]
    if shape is not None and shape[1] % factor:
        raise NodeError(
            None,
            f"{title}: the {shape[1]} channels do not divide by {what} {factor}",
            fix=f"give the layer before it a multiple of {factor} filters",
        )


def _upsample_check(dims: int) -> Check:
    title = "Upsample" if dims == 2 else f"Upsample{dims}d"
    return lambda params, shapes: _check_rank(title, dims, shapes[0])


NODE_TYPES = [
    _conv_type(1),
    _conv_type(2),
    _conv_type(3),
    _tconv_type(2),
    _tconv_type(3),
    NodeType(
        "Upsample",
        "Upsample",
        "convolution",
        "Upsampling without weights: repeats pixels (nearest) or interpolates (bilinear) to scale H and W.",
        build=lambda params, shapes: nn.Upsample(scale_factor=params["scale"], mode=params["mode"]),
        params=(
            _int("scale", 2, "Factor applied to height and width.", hi=32),
            Param("mode", "choice", "nearest", choices=("nearest", "bilinear"), doc="How new pixels are filled."),
        ),
        formula="y[c, i, j] = x[c, ⌊i/s⌋, ⌊j/s⌋]  (nearest)",
        key_params=("scale", "mode"),
        check=_upsample_check(2),
        id_prefix="upsample",
    ),
    NodeType(
        "Upsample3d",
        "Upsample3d",
        "convolution",
        "Upsampling of volumes [N, C, D, H, W] without weights: repeats voxels (nearest) or interpolates "
        "(trilinear) to scale depth, height and width.",
        build=lambda params, shapes: nn.Upsample(scale_factor=params["scale"], mode=params["mode"]),
        params=(
            _int("scale", 2, "Factor applied to depth, height and width.", hi=32),
            Param("mode", "choice", "nearest", choices=("nearest", "trilinear"), doc="How new voxels are filled."),
        ),
        formula="y[c, d, i, j] = x[c, ⌊d/s⌋, ⌊i/s⌋, ⌊j/s⌋]  (nearest)",
        key_params=("scale", "mode"),
        check=_upsample_check(3),
        id_prefix="upsample3d_",
    ),
    NodeType(
        "PixelShuffle",
        "PixelShuffle",
        "convolution",
        "Sub-pixel upsampling: moves groups of r² channels into r×r pixel blocks, [N, C·r², H, W] → "
        "[N, C, H·r, W·r]; a convolution before it learns the upsampling without checkerboard artefacts.",
        build=lambda params, shapes: nn.PixelShuffle(params["factor"]),
        params=(_int("factor", 2, "Upscale factor r.", hi=16),),
        formula="y[c, r·i + a, r·j + b] = x[c·r² + a·r + b, i, j]",
        key_params=("factor",),
        check=lambda params, shapes: _divides_channels("PixelShuffle", params["factor"] ** 2, "r² =", shapes),
        id_prefix="pixshuf",
    ),
    NodeType(
        "ChannelShuffle",
        "ChannelShuffle",
        "convolution",
        "Interleaves the channels of g groups so the next grouped convolution sees channels from every group "
        "(ShuffleNet); no weights.",
        build=lambda params, shapes: Call(channel_shuffle, {"groups": params["groups"]}),
        params=(_int("groups", 2, "Number of groups g (divides the channels).", hi=1024),),
        formula="y[j·g + i] = x[i·(C/g) + j]",
        key_params=("groups",),
        check=lambda params, shapes: _divides_channels("ChannelShuffle", params["groups"], "groups", shapes),
        id_prefix="chshuf",
    ),
    NodeType(
        "Flatten",
        "Flatten",
        "convolution",
        "Flattens each example into one feature vector, e.g. [N, 16, 8, 8] → [N, 1024], so Dense can follow.",
        build=lambda params, shapes: Call(torch.flatten, {"start_dim": 1}),
        formula="y = vec(x)",
        check=lambda params, shapes: need_rank(
            "Flatten", shapes[0], range(2, 9), "[N, ...]", "there is nothing to flatten; remove it"
        ),
        id_prefix="flatten",
    ),
    NodeType(
        "Reshape",
        "Reshape",
        "convolution",
        "Reshapes each example (the batch dimension stays); one size may be -1 to be inferred, "
        "e.g. [784] → [1, 28, 28].",
        build=lambda params, shapes: Call(reshape, {"shape": list(params["shape"])}),
        params=(Param("shape", "ints", (-1,), min=-1, doc="New shape without the batch dimension."),),
        formula="y = reshape(x, [N, shape])",
        key_params=("shape",),
        check=_reshape_check,
        id_prefix="reshape",
    ),
]
