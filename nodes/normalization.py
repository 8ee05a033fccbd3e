"""Normalisation and regularisation layers: BatchNorm, LayerNorm, Dropout, GaussianNoise."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from graphedit.nodes._common import need_rank
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


_BATCHNORM = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}


def _build_batchnorm(params: dict[str, Any], shapes: list[Shape | None]) -> nn.Module:
    shape = shapes[0]
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
        "Layer normalisation: standardises each example over all its non-batch dimensions, then scales "
        "by γ and shifts by β; the same in training and evaluation.",
        build=lambda params, shapes: nn.LayerNorm(list(shapes[0][1:]), eps=params["eps"]),
        params=(_EPS,),
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
]
