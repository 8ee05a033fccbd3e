"""Generative-model nodes: the reparameterisation trick of the variational autoencoder."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from graphedit.nodes._common import require_same
from graphedit.nodes.spec import NodeType, Port, Shape


class Reparameterize(nn.Module):
    """z = μ + exp(½ log σ²) · ε with ε ~ N(0, I) while training; z = μ in evaluation."""

    def forward(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        if self.training:
            return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return mu


def _check(params: dict[str, Any], shapes: list[Shape | None]) -> None:
    require_same("Reparameterize", shapes[0], shapes[1], "mu and logvar")


NODE_TYPES = [
    NodeType(
        "Reparameterize",
        "Reparameterize",
        "generative",
        "VAE sampling as a differentiable step: z = μ + σ·ε with ε ~ N(0, I), so gradients reach μ and "
        "log σ². In evaluation it returns μ (the mean code), making predictions deterministic.",
        build=lambda params, shapes: Reparameterize(),
        inputs=(Port("mu", doc="mean μ of the code"), Port("logvar", doc="log variance log σ² of the code")),
        outputs=(Port("z", doc="a sampled code"),),
        formula="z = μ + exp(½ log σ²) ⊙ ε,  ε ~ N(0, I)",
        check=_check,
        id_prefix="reparam",
    ),
]
