"""The loss landscape the optimiser walked: the line from the initial to the trained weights, and a 2-D slice.

* :func:`loss_line`: the loss at ``θ(t) = θ₀ + t·(θ₁ − θ₀)`` for ``t`` from 0 (initial) to 1 (trained) and a
  little beyond, as in Goodfellow et al. (2015);
* :func:`loss_surface`: the loss at ``θ₁ + a·δ + b·η`` on a grid, with ``δ`` and ``η`` random directions
  normalised filter by filter to the weights' own norms, and biases and normalisation parameters left
  still (Li et al., 2018, "Visualizing the Loss Landscape of Neural Nets"); weight snapshots taken
  during training can be projected onto the plane (:func:`project_path`).

The initial weights are rebuilt from the run's seed (:func:`initial_state`), which gives exactly the
weights the run started from. Each evaluation runs on a fixed subset in evaluation mode; ``progress``
is called after each point and may return ``False`` to cancel (the result then holds what was done).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

Progress = Callable[[int, int], bool | None]


def initial_state(document: Any, seed: int) -> dict[str, torch.Tensor]:
    """The weights a run with this seed started from (compiled again, as the trainer compiles)."""
    from graphedit.compiler import compile_graph

    return {
        k: v.detach().clone() for k, v in compile_graph(document, device="cpu", seed=seed).root.state_dict().items()
    }


@torch.no_grad()
def _loss(compiled: Any, batches: list[dict[str, torch.Tensor]]) -> float:
    total, count = 0.0, 0
    for feed in batches:
        n = next(iter(feed.values())).shape[0]
        total += float(compiled.objective(**feed)["loss"]) * n
        count += n
    return total / max(count, 1)


def _directions_ok(state: dict[str, torch.Tensor]) -> list[str]:
    """The tensors a direction moves: weights of two or more dimensions (filters), as Li et al. do."""
    return [k for k, v in state.items() if v.is_floating_point() and v.dim() >= 2]


def filter_normalized_direction(state: dict[str, torch.Tensor], generator: torch.Generator) -> dict[str, torch.Tensor]:
    """A random direction with each filter (row of a weight) scaled to the norm of the same filter of the weights."""
    out = {}
    for key in _directions_ok(state):
        weight = state[key]
        d = torch.randn(weight.shape, generator=generator, dtype=weight.dtype)
        w_norm = weight.flatten(1).norm(dim=1).view(-1, *[1] * (weight.dim() - 1))
        d_norm = d.flatten(1).norm(dim=1).view(-1, *[1] * (weight.dim() - 1)).clamp_min(1e-12)
        out[key] = d * (w_norm / d_norm)
    return out


@dataclass
class Line:
    t: list[float]
    loss: list[float]


def loss_line(
    compiled: Any,
    start: dict[str, torch.Tensor],
    end: dict[str, torch.Tensor],
    batches: list[dict[str, torch.Tensor]],
    points: int = 21,
    beyond: float = 0.25,
    progress: Progress | None = None,
) -> Line:
    """The loss along the straight line from ``start`` (t = 0) to ``end`` (t = 1), ``beyond`` further on each side."""
    ts = torch.linspace(-beyond, 1 + beyond, points).tolist() if beyond else torch.linspace(0, 1, points).tolist()
    line = Line([], [])
    with _Weights(compiled) as weights:
        for i, t in enumerate(ts):
            weights.set(
                {k: start[k] + t * (end[k] - start[k]) if start[k].is_floating_point() else end[k] for k in end}
            )
            line.t.append(float(t))
            line.loss.append(_loss(compiled, batches))
            if progress is not None and progress(i + 1, len(ts)) is False:
                break
    return line


@dataclass
class Surface:
    a: list[float]
    b: list[float]
    loss: list[list[float]]  # loss[i][j] at (a[i], b[j])
    directions: tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]


def loss_surface(
    compiled: Any,
    center: dict[str, torch.Tensor],
    batches: list[dict[str, torch.Tensor]],
    size: int = 11,
    span: float = 1.0,
    seed: int = 0,
    progress: Progress | None = None,
) -> Surface:
    """The loss on a ``size × size`` grid in [−span, span]² around ``center`` along two filter-normalised directions."""
    generator = torch.Generator().manual_seed(seed)
    delta = filter_normalized_direction(center, generator)
    eta = filter_normalized_direction(center, generator)
    axis = torch.linspace(-span, span, size).tolist()
    grid = [[float("nan")] * size for _ in range(size)]
    with _Weights(compiled) as weights:
        done = 0
        for i, a in enumerate(axis):
            for j, b in enumerate(axis):
                moved = {k: v + a * delta[k] + b * eta[k] if k in delta else v for k, v in center.items()}
                weights.set(moved)
                grid[i][j] = _loss(compiled, batches)
                done += 1
                if progress is not None and progress(done, size * size) is False:
                    return Surface(axis, axis, grid, (delta, eta))
    return Surface(axis, axis, grid, (delta, eta))


def project_path(
    snapshots: list[dict[str, torch.Tensor]], center: dict[str, torch.Tensor], surface: Surface
) -> list[tuple[float, float]]:
    """Each snapshot's coordinates (a, b) in the surface's plane: least squares on the moved tensors."""
    delta, eta = surface.directions
    keys = list(delta)
    basis = torch.stack([torch.cat([delta[k].flatten() for k in keys]), torch.cat([eta[k].flatten() for k in keys])], 1)
    out = []
    for snap in snapshots:
        offset = torch.cat([(snap[k] - center[k]).flatten() for k in keys])
        solution = torch.linalg.lstsq(basis, offset.unsqueeze(1)).solution.flatten()
        out.append((float(solution[0]), float(solution[1])))
    return out


class _Weights:
    """Lets a computation set the model's weights, in evaluation mode, and puts them and the mode back after."""

    def __init__(self, compiled: Any) -> None:
        self.compiled = compiled
        self.root = compiled.root

    def __enter__(self) -> _Weights:
        self.saved = {k: v.detach().clone() for k, v in self.root.state_dict().items()}
        self.modes = [m.training for m in (self.root, self.compiled.objective)]
        self.root.eval()
        self.compiled.objective.eval()
        return self

    def set(self, state: dict[str, torch.Tensor]) -> None:
        self.root.load_state_dict(state)

    def __exit__(self, *exc: Any) -> None:
        self.root.load_state_dict(self.saved)
        for module, mode in zip((self.root, self.compiled.objective), self.modes):
            module.train(mode)
