"""The operator parity/ONNX table: one row per catalog node type.

A row either names the torch function or module the node stands for (``ref``), with the parameters and
input shapes of a small case, or says where the type is covered instead (``covered``: data nodes, losses,
metrics and penalties live in the objective, not the exported model). ``tests/test_operators.py`` checks
that every catalog type has a row, that each reference agrees with the node after copying weights, and
that each exports to ONNX (checked in ONNX Runtime), TorchScript, safetensors and a standalone .py file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

N = 3
I64 = torch.int64


@dataclass(frozen=True)
class Row:
    params: dict[str, Any] = field(default_factory=dict)
    shapes: tuple[tuple[int, ...], ...] = ()
    ref: Callable[[], Callable[..., Any]] | None = None
    dtypes: tuple[torch.dtype, ...] | None = None
    covered: str = ""
    export: bool = True
    wires: tuple[str, ...] = ()  # input ports in order, when they are not x / in1 … inN


class _Expanded(nn.Module):
    """The class token as ViT implementations write it: ``cls.expand(N, -1, -1)``."""

    def __init__(self, shape: list[int]) -> None:
        super().__init__()
        self.cls = nn.Parameter(torch.zeros(shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cls[None].expand(x.shape[0], -1, -1)


class TorchAttention(nn.Module):
    """``nn.MultiheadAttention`` as a transformer calls it: batch first, output only, optional masks."""

    def __init__(self, dim: int, heads: int, kdim: int | None = None, vdim: int | None = None, causal=False):
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True, kdim=kdim, vdim=vdim)
        self.causal = causal

    def forward(self, q, k=None, v=None, pad=None):
        k = q if k is None else k
        v = k if v is None else v
        mask = torch.triu(torch.full((q.shape[1], k.shape[1]), float("-inf")), 1) if self.causal else None
        pad = None if pad is None else pad.bool()
        return self.attn(q, k, v, attn_mask=mask, key_padding_mask=pad)[0]


class BiGRUSummary(nn.Module):
    """A bidirectional summary as usually written: the last layer's final states of both directions."""

    def __init__(self, features: int, units: int) -> None:
        super().__init__()
        self.gru = nn.GRU(features, units, batch_first=True, bidirectional=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, h = self.gru(x)
        return torch.cat([h[-2], h[-1]], 1)


def covered(where: str) -> Row:
    return Row(covered=where)


OBJECTIVE = "objective only (not in the exported model): tests/test_catalog.py checks its values"

ROWS: dict[str, Row] = {
    # data
    "Input": covered("data node: every export test feeds it"),
    "Target": covered("data node: the objective's placeholder, tests/test_trainer.py"),
    "Output": covered("data node: names every export's outputs, tests/test_export.py"),
    "BlockInput": covered("block port: every block test wires one, tests/test_blocks.py"),
    "BlockOutput": covered("block port: every block test wires one, tests/test_blocks.py"),
    # dense
    "Dense": Row({"units": 5}, ((N, 4, 7),), lambda: nn.Linear(7, 5)),
    "Maxout": covered("no torch module: tests/test_catalog.py (values) and test_export.py (all four exports)"),
    # convolution
    "Conv1d": Row({"filters": 6, "kernel": 3, "groups": 2}, ((N, 4, 10),), lambda: nn.Conv1d(4, 6, 3, groups=2)),
    "Conv2d": Row(
        {"filters": 8, "kernel": 3, "padding": 1, "groups": 8, "stride": 2},
        ((N, 8, 9, 9),),
        lambda: nn.Conv2d(8, 8, 3, 2, 1, groups=8),
    ),
    "Conv3d": Row(
        {"filters": 4, "kernel": 3, "padding": "same", "groups": 2},
        ((N, 2, 5, 6, 6),),
        lambda: nn.Conv3d(2, 4, 3, padding=1, groups=2),
    ),
    "ConvTranspose2d": Row(
        {"filters": 6, "groups": 3}, ((N, 3, 5, 5),), lambda: nn.ConvTranspose2d(3, 6, 2, 2, groups=3)
    ),
    "ConvTranspose3d": Row(
        {"filters": 4, "kernel": 3, "stride": 2, "padding": 1, "output_padding": 1, "groups": 2},
        ((N, 2, 3, 4, 4),),
        lambda: nn.ConvTranspose3d(2, 4, 3, 2, 1, output_padding=1, groups=2),
    ),
    "Upsample3d": Row({"mode": "trilinear"}, ((N, 2, 3, 4, 4),), lambda: nn.Upsample(scale_factor=2, mode="trilinear")),
    "Upsample": Row({"mode": "bilinear"}, ((N, 3, 4, 4),), lambda: nn.Upsample(scale_factor=2, mode="bilinear")),
    "PixelShuffle": Row({"factor": 2}, ((N, 8, 3, 3),), lambda: nn.PixelShuffle(2)),
    "ChannelShuffle": Row({"groups": 3}, ((N, 6, 2, 2),), lambda: nn.ChannelShuffle(3)),
    "Flatten": Row({}, ((N, 4, 3, 3),), lambda: nn.Flatten()),
    "Reshape": Row({"shape": [2, -1]}, ((N, 12),), lambda: lambda x: x.reshape(x.shape[0], 2, 6)),
    # pooling
    "MaxPool2d": Row(
        {"kernel": 3, "stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True},
        ((N, 3, 10, 10),),
        lambda: nn.MaxPool2d(3, 2, 1, dilation=2, ceil_mode=True),
    ),
    "AvgPool2d": Row(
        {"kernel": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
        ((N, 3, 8, 7),),
        lambda: nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
    ),
    "MaxPool1d": Row({"kernel": 3, "ceil_mode": True}, ((N, 2, 10),), lambda: nn.MaxPool1d(3, 2, ceil_mode=True)),
    "AvgPool1d": Row({"kernel": 2}, ((N, 2, 9),), lambda: nn.AvgPool1d(2, 2)),
    "MaxPool3d": Row({}, ((N, 2, 4, 6, 6),), lambda: nn.MaxPool3d(2, 2)),
    "AvgPool3d": Row({"padding": 1}, ((N, 2, 4, 5, 5),), lambda: nn.AvgPool3d(2, 2, 1)),
    "AdaptiveAvgPool2d": Row({"size": [2, 3]}, ((N, 3, 8, 9),), lambda: nn.AdaptiveAvgPool2d((2, 3))),
    "AdaptiveMaxPool2d": Row({"size": [4, 2]}, ((N, 3, 8, 6),), lambda: nn.AdaptiveMaxPool2d((4, 2))),
    "GlobalAvgPool": Row({}, ((N, 3, 4, 5),), lambda: lambda x: F.adaptive_avg_pool2d(x, 1).flatten(1)),
    # activation
    "Identity": Row({}, ((N, 3),), lambda: nn.Identity()),
    "Step": Row({}, ((N, 3),), lambda: lambda x: torch.heaviside(x, torch.zeros(()))),
    "Sigmoid": Row({"beta": 2.0}, ((N, 3),), lambda: lambda x: torch.sigmoid(2 * x)),
    "Tanh": Row({}, ((N, 3),), lambda: nn.Tanh()),
    "ReLU": Row({}, ((N, 3),), lambda: nn.ReLU()),
    "LeakyReLU": Row({"alpha": 0.2}, ((N, 3),), lambda: nn.LeakyReLU(0.2)),
    "ELU": Row({"alpha": 0.5}, ((N, 3),), lambda: nn.ELU(0.5)),
    "SELU": Row({}, ((N, 3),), lambda: nn.SELU()),
    "GELU": Row({}, ((N, 3),), lambda: nn.GELU()),
    "Softmax": Row({}, ((N, 4),), lambda: nn.Softmax(dim=1)),
    "ReLU6": Row({}, ((N, 3, 4),), lambda: nn.ReLU6()),
    "Hardsigmoid": Row({}, ((N, 3, 4),), lambda: nn.Hardsigmoid()),
    "Hardswish": Row({}, ((N, 3, 4),), lambda: nn.Hardswish()),
    "SiLU": Row({}, ((N, 3, 4),), lambda: nn.SiLU()),
    "Mish": Row({}, ((N, 3, 4),), lambda: nn.Mish()),
    "Softplus": Row({"beta": 2.0, "threshold": 5.0}, ((N, 3, 4),), lambda: nn.Softplus(2.0, 5.0)),
    "PReLU": Row({"shared": False}, ((N, 3, 4, 4),), lambda: nn.PReLU(3)),
    # normalization
    "BatchNorm": Row({"momentum": 0.2}, ((N, 3, 4, 4),), lambda: nn.BatchNorm2d(3, momentum=0.2)),
    "LayerNorm": Row({"over": "last"}, ((N, 3, 4),), lambda: nn.LayerNorm(4)),
    "Dropout": Row({"p": 0.3}, ((N, 3),), lambda: nn.Dropout(0.3)),
    "GroupNorm": Row({"groups": 2}, ((N, 4, 3, 3),), lambda: nn.GroupNorm(2, 4)),
    "InstanceNorm": Row({"affine": True}, ((N, 3, 4, 4),), lambda: nn.InstanceNorm2d(3, affine=True)),
    "ChannelDropout": Row({"p": 0.3}, ((N, 3, 4, 4),), lambda: nn.Dropout2d(0.3)),
    "StochasticDepth": Row({"p": 0.3}, ((N, 3, 4),), lambda: nn.Identity()),
    "GaussianNoise": covered("no torch module: identity in eval, tests/test_catalog.py; left out of exports"),
    # merge
    "Add": Row({"inputs": 3}, ((N, 3, 2),) * 3, lambda: lambda a, b, c: a + b + c),
    "Concat": Row({}, ((N, 3, 4), (N, 5, 4)), lambda: lambda a, b: torch.cat([a, b], 1)),
    "Multiply": Row({}, ((N, 3, 4, 4), (N, 3, 1, 1)), lambda: torch.mul),
    "Subtract": Row({}, ((N, 3, 4), (N, 1, 4)), lambda: torch.sub, wires=("a", "b")),
    "Divide": Row({}, ((N, 3, 4), (N, 3, 1)), lambda: torch.div, wires=("a", "b")),
    "MatMul": Row({}, ((N, 3, 4), (N, 4, 5)), lambda: torch.matmul, wires=("a", "b")),
    # tensor
    "Arithmetic": Row({"op": "subtract from", "value": 1.5}, ((N, 3),), lambda: lambda x: torch.rsub(x, 1.5)),
    "Permute": Row({"order": [2, 3, 1]}, ((N, 2, 3, 4),), lambda: lambda x: x.permute(0, 2, 3, 1)),
    "Transpose": Row({"dim0": 1, "dim1": 2}, ((N, 2, 3),), lambda: lambda x: x.transpose(1, 2)),
    "Mean": Row({"axes": [2, 3], "keepdim": True}, ((N, 2, 3, 4),), lambda: lambda x: x.mean((2, 3), keepdim=True)),
    "Sum": Row({"axes": [1]}, ((N, 2, 3),), lambda: lambda x: x.sum(1)),
    "Max": Row({"axes": [1, 2]}, ((N, 2, 3, 4),), lambda: lambda x: x.amax((1, 2))),
    "Split": Row({"sizes": [1, 3], "axis": 2}, ((N, 2, 4),), lambda: lambda x: torch.split(x, [1, 3], 2)),
    "Chunk": Row({"chunks": 3}, ((N, 6, 2),), lambda: lambda x: torch.chunk(x, 3, 1)),
    "Slice": Row({"axis": 1, "start": 1, "end": -1, "step": 2}, ((N, 7, 2),), lambda: lambda x: x[:, 1:-1:2]),
    "Pad": Row({"pad": [1, 2, 0, 1], "mode": "reflect"}, ((N, 2, 4, 5),), lambda: nn.ReflectionPad2d((1, 2, 0, 1))),
    "Crop": Row({}, ((N, 2, 9, 8), (N, 3, 4, 4)), lambda: lambda x, like: x[:, :, 2:6, 2:6], wires=("x", "like")),
    "Parameter": Row({"shape": [2, 4], "fill": "normal"}, ((N, 5),), lambda: _Expanded([2, 4]), wires=("x",)),
    # sequence
    "Embedding": Row({"vocab": 10, "dim": 6}, ((N, 8),), lambda: nn.Embedding(10, 6), dtypes=(I64,)),
    "RNN": covered("wraps nn.RNN like GRU: tests/test_parity.py; bidirectional GRU in test_parity_blocks.py"),
    "LSTM": covered("wraps nn.LSTM: tests/test_parity.py::lstm_chars"),
    "GRU": Row(
        {"units": 4, "bidirectional": True},
        ((N, 5, 3),),
        lambda: BiGRUSummary(3, 4),
    ),
    "MultiheadAttention": Row(
        {"heads": 2, "causal": True}, ((N, 5, 8),), lambda: TorchAttention(8, 2, causal=True), wires=("query",)
    ),
    # generative
    "Reparameterize": covered("no torch module: returns μ in eval, tests/test_parity.py::vae"),
    # objective
    **{
        t: covered(OBJECTIVE)
        for t in (
            "SoftmaxCrossEntropy",
            "BinaryCrossEntropy",
            "MSE",
            "SSE",
            "L1Loss",
            "KLDivergence",
            "L1WeightPenalty",
            "L2WeightPenalty",
            "ActivationL1",
            "Accuracy",
        )
    },
}

# (type id, params, input shapes, words of the problem, words of the fix)
SHAPE_ERRORS: list[tuple[str, dict[str, Any], list[tuple[int, ...]], str, str]] = [
    ("Conv2d", {"filters": 8, "groups": 3}, [(N, 6, 8, 8)], "groups 3 does not divide", "use groups from 1, 2"),
    ("Conv1d", {"filters": 6, "groups": 4}, [(N, 4, 8)], "does not divide both", "depthwise needs groups = channels"),
    ("ConvTranspose2d", {"filters": 3, "groups": 2}, [(N, 4, 4, 4)], "groups 2 does not divide", "use groups from 1"),
    ("Conv3d", {}, [(N, 8, 8, 8)], "Conv3d expects [N, C, D, H, W]", "Reshape to [1, D, H, W]"),
    ("Conv3d", {"kernel": 5}, [(N, 1, 3, 8, 8)], "does not fit", "smaller kernel"),
    ("ConvTranspose3d", {}, [(N, 8, 8, 8)], "ConvTranspose3d expects [N, C, D, H, W]", "Reshape to [1, D, H, W]"),
    ("ConvTranspose3d", {"stride": 2, "output_padding": 2}, [(N, 1, 2, 2, 2)], "output_padding", "at most 1"),
    ("Upsample3d", {}, [(N, 3, 8, 8)], "Upsample3d expects [N, C, D, H, W]", "Reshape to [1, D, H, W]"),
    ("MaxPool2d", {"kernel": 3, "dilation": 3}, [(N, 3, 5, 5)], "does not fit", "smaller kernel"),
    ("AvgPool2d", {"kernel": 2, "padding": 2}, [(N, 3, 8, 8)], "more than half", "padding ≤ 1"),
    ("MaxPool3d", {}, [(N, 3, 8, 8)], "MaxPool3d expects [N, C, D, H, W]", "Reshape"),
    ("MaxPool1d", {}, [(N, 8)], "MaxPool1d expects [N, C, L]", "Reshape to [1, L]"),
    ("GroupNorm", {"groups": 4}, [(N, 6, 4, 4)], "4 groups do not divide the 6 channels", "use groups from 1, 2, 3"),
    ("InstanceNorm", {}, [(N, 6)], "InstanceNorm expects [N, C, L]", "channels first"),
    ("ChannelDropout", {}, [(N, 6)], "ChannelDropout expects", "Reshape to [C, H, W]"),
    ("Multiply", {}, [(N, 8, 4, 4), (N, 8)], "do not broadcast", "reshape the [N, 8] input to [8, 1, 1]"),
    ("Subtract", {}, [(N, 3, 4), (N, 2, 4)], "do not broadcast", "equal or 1"),
    ("Divide", {}, [(N, 4, 4), (N, 5)], "do not broadcast", "sizes are matched from the right"),
    ("MatMul", {}, [(N, 3, 4), (N, 3, 4)], "inner sizes 4 and 3 differ", "transpose b with Permute"),
    ("MatMul", {}, [(N, 3), (N, 3, 4)], "matrices per example", "Reshape"),
    ("Permute", {"order": [1, 3]}, [(N, 2, 3, 4)], "not a reordering of the axes 1 … 3", "e.g. [3, 2, 1]"),
    ("Transpose", {"dim1": 3}, [(N, 2, 3)], "axis 3 does not exist", "axis from 1 to 2"),
    ("Mean", {"axes": [1, 1]}, [(N, 2, 3)], "repeat an axis", "each axis once"),
    ("Split", {"sizes": [2, 3]}, [(N, 4)], "add up to 5", "add up to 4"),
    ("Chunk", {"chunks": 3}, [(N, 4)], "does not split into 3 equal parts", "divides 4"),
    ("Slice", {"start": 5}, [(N, 4)], "keeps nothing", "start < end"),
    ("Pad", {"pad": [1, 2, 3]}, [(N, 4)], "odd count", "two numbers per axis"),
    ("Pad", {"pad": [4, 4], "mode": "reflect"}, [(N, 2, 4)], "not smaller than the size 4", "at most 3"),
    ("Crop", {}, [(N, 2, 4, 4), (N, 2, 8, 8)], "cannot cut", "swap the inputs"),
    ("PixelShuffle", {"factor": 2}, [(N, 6, 4, 4)], "6 channels do not divide by r² = 4", "multiple of 4"),
    ("ChannelShuffle", {"groups": 4}, [(N, 6, 4, 4)], "do not divide by groups 4", "multiple of 4"),
    ("MultiheadAttention", {"heads": 3}, [(N, 5, 8), None, None, None], "3 heads do not divide the 8", "1, 2, 4, 8"),
    ("MultiheadAttention", {}, [(N, 8), None, None, None], "query expects [N, T, E]", "Embedding"),
    ("MultiheadAttention", {}, [(N, 5, 8), (N, 6, 4), (N, 7, 4), None], "different lengths", "same sequence"),
    ("MultiheadAttention", {}, [(N, 5, 8), (N, 6, 4), None, (N, 5)], "does not fit keys of length 6", "shape [6]"),
    ("AdaptiveAvgPool2d", {}, [(N, 8)], "AdaptiveAvgPool2d expects [N, C, H, W]", "Reshape"),
]
