"""Optimizers and learning-rate schedules, including the perceptron learning rule (lesson 3)."""

from __future__ import annotations

import math

import torch
from torch import nn

from graphedit.errors import TrainingError
from graphedit.training.settings import TrainSettings


class PerceptronRule(torch.optim.Optimizer):
    """Rosenblatt's rule for the Dense layer feeding a Step: w += lr·(t − y)·x, b += lr·(t − y).

    There is no gradient (the step function has none): the trainer computes
    the prediction ``y`` and calls :meth:`update` with the layer's input ``x``
    and the target ``t``. Over a batch the updates are averaged, so batch size
    1 is the textbook online rule.
    """

    def __init__(self, linear: nn.Linear, lr: float) -> None:
        super().__init__(list(linear.parameters()), {"lr": lr})
        self.linear = linear

    @torch.no_grad()
    def update(self, x: torch.Tensor, prediction: torch.Tensor, target: torch.Tensor) -> None:
        n = x.shape[0]
        error = (target.reshape(prediction.shape).to(prediction.dtype) - prediction).reshape(n, -1)
        lr = self.param_groups[0]["lr"]
        self.linear.weight.add_(error.T @ x.reshape(n, -1).to(error.dtype), alpha=lr / n)
        if self.linear.bias is not None:
            self.linear.bias.add_(error.mean(0), alpha=lr)

    def step(self, closure=None):  # noqa: ANN001, ANN201  (the update happens in update())
        return None


def perceptron_layer(root: nn.Module) -> nn.Linear:
    linears = [(name, m) for name, m in root.named_modules() if isinstance(m, nn.Linear)]
    if len(linears) != 1:
        names = ", ".join(name for name, _ in linears) or "none"
        raise TrainingError(
            f"the perceptron rule trains one Dense layer feeding a Step, but this graph has {len(linears)} "
            f"Dense layers ({names}). Fix: use Input → Dense → Step → Output, or choose another optimizer."
        )
    return linears[0][1]


def make_optimizer(settings: TrainSettings, root: nn.Module) -> torch.optim.Optimizer:
    s = settings
    if s.optimizer == "perceptron":
        return PerceptronRule(perceptron_layer(root), s.lr)
    params = [p for p in root.parameters() if p.requires_grad]
    if not params:
        raise TrainingError("the graph has no trainable weights. Fix: add a layer with weights such as Dense.")
    # torch updates CPU tensors one by one in Python unless asked for its multi-tensor kernels (the default on
    # GPUs): those took 15-25 % off an Adam step of a small MLP, about a tenth of its training step
    foreach = True if params[0].device.type == "cpu" else None
    if s.optimizer == "sgd":
        nesterov = s.nesterov and s.momentum > 0
        return torch.optim.SGD(
            params, lr=s.lr, momentum=s.momentum, nesterov=nesterov, weight_decay=s.weight_decay, foreach=foreach
        )
    if s.optimizer == "adam":
        return torch.optim.Adam(params, lr=s.lr, weight_decay=s.weight_decay, foreach=foreach)
    if s.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=s.lr, weight_decay=s.weight_decay, foreach=foreach)
    if s.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=s.lr, momentum=s.momentum, weight_decay=s.weight_decay, foreach=foreach)
    raise TrainingError(f"unknown optimizer '{s.optimizer}'.")


def make_scheduler(settings: TrainSettings, optimizer: torch.optim.Optimizer):  # noqa: ANN201
    """A per-epoch schedule: constant, step (× gamma every step_size epochs) or cosine down to 0."""
    s = settings
    if s.schedule == "step":
        size = s.step_size or max(1, math.ceil(s.epochs / 3))
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=size, gamma=s.gamma)
    if s.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, s.epochs))
    return None
