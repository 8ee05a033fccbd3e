"""Normalisation and regularisation layers: batch, layer, group and instance norm; dropout, noise, stochastic depth."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from graphedit.errors import NodeError
from graphedit.nodes._common import Check, known, need_rank
from graphedit.nodes.spec import NodeType, Param, Shape

_EPS = Param("eps", "float", 1e-5, min=1e-12, max=1.0, doc="ε added to the variance to avoid dividing by 0.")


class GaussianNoise(nn.Module):
    """Adds N(0, std²) noise while training; the identity in evaluation."""

    def __init__(self, std: float) -> None:
        super().__init__()
        self.std = std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and self.std > 0:
            return x + torch.randn_like(x) * self.std
        return x


class StochasticDepth(nn.Module):
    """torchvision.ops.stochastic_depth: drop a whole residual branch with probability p while training.

    ``row`` drops it per example, ``batch`` for the whole batch; survivors are scaled by 1/(1 − p).
    """

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        survival = 1.0 - self.p
        size = [x.shape[0]] + [1] * (x.dim() - 1) if self.mode == "row" else [1] * x.dim()
        noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(survival)
        if survival > 0.0:
            noise.div_(survival)
        return x * noise


_BATCHNORM = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}


def _build_batchnorm(params: dict[str, Any], shapes: list[Shape | None]) -> nn.Module:
    shape = known(shapes)
    return _BATCHNORM[len(shape)](shape[1], eps=params["eps"], momentum=params["momentum"])


def _check_batchnorm(params: dict[str, Any], shapes: list[Shape | None]) -> None:
    need_rank(
        "BatchNorm",
        shapes[0],
        tuple(_BATCHNORM),
        "[N, F], [N, C, L] or [N, C, H, W]",
        "add a Reshape to [1] before it, or normalise a layer's output instead",
    )


def _check_layernorm(params: dict[str, Any], shapes: list[Shape | None]) -> None:
    need_rank("LayerNorm", shapes[0], range(2, 9), "[N, ...]", "add a Reshape to [1] before it")


_INSTANCENORM = {3: nn.InstanceNorm1d, 4: nn.InstanceNorm2d, 5: nn.InstanceNorm3d}
_CHANNEL_DROPOUT = {3: nn.Dropout1d, 4: nn.Dropout2d, 5: nn.Dropout3d}
_CHANNELS = "[N, C, L], [N, C, H, W] or [N, C, D, H, W]"


def _check_groupnorm(params: dict[str, Any], shapes: list[Shape | None]) -> None:
    shape = shapes[0]
    need_rank("GroupNorm", shape, range(2, 9), "[N, C, ...]", "add a Reshape to [1] before it")
    if shape is not None and shape[1] % params["groups"]:
        fits = [g for g in range(1, shape[1] + 1) if shape[1] % g == 0]
        raise NodeError(
            None,
            f"GroupNorm: {params['groups']} groups do not divide the {shape[1]} channels",
            fix=f"use groups from {', '.join(map(str, fits[-6:]))} (a divisor of the channels)",
        )


def _check_channels(title: str) -> Check:
    def check(params: dict[str, Any], shapes: list[Shape | None]) -> None:
        need_rank(title, shapes[0], (3, 4, 5), _CHANNELS, "add a Reshape to [C, H, W] before it (channels first)")

    return check


def _build_instancenorm(params: dict[str, Any], shapes: list[Shape | None]) -> nn.Module:
    shape = known(shapes)
    return _INSTANCENORM[len(shape)](shape[1], eps=params["eps"], affine=params["affine"])


_AFFINE = Param("affine", "bool", True, doc="Learn a scale γ and shift β per channel.")

NODE_TYPES = [
    NodeType(
        "BatchNorm",
        "BatchNorm",
        "normalization",
        "Batch normalisation: standardises each feature/channel over the minibatch, then scales by γ and "
        "shifts by β. Evaluation uses running averages. 1d for [N, F] or [N, C, L], 2d for [N, C, H, W]; "
        "place it between a Dense/Conv layer and its activation.",
        build=_build_batchnorm,
        params=(
            Param("momentum", "float", 0.1, min=0.0, max=1.0, doc="Weight of the newest batch in the running stats."),
            _EPS,
        ),
        formula="y = γ · (x − μ_B) / √(σ²_B + ε) + β",
        check=_check_batchnorm,
        id_prefix="bn",
    ),
    NodeType(
        "LayerNorm",
        "LayerNorm",
        "normalization",
        "Layer normalisation: standardises each example over all its non-batch dimensions (or, with over = "
        "last, each position's feature vector, as transformers do), then scales by γ and shifts by β; the same "
        "in training and evaluation.",
        build=lambda params, shapes: nn.LayerNorm(
            list(known(shapes)[1:] if params["over"] == "all" else known(shapes)[-1:]),
            eps=params["eps"],
            elementwise_affine=params["affine"],
        ),
        params=(
            _EPS,
            _AFFINE,
            Param(
                "over",
                "choice",
                "all",
                choices=("all", "last"),
                doc="all: every non-batch axis; last: each position's features alone (transformers).",
            ),
        ),
        formula="y = γ · (x − μ_x) / √(σ²_x + ε) + β",
        check=_check_layernorm,
        id_prefix="ln",
    ),
    NodeType(
        "Dropout",
        "Dropout",
        "normalization",
        "Inverted dropout: while training, zeroes each value with probability p and scales the rest by "
        "1/(1 − p), so evaluation needs no change. Prevents co-adaptation of units.",
        build=lambda params, shapes: nn.Dropout(params["p"]),
        params=(Param("p", "float", 0.5, min=0.0, max=1.0, doc="Probability of dropping a value."),),
        formula="y = m ⊙ x / (1 − p),  mᵢ ~ Bernoulli(1 − p)",
        key_params=("p",),
        train_only=True,
        id_prefix="dropout",
    ),
    NodeType(
        "GaussianNoise",
        "GaussianNoise",
        "normalization",
        "Adds Gaussian noise N(0, std²) during training only (identity in evaluation); on the input of an "
        "autoencoder it makes a denoising autoencoder.",
        build=lambda params, shapes: GaussianNoise(params["std"]),
        params=(Param("std", "float", 0.1, min=0.0, max=100.0, doc="Standard deviation of the noise."),),
        formula="y = x + ε,  ε ~ N(0, std²)  (training only)",
        key_params=("std",),
        train_only=True,
        id_prefix="noise",
    ),
    NodeType(
        "GroupNorm",
        "GroupNorm",
        "normalization",
        "Group normalisation: splits the channels into groups and standardises each group of each example; "
        "independent of the batch size, so it works with batches of 1 (detection, segmentation). "
        "groups = 1 is LayerNorm over [C, H, W]; groups = C is InstanceNorm.",
        build=lambda params, shapes: nn.GroupNorm(
            params["groups"], known(shapes)[1], eps=params["eps"], affine=params["affine"]
        ),
        params=(
            Param("groups", "int", 8, min=1, max=65536, doc="Number of channel groups G (divides C)."),
            _EPS,
            _AFFINE,
        ),
        formula="y = γ · (x − μ_g) / √(σ²_g + ε) + β,  μ_g, σ²_g over the C/G channels and all positions of group g",
        key_params=("groups",),
        check=_check_groupnorm,
        id_prefix="gn",
    ),
    NodeType(
        "InstanceNorm",
        "InstanceNorm",
        "normalization",
        "Instance normalisation: standardises each channel of each example over its positions, removing "
        "per-image contrast (style transfer). Uses no running statistics: the same in training and evaluation.",
        build=_build_instancenorm,
        params=(_EPS, Param("affine", "bool", False, doc="Learn a scale γ and shift β per channel.")),
        formula="y = γ · (x − μ_nc) / √(σ²_nc + ε) + β,  μ_nc, σ²_nc over the positions of channel c",
        check=_check_channels("InstanceNorm"),
        id_prefix="inorm",
    ),
    NodeType(
        "ChannelDropout",
        "ChannelDropout",
        "normalization",
        "Channel dropout (torch Dropout1d/2d/3d): while training, zeroes whole channels with probability p and "
        "scales the rest by 1/(1 − p); neighbouring pixels are correlated, so dropping single values would "
        "hardly regularise a convolutional net.",
        build=lambda params, shapes: _CHANNEL_DROPOUT[len(known(shapes))](params["p"]),
        params=(Param("p", "float", 0.5, min=0.0, max=1.0, doc="Probability of dropping a channel."),),
        formula="y[n, c] = m[n, c] · x[n, c] / (1 − p),  m[n, c] ~ Bernoulli(1 − p)",
        key_params=("p",),
        check=_check_channels("ChannelDropout"),
        train_only=True,
        id_prefix="chdrop",
    ),
    NodeType(
        "StochasticDepth",
        "StochasticDepth",
        "normalization",
        "Stochastic depth (torchvision.ops.stochastic_depth): while training, drops a residual branch with "
        "probability p — per example (row) or for the whole batch — and scales survivors by 1/(1 − p); put it "
        "on the branch just before the Add. The identity in evaluation.",
        build=lambda params, shapes: StochasticDepth(params["p"], params["mode"]),
        params=(
            Param("p", "float", 0.2, min=0.0, max=1.0, doc="Probability of dropping the branch."),
            Param("mode", "choice", "row", choices=("row", "batch"), doc="Drop per example (row) or per batch."),
        ),
        formula="y = m · x / (1 − p),  m ~ Bernoulli(1 − p) per example",
        key_params=("p",),
        train_only=True,
        id_prefix="sdepth",
    ),
]
