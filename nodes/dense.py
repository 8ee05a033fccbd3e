"""Fully connected layers: every output unit sees every input feature."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from graphedit.nodes._common import Check, known, need_rank
from graphedit.nodes.spec import NodeType, Param, Shape, init_param


def _units(default: int = 32) -> Param:
    return Param("units", "int", default, min=1, max=65536, doc="Number of output units (neurons).")


def _check_flat(title: str, ranks: tuple[int, ...] = (2,)) -> Check:
    def check(params: dict[str, Any], shapes: list[Shape | None]) -> None:
        shape = shapes[0]
        if shape is not None and len(shape) < 2:
            need_rank(
                title,
                shape,
                (2,),
                "[N, features]",
                "add a Reshape with shape [1] before it so each example is a feature vector",
            )
        need_rank(title, shape, ranks, "[N, features]", "insert a Flatten before it")

    return check


class Maxout(nn.Module):
    """k linear pieces per unit; the unit outputs the largest: y = max_j (W_j x + b_j)."""

    def __init__(self, in_features: int, units: int, pieces: int) -> None:
        super().__init__()
        self.units = units
        self.pieces = pieces
        self.linear = nn.Linear(in_features, units * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z: torch.Tensor = self.linear(x).view(x.shape[0], self.units, self.pieces)
        return z.amax(dim=2)


def _build_dense(params: dict[str, Any], shapes: list[Shape | None]) -> nn.Module:
    return nn.Linear(known(shapes)[-1], params["units"], bias=params["bias"])


def _build_maxout(params: dict[str, Any], shapes: list[Shape | None]) -> nn.Module:
    return Maxout(known(shapes)[1], params["units"], params["pieces"])


NODE_TYPES = [
    NodeType(
        "Dense",
        "Dense",
        "dense",
        "Fully connected layer: each unit computes a weighted sum of all inputs plus a bias. "
        "Input sizes are inferred from the incoming shape. On a sequence [N, T, F] it acts on each position "
        "alone (a transformer's feed-forward layer, a tagger's output layer).",
        build=_build_dense,
        params=(
            _units(),
            Param("bias", "bool", True, doc="Add a learned bias b to every unit."),
            init_param(),
        ),
        formula="y = W x + b",
        key_params=("units",),
        check=_check_flat("Dense", (2, 3)),
        legacy_ids=("Linear",),
        id_prefix="dense",
    ),
    NodeType(
        "Maxout",
        "Maxout",
        "dense",
        "Maxout: each unit has k linear pieces and outputs the largest, a learned convex activation.",
        build=_build_maxout,
        params=(
            _units(),
            Param("pieces", "int", 2, min=2, max=16, doc="Number k of linear pieces per unit."),
            init_param(),
        ),
        formula="yᵢ = maxⱼ₌₁…ₖ (wᵢⱼᵀ x + bᵢⱼ)",
        key_params=("units", "pieces"),
        check=_check_flat("Maxout"),
        id_prefix="maxout",
    ),
]
