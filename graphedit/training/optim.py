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


def freeze(root: nn.Module, frozen_ids: list[str]) -> set[int]:
    """Stop the frozen nodes' weights from learning; the ``id()`` of every module to keep in evaluation mode.

    A frozen node's parameters get ``requires_grad = False`` (no gradient is computed for them, and the
    optimiser never sees them), and its modules stay in evaluation mode while the rest trains, so its
    batch-norm running statistics are kept and its dropout is off: the node computes what it computed before.
    A node inside a block is named by its module path (``layer1.0.conv1``).
    """
    keep: set[int] = set()
    for node_id in frozen_ids:
        module = root._modules.get(node_id)
        if module is None and "." in node_id:
            try:
                module = root.get_submodule(node_id)
            except AttributeError:
                module = None
        if module is not None:
            module.requires_grad_(False)
            keep.update(id(m) for m in module.modules())
    return keep


def _scale_of(name: str, scales: dict[str, float]) -> float:
    """The multiplier of the longest module path in ``scales`` that holds parameter ``name`` (a node inside a block
    is named by its path, ``layer1.0.conv1``; a top-level node by its id)."""
    parts = name.split(".")
    for end in range(len(parts) - 1, 0, -1):
        path = ".".join(parts[:end])
        if path in scales:
            return scales[path]
    return 1.0


def param_groups(root: nn.Module, lr: float, lr_scales: dict[str, float] | None = None) -> list[dict]:
    """The trainable parameters in groups by learning rate: ``lr`` times the node's ``lr_scale`` (first: 1); inside a
    block, the inner node's times the block node's."""
    groups: dict[float, list[nn.Parameter]] = {}
    scales = lr_scales or {}
    for name, p in root.named_parameters():
        if p.requires_grad:
            groups.setdefault(_scale_of(name, scales), []).append(p)
    order = sorted(groups, key=lambda scale: (scale != 1.0, scale))  # group 0 carries the run's reported lr
    return [{"params": groups[scale], "lr": lr * scale, "lr_scale": scale} for scale in order]


def make_optimizer(
    settings: TrainSettings, root: nn.Module, lr_scales: dict[str, float] | None = None
) -> torch.optim.Optimizer:
    s = settings
    if s.optimizer == "perceptron":
        return PerceptronRule(perceptron_layer(root), s.lr)
    groups = param_groups(root, s.lr, lr_scales)
    if not groups:
        if any(True for _ in root.parameters()):
            raise TrainingError(
                "every layer with weights is frozen, so there is nothing to train. Fix: unfreeze a node "
                "(Inspector ▸ Frozen), e.g. the new head of a pretrained network."
            )
        raise TrainingError("the graph has no trainable weights. Fix: add a layer with weights such as Dense.")
    params = groups
    # torch updates CPU tensors one by one in Python unless asked for its multi-tensor kernels (the default on
    # GPUs): those took 15-25 % off an Adam step of a small MLP, about a tenth of its training step
    foreach = True if groups[0]["params"][0].device.type == "cpu" else None
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
    """A per-epoch schedule: constant, step (× gamma every step_size epochs) or cosine down to 0.

    With ``warmup_epochs`` N the learning rate first rises linearly from lr / (N + 1) to lr over N epochs, and the
    schedule runs after them (a cosine over the epochs that are left).
    """
    s = settings
    warmup = s.warmup_epochs
    main = None
    if s.schedule == "step":
        size = s.step_size or max(1, math.ceil((s.epochs - warmup) / 3))
        main = torch.optim.lr_scheduler.StepLR(optimizer, step_size=size, gamma=s.gamma)
    elif s.schedule == "cosine":
        main = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, s.epochs - warmup))
    if not warmup:
        return main
    rise = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1 / (warmup + 1), total_iters=warmup)
    if main is None:  # after its N epochs the rise holds lr
        return rise
    return torch.optim.lr_scheduler.SequentialLR(optimizer, [rise, main], milestones=[warmup])
