"""A learned tensor: weights that are not a layer's, e.g. a ViT's class token and position embedding."""

from __future__ import annotations

from typing import Any, Optional

import torch
from torch import nn

from graphedit.nodes.spec import NodeType, Param, Port, Shape


class LearnedTensor(nn.Module):
    """A learned ``weight`` of the given shape, repeated over the batch of ``x`` (batch 1 without ``x``)."""

    def __init__(self, shape: list[int], fill: str, std: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(shape))
        with torch.no_grad():
            if fill == "normal":
                self.weight.normal_(0.0, std)
            elif fill == "ones":
                self.weight.fill_(1.0)

    def forward(self, x: Optional[torch.Tensor] = None) -> torch.Tensor:  # noqa: UP045 (TorchScript reads it)
        y = self.weight.unsqueeze(0)
        if x is None:
            return y
        return y.expand([x.shape[0]] + list(self.weight.shape))


def _build(params: dict[str, Any], shapes: list[Shape | None]) -> nn.Module:
    return LearnedTensor(list(params["shape"]), params["fill"], params["std"])


NODE_TYPES = [
    NodeType(
        "Parameter",
        "Parameter",
        "tensor",
        "A learned tensor of any shape, the same for every example: a ViT's class token [1, D] (Concat it "
        "before the patch tokens) or its position embedding [T, D] (Add it). Wire any tensor of the batch "
        "into x to repeat it over the batch; unwired, its batch size is 1.",
        build=_build,
        inputs=(Port("x", doc="any tensor whose batch size N to take (optional)", optional=True),),
        params=(
            Param("shape", "ints", (1, 16), min=1, max=65536, doc="Shape without the batch dimension."),
            Param("fill", "choice", "zeros", choices=("zeros", "normal", "ones"), doc="Initial values."),
            Param("std", "float", 0.02, min=0.0, max=10.0, doc="Standard deviation of the normal fill."),
        ),
        formula="y[n] = W for every example n  (W learned)",
        key_params=("shape",),
        id_prefix="param",
    ),
]
