"""Metrics: numbers reported during training that are not optimised."""

from __future__ import annotations

from typing import Any

import torch

from graphedit.errors import NodeError
from graphedit.nodes.spec import Call, NodeType, Port, Shape, shape_text


def accuracy(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Fraction of examples whose predicted class equals the target class."""
    if pred.dim() >= 2 and pred.shape[1] > 1:
        if target.shape == pred.shape:  # one-hot or probabilities
            target = target.argmax(dim=1)
        return (pred.argmax(dim=1) == target).float().mean()
    if pred.dim() >= 2:
        pred = pred.squeeze(1)
    return ((pred > 0) == (target.reshape(pred.shape) > 0.5)).float().mean()


def _check(params: dict[str, Any], shapes: list[Shape | None]) -> None:
    pred, target = shapes
    if pred is None or target is None:
        return
    if len(pred) >= 2 and pred[1] > 1:
        ok = tuple(target) in ((pred[0], *pred[2:]), tuple(pred))
    else:
        squeezed = (pred[0], *pred[2:]) if len(pred) >= 2 else tuple(pred)
        ok = (
            tuple(target) in (squeezed, (*squeezed, 1), tuple(pred)) if len(pred) >= 2 else tuple(target) == tuple(pred)
        )
    if not ok:
        raise NodeError(
            None,
            f"Accuracy: target {shape_text(target)} does not fit pred {shape_text(pred)}",
            fix="connect class indices [N] for [N, C] scores, or one 0/1 label per example for a single logit",
        )


NODE_TYPES = [
    NodeType(
        "Accuracy",
        "Accuracy",
        "metric",
        "Accuracy: the fraction of correctly classified examples. For [N, C] scores the class is the "
        "argmax; for a single logit the prediction is 1 when the logit is > 0.",
        build=lambda params, shapes: Call(accuracy),
        inputs=(Port("pred", doc="class scores (logits)"), Port("target", doc="the true classes")),
        outputs=(Port("value", doc="fraction correct, 0 … 1"),),
        formula="acc = (1/N) Σₙ [argmax ŷₙ = tₙ]",
        role="metric",
        check=_check,
        id_prefix="accuracy",
    ),
]
