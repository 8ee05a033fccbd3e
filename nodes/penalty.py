"""Penalties that regularise: weight decay (L1/L2 of weights) and L1 sparsity of activations."""

from __future__ import annotations

from collections.abc import Callable

import torch

from graphedit.nodes.spec import Call, NodeType, Param, Port

LAM = Param("lam", "float", 1e-4, min=0.0, doc="Strength λ of the penalty.")
OF = Port("of", optional=True, doc="connect a layer's output to penalise only that layer; unconnected: all weights")


def _total(terms: list[torch.Tensor]) -> torch.Tensor:
    if not terms:
        return torch.zeros(())
    return torch.stack(terms).sum()


def l1_penalty(weights: list[torch.Tensor], lam: float) -> torch.Tensor:
    """λ · Σ |w| over the given weight tensors."""
    return lam * _total([w.abs().sum() for w in weights])


def l2_penalty(weights: list[torch.Tensor], lam: float) -> torch.Tensor:
    """λ · Σ w² over the given weight tensors (weight decay)."""
    return lam * _total([w.pow(2).sum() for w in weights])


def activation_l1(x: torch.Tensor) -> torch.Tensor:
    """Mean |x|: pushes activations to exactly zero (sparse codes)."""
    return x.abs().mean()


def _penalty(type_id: str, doc: str, formula: str, fn: Callable[..., torch.Tensor], prefix: str) -> NodeType:
    return NodeType(
        type_id,
        type_id,
        "penalty",
        doc,
        build=lambda params, shapes: Call(fn, {"lam": params["lam"]}, pack=True),
        inputs=(OF,),
        outputs=(Port("loss", doc="scalar penalty"),),
        params=(LAM,),
        formula=formula,
        role="weight_penalty",
        key_params=("lam",),
        id_prefix=prefix,
    )


NODE_TYPES = [
    _penalty(
        "L1WeightPenalty",
        "L1 weight penalty: adds λ Σ|w| to the loss, driving many weights to exactly zero (sparse weights). "
        "Biases are not penalised.",
        "R = λ Σ |w|",
        l1_penalty,
        "l1penalty",
    ),
    _penalty(
        "L2WeightPenalty",
        "L2 weight penalty (weight decay): adds λ Σw² to the loss, keeping weights small so the network "
        "generalises better. Biases are not penalised.",
        "R = λ Σ w²",
        l2_penalty,
        "l2penalty",
    ),
    NodeType(
        "ActivationL1",
        "ActivationL1",
        "penalty",
        "L1 activation sparsity: adds λ · mean|x| of a layer's output to the loss, so few units are active "
        "at once (sparse autoencoders).",
        build=lambda params, shapes: Call(activation_l1),
        inputs=(Port("x", doc="the activations to make sparse"),),
        outputs=(Port("loss", doc="scalar penalty"),),
        params=(Param("weight", "float", 1e-3, min=0.0, doc="λ: strength of the sparsity penalty."),),
        formula="R = λ · mean |x|",
        role="loss",
        key_params=("weight",),
        id_prefix="sparsity",
    ),
]
