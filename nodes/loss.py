"""Loss nodes: each returns an unweighted scalar mean loss; the compiler multiplies by ``weight`` and sums."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from graphedit.errors import NodeError
from graphedit.nodes._common import Check, require_same
from graphedit.nodes.spec import Call, NodeType, Param, Port, Shape, shape_text

WEIGHT = Param(
    "weight", "float", 1.0, min=0.0, doc="Factor of this loss in the total objective (several losses add up)."
)
PRED_TARGET = (Port("pred", doc="the network's output"), Port("target", doc="the desired output"))


def _align(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Let a single-output [N, 1] pred meet an [N] target, and make the target float."""
    if pred.dim() == target.dim() + 1 and pred.shape[-1] == 1:
        pred = pred.squeeze(-1)
    return pred, target.to(pred.dtype)


def softmax_cross_entropy(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over examples of −log softmax(pred) at the target class (F.cross_entropy)."""
    if target.shape == pred.shape:
        if not target.is_floating_point():
            raise NodeError(
                None,
                f"SoftmaxCrossEntropy got an integer target shaped like pred {shape_text(pred.shape)}",
                fix="give class indices [N] (Target dtype int64, shape [1]) or float class probabilities",
            )
        return F.cross_entropy(pred, target)
    if target.is_floating_point():
        raise NodeError(
            None,
            f"SoftmaxCrossEntropy needs integer class indices as target, but gets a float {shape_text(target.shape)}",
            fix="set the Target's dtype to int64 (class indices 0 … C−1)",
        )
    return F.cross_entropy(pred, target)


def binary_cross_entropy(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy of logits; sigmoid included."""
    pred, target = _align(pred, target)
    return F.binary_cross_entropy_with_logits(pred, target)


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean of (y − t)² over all elements."""
    pred, target = _align(pred, target)
    return F.mse_loss(pred, target)


def sse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Sum of squared errors over each example's outputs, averaged over the minibatch."""
    pred, target = _align(pred, target)
    return (pred - target).pow(2).sum() / pred.shape[0]


def l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean of |y − t| over all elements."""
    pred, target = _align(pred, target)
    return F.l1_loss(pred, target)


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, σ²) ‖ N(0, I)) summed over latent dimensions, mean over the batch."""
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())
    return kl.flatten(1).sum(dim=1).mean()


def _check_ce(params: dict[str, Any], shapes: list[Shape | None]) -> None:
    pred, target = shapes
    if pred is None:
        return
    if len(pred) < 2 or pred[1] < 2:
        raise NodeError(
            None,
            f"SoftmaxCrossEntropy needs one score per class, [N, C] with C ≥ 2, but pred is {shape_text(pred)}",
            fix="give the last Dense one unit per class, or use BinaryCrossEntropy for a single output",
        )
    if target is None:
        return
    want = (pred[0], *pred[2:])
    if tuple(target) not in (want, tuple(pred)):
        fix = "give class indices of shape " + shape_text(want)
        if len(target) == len(pred) and target[1] == 1:
            fix = "set the Target's dtype to int64 with shape [1], so it holds class indices [N]"
        raise NodeError(
            None,
            f"SoftmaxCrossEntropy: target {shape_text(target)} does not fit pred {shape_text(pred)}",
            fix=f"{fix} (or class probabilities shaped like pred)",
        )


def _check_pair(title: str) -> Check:
    def check(params: dict[str, Any], shapes: list[Shape | None]) -> None:
        pred, target = shapes
        if pred is None or target is None:
            return
        if len(pred) == len(target) + 1 and pred[-1] == 1 and tuple(pred[:-1]) == tuple(target):
            return
        if tuple(pred) != tuple(target):
            raise NodeError(
                None,
                f"{title}: pred {shape_text(pred)} and target {shape_text(target)} differ",
                fix="give the Target the shape of the prediction (set its shape parameter), "
                "or change the last layer's units/filters to match",
            )

    return check


def _loss(
    type_id: str,
    doc: str,
    formula: str,
    fn: Callable[..., torch.Tensor],
    check: Check,
    inputs: tuple[Port, ...] = PRED_TARGET,
    **kw: Any,
) -> NodeType:
    return NodeType(
        type_id,
        type_id,
        "loss",
        doc,
        build=lambda params, shapes: Call(fn),
        inputs=inputs,
        outputs=(Port("loss", doc="scalar mean loss"),),
        params=(WEIGHT,),
        formula=formula,
        role="loss",
        key_params=("weight",),
        check=check,
        **kw,
    )


NODE_TYPES = [
    _loss(
        "SoftmaxCrossEntropy",
        "Softmax cross-entropy for classification: softmax turns the raw scores (logits) into class "
        "probabilities, and the loss is the mean −log probability of the correct class. Feed it logits, "
        "not Softmax output; target: class indices [N] (or [N, H, W] per pixel).",
        "L = −(1/N) Σₙ log softmax(xₙ)[yₙ]",
        softmax_cross_entropy,
        _check_ce,
        id_prefix="ce",
    ),
    _loss(
        "BinaryCrossEntropy",
        "Binary cross-entropy for yes/no targets in [0, 1]: the sigmoid of the logit is the probability of 1. "
        "Feed it logits, not Sigmoid output.",
        "L = −mean[t log σ(x) + (1 − t) log(1 − σ(x))]",
        binary_cross_entropy,
        _check_pair("BinaryCrossEntropy"),
        id_prefix="bce",
    ),
    _loss(
        "MSE",
        "Mean squared error for regression: the average of the squared differences.",
        "L = (1/M) Σᵢ (yᵢ − tᵢ)²",
        mse,
        _check_pair("MSE"),
        id_prefix="mse",
    ),
    _loss(
        "SSE",
        "Sum of squared errors between network outputs and desired outputs (the notes' regression loss), "
        "summed over each example's outputs and averaged over the minibatch; optimal for Gaussian noise.",
        "L = (1/N) Σₙ Σⱼ (yₙⱼ − tₙⱼ)²",
        sse,
        _check_pair("SSE"),
        id_prefix="sse",
    ),
    _loss(
        "L1Loss",
        "Mean absolute error: less sensitive to outliers than squared error.",
        "L = (1/M) Σᵢ |yᵢ − tᵢ|",
        l1,
        _check_pair("L1Loss"),
        id_prefix="l1loss",
    ),
    _loss(
        "KLDivergence",
        "KL divergence of the VAE's code distribution N(μ, σ²) from the prior N(0, I): pulls codes "
        "towards a standard normal so that samples from it decode well.",
        "L = −½ (1/N) Σₙ Σⱼ (1 + log σ²ₙⱼ − μ²ₙⱼ − σ²ₙⱼ)",
        kl_divergence,
        lambda params, shapes: require_same("KLDivergence", shapes[0], shapes[1], "mu and logvar"),
        inputs=(Port("mu", doc="mean μ of the code"), Port("logvar", doc="log variance log σ² of the code")),
        id_prefix="kl",
    ),
]
