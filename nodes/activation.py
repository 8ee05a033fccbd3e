"""Activation functions: the element-wise non-linearities between layers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from graphedit.nodes._common import Build, need_rank
from graphedit.nodes.spec import Call, NodeType, Param, Shape


def identity(x: torch.Tensor) -> torch.Tensor:
    """The linear activation f(x) = x."""
    return x


def step(x: torch.Tensor) -> torch.Tensor:
    """Heaviside step: 1 where x > 0, else 0. No gradient flows through it."""
    return (x > 0).to(x.dtype)


def sigmoid(x: torch.Tensor, beta: float) -> torch.Tensor:
    """Logistic function with steepness β: 1 / (1 + exp(−βx))."""
    return torch.sigmoid(beta * x)


def _call(fn: Callable[..., torch.Tensor], **kwargs: str) -> Build:
    def build(params: dict[str, Any], shapes: list[Shape | None]) -> Call:
        return Call(fn, {k: params[v] for k, v in kwargs.items()})

    return build


def _build_sigmoid(params: dict[str, Any], shapes: list[Shape | None]) -> Call:
    if params["beta"] == 1.0:
        return Call(torch.sigmoid)
    return Call(sigmoid, {"beta": params["beta"]})


def _act(type_id: str, doc: str, formula: str, build: Build, params: tuple[Param, ...] = (), **kw: Any) -> NodeType:
    return NodeType(
        type_id,
        type_id,
        "activation",
        doc,
        build=build,
        params=params,
        formula=formula,
        key_params=tuple(p.name for p in params),
        id_prefix=type_id.lower(),
        **kw,
    )


def _alpha(default: float, doc: str) -> Param:
    return Param("alpha", "float", default, min=0.0, max=100.0, doc=doc)


def _build_prelu(params: dict[str, Any], shapes: list[Shape | None]) -> nn.Module:
    count = 1 if params["shared"] or shapes[0] is None or len(shapes[0]) < 2 else shapes[0][1]
    return nn.PReLU(count, init=params["alpha"])


def _softmax_check(params: dict[str, Any], shapes: list[Shape | None]) -> None:
    need_rank("Softmax", shapes[0], range(2, 9), "[N, classes, ...]", "add a Reshape to [1] or use Sigmoid")


NODE_TYPES = [
    _act(
        "Identity",
        "Linear activation: passes its input through unchanged. A stack of linear layers is still linear.",
        "f(x) = x",
        _call(identity),
    ),
    _act(
        "Step",
        "Perceptron threshold (Heaviside step): 1 if x > 0 else 0. No gradient flows through it, so it "
        "is trained with the perceptron learning rule, not backpropagation.",
        "f(x) = 1 if x > 0 else 0",
        _call(step),
    ),
    _act(
        "Sigmoid",
        "Logistic sigmoid: squashes any number into (0, 1); β sets the steepness (β → ∞ gives the step).",
        "σ(x) = 1 / (1 + e^(−βx))",
        _build_sigmoid,
        (Param("beta", "float", 1.0, min=0.0, max=1000.0, doc="Steepness β."),),
    ),
    _act(
        "Tanh",
        "Hyperbolic tangent: a zero-centred sigmoid with range (−1, 1).",
        "tanh(x) = (eˣ − e⁻ˣ)/(eˣ + e⁻ˣ)",
        _call(torch.tanh),
    ),
    _act(
        "ReLU",
        "Rectified linear unit: passes positive values, zeroes negative ones; cheap and does not saturate for x > 0.",
        "f(x) = max(0, x)",
        _call(torch.relu),
    ),
    _act(
        "LeakyReLU",
        "Leaky ReLU: like ReLU but with a small slope α for x < 0, so units never die completely.",
        "f(x) = x if x > 0 else αx",
        _call(F.leaky_relu, negative_slope="alpha"),
        (_alpha(0.01, "Slope α for negative inputs."),),
    ),
    _act(
        "ELU",
        "Exponential linear unit: smooth for x < 0, saturating at −α, which pushes mean activations towards 0.",
        "f(x) = x if x > 0 else α(eˣ − 1)",
        _call(F.elu, alpha="alpha"),
        (_alpha(1.0, "Saturation value −α for very negative inputs."),),
    ),
    _act(
        "SELU",
        "Scaled ELU: with LeCun init, keeps activations at mean 0, variance 1 through deep nets (self-normalising).",
        "f(x) = λ·(x if x > 0 else α(eˣ − 1)),  λ ≈ 1.0507, α ≈ 1.6733",
        _call(torch.selu),
    ),
    _act(
        "GELU",
        "Gaussian error linear unit: x weighted by the probability that a standard normal is below x.",
        "f(x) = x · Φ(x)",
        _call(F.gelu),
    ),
    _act(
        "ReLU6",
        "ReLU capped at 6: keeps activations small enough for low-precision arithmetic (MobileNet).",
        "f(x) = min(max(0, x), 6)",
        _call(F.relu6),
    ),
    _act(
        "Hardsigmoid",
        "Piecewise-linear sigmoid: cheap to compute, used as the gate of MobileNetV3's squeeze-and-excitation.",
        "f(x) = min(max(0, x/6 + 1/2), 1)",
        _call(F.hardsigmoid),
    ),
    _act(
        "Hardswish",
        "Piecewise-linear swish: x times a hard sigmoid gate (MobileNetV3).",
        "f(x) = x · min(max(0, x + 3), 6) / 6",
        _call(F.hardswish),
    ),
    _act(
        "SiLU",
        "Sigmoid-weighted linear unit (swish): smooth, non-monotonic, lets small negative values through "
        "(EfficientNet).",
        "f(x) = x · σ(x)",
        _call(F.silu),
    ),
    _act(
        "Mish",
        "Mish: a smooth self-gated activation, like SiLU with a softplus inside (YOLOv4).",
        "f(x) = x · tanh(softplus(x))",
        _call(F.mish),
    ),
    _act(
        "Softplus",
        "Softplus: a smooth ReLU, always positive; β sharpens the bend (β → ∞ gives ReLU); above the "
        "threshold it is linear for numerical stability.",
        "f(x) = (1/β) · log(1 + e^(βx))",
        _call(F.softplus, beta="beta", threshold="threshold"),
        (
            Param("beta", "float", 1.0, min=1e-3, max=1000.0, doc="Sharpness β of the bend."),
            Param("threshold", "float", 20.0, min=0.0, max=1000.0, doc="Above βx > threshold f(x) = x."),
        ),
    ),
    _act(
        "PReLU",
        "Parametric ReLU: a leaky ReLU whose negative slope α is learned, shared by all units or one per channel.",
        "f(x) = x if x > 0 else α·x  (α learned)",
        _build_prelu,
        (
            Param("alpha", "float", 0.25, min=0.0, max=1.0, doc="Initial slope α for negative inputs."),
            Param("shared", "bool", True, doc="One α for all channels; off: one α per channel (dim 1)."),
        ),
    ),
    _act(
        "Softmax",
        "Softmax over dim 1 (classes): turns scores into probabilities that sum to 1. For training, feed "
        "the raw scores to SoftmaxCrossEntropy instead, which includes it.",
        "softmax(x)ᵢ = e^(xᵢ) / Σⱼ e^(xⱼ)",
        lambda params, shapes: Call(torch.softmax, {"dim": 1}),
        check=_softmax_check,
    ),
]
