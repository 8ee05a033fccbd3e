"""Constructor source for built layers: how to write ``nn.Conv2d(1, 16, kernel_size=(5, 5), ...)`` back.

A built module does not remember the arguments it was made with, so each layer
class the catalog builds has a recipe that reads them back from the module's
attributes. Custom catalog classes (Maxout, Recurrent, GaussianNoise,
Reparameterize) are marked ``inline``: the exported file carries their source so
it needs torch alone. A node pack registers recipes for its own classes with
:func:`register_constructor`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from graphedit.nodes.attention import Attention
from graphedit.nodes.dense import Maxout
from graphedit.nodes.generative import Reparameterize
from graphedit.nodes.normalization import GaussianNoise, StochasticDepth
from graphedit.nodes.parameter import LearnedTensor
from graphedit.nodes.sequence import Recurrent


@dataclass(frozen=True)
class Recipe:
    source: Callable[[nn.Module], str]
    inline: bool = False


CONSTRUCTORS: dict[type, Recipe] = {}


def register_constructor(cls: type, source: Callable[[nn.Module], str], inline: bool = False) -> None:
    """Teach the Python export to write ``cls``; with ``inline`` its class source goes into the file."""
    CONSTRUCTORS[cls] = Recipe(source, inline)


def literal(value: object) -> str:
    """Python source for a constant: ``repr`` (a string literal can hold any text safely), spelled out for floats
    that have no literal (``float('inf')``) and through lists and tuples; anything else is refused."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({repr(value)!r})"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(literal(v) for v in value)
        if isinstance(value, list):
            return f"[{inner}]"
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    raise TypeError(f"no Python literal for {type(value).__name__}")


def _args(*positional: object, **keywords: object) -> str:
    parts = [literal(a) for a in positional] + [f"{k}={literal(v)}" for k, v in keywords.items()]
    return ", ".join(parts)


def _conv(m: nn.Module) -> str:
    kw = {"kernel_size": m.kernel_size, "stride": m.stride, "padding": m.padding, "dilation": m.dilation}
    if isinstance(m, (nn.ConvTranspose2d, nn.ConvTranspose3d)):
        kw["output_padding"] = m.output_padding
    kw.update(groups=m.groups, bias=m.bias is not None, padding_mode=m.padding_mode)
    return f"nn.{type(m).__name__}({_args(m.in_channels, m.out_channels, **kw)})"


def _pool(m: nn.Module) -> str:
    kw = {"stride": m.stride, "padding": m.padding, "ceil_mode": m.ceil_mode}
    if isinstance(m, nn.modules.pooling._MaxPoolNd):
        kw["dilation"] = m.dilation
    else:
        kw["count_include_pad"] = m.count_include_pad
        if hasattr(m, "divisor_override"):
            kw["divisor_override"] = m.divisor_override
    return f"nn.{type(m).__name__}({_args(m.kernel_size, **kw)})"


def _batchnorm(m: nn.Module) -> str:
    kw = {"eps": m.eps, "momentum": m.momentum, "affine": m.affine, "track_running_stats": m.track_running_stats}
    return f"nn.{type(m).__name__}({_args(m.num_features, **kw)})"


def _instancenorm(m: nn.Module) -> str:
    kw = {"eps": m.eps, "affine": m.affine, "track_running_stats": m.track_running_stats}
    return f"nn.{type(m).__name__}({_args(m.num_features, **kw)})"


def _rnn(m: nn.RNNBase) -> str:
    kw = {"num_layers": m.num_layers, "bias": m.bias, "batch_first": m.batch_first, "dropout": m.dropout}
    kw["bidirectional"] = m.bidirectional
    if isinstance(m, nn.RNN):
        kw["nonlinearity"] = m.nonlinearity
    return f"nn.{type(m).__name__}({_args(m.input_size, m.hidden_size, **kw)})"


def _attention(m: Attention) -> str:
    a = m.attn
    wired = [m.has_key, m.has_value, m.has_mask]
    args = _args(a.embed_dim, a.num_heads, a.dropout, a.in_proj_bias is not None, a.kdim, a.vdim, m.causal, wired)
    return f"Attention({args})"


def _upsample(m: nn.Upsample) -> str:
    return f"nn.Upsample({_args(size=m.size, scale_factor=m.scale_factor, mode=m.mode, align_corners=m.align_corners)})"


def _plain(m: nn.Module) -> str:
    return f"nn.{type(m).__name__}()"


for _cls in (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.ConvTranspose3d):
    register_constructor(_cls, _conv)
for _cls in (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d):
    register_constructor(_cls, _pool)
for _cls in (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d):
    register_constructor(_cls, lambda m: f"nn.{type(m).__name__}({_args(m.output_size)})")
for _cls in (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d):
    register_constructor(_cls, _batchnorm)
for _cls in (nn.RNN, nn.LSTM, nn.GRU):
    register_constructor(_cls, _rnn)
for _cls in (nn.Identity, nn.ReLU, nn.Sigmoid, nn.Tanh, nn.SELU, nn.Flatten):
    register_constructor(_cls, _plain)
register_constructor(nn.Linear, lambda m: f"nn.Linear({_args(m.in_features, m.out_features, bias=m.bias is not None)})")
register_constructor(
    nn.LayerNorm,
    lambda m: f"nn.LayerNorm({_args(m.normalized_shape, eps=m.eps, elementwise_affine=m.elementwise_affine)})",
)
register_constructor(
    nn.GroupNorm, lambda m: f"nn.GroupNorm({_args(m.num_groups, m.num_channels, eps=m.eps, affine=m.affine)})"
)
for _cls in (nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d):
    register_constructor(_cls, _instancenorm)
register_constructor(nn.PixelShuffle, lambda m: f"nn.PixelShuffle({_args(m.upscale_factor)})")
register_constructor(
    LearnedTensor, lambda m: f"LearnedTensor({_args(list(m.weight.shape), 'zeros', 0.0)})", inline=True
)
register_constructor(nn.PReLU, lambda m: f"nn.PReLU({_args(m.num_parameters)})")
register_constructor(nn.Dropout, lambda m: f"nn.Dropout({_args(p=m.p)})")
register_constructor(nn.Embedding, lambda m: f"nn.Embedding({_args(m.num_embeddings, m.embedding_dim)})")
register_constructor(nn.Upsample, _upsample)
register_constructor(Maxout, lambda m: f"Maxout({_args(m.linear.in_features, m.units, m.pieces)})", inline=True)
register_constructor(
    Recurrent,
    lambda m: (
        f"Recurrent({_args(type(m.rnn).__name__, m.rnn.input_size, m.rnn.hidden_size, m.rnn.num_layers, m.last)}"
        + (", bidirectional=True)" if m.bidirectional else ")")
    ),
    inline=True,
)
register_constructor(Attention, _attention, inline=True)
register_constructor(GaussianNoise, lambda m: f"GaussianNoise({_args(m.std)})", inline=True)
register_constructor(StochasticDepth, lambda m: f"StochasticDepth({_args(m.p, m.mode)})", inline=True)
register_constructor(Reparameterize, lambda m: "Reparameterize()", inline=True)
