"""Probes: what the editor's plots show while a network trains.

Every N steps, on a fixed probe batch in evaluation mode, :class:`Prober`
runs ``compiled.taps`` (every node's output) and reads the gradients left by
the training step that just ran. Its payload, a :class:`~graphedit.training.payloads.ProbePayload`
(plain numpy arrays and floats):

* ``activations``: per node, mean, std, fraction of exact zeros, min, max and
  a histogram (``hist`` counts over ``edges``) — the notes' per-layer
  activation histograms (lesson 4), counted on an evenly strided sample of large outputs; inside block
  nodes per inner node of every copy (``layer1/conv1``, ``layer1[1]/conv1``: see ``compiled.taps``);
* ``gradients``: per node with weights, the gradient norm and weight norm
  (parameters are named ``<node id>.<name>`` in ``compiled.root``); ``inner_gradients`` the same for the
  inner nodes of every copy of each block node (``layer1/conv1``, ``layer1[1]/conv1``), so the canvas
  colours the wires inside an open block;
* ``regions`` (1-D and 2-D inputs): every 2-D node output on a grid over the
  data, ``[units, G, G]`` — decision regions of the network and of each
  hidden unit (lesson 2), with ``grid`` giving the extent (``dims`` 2); for
  1-D inputs ``[units, 4G]`` along the x axis — the fitted curve (lesson 15);
* ``feature_maps``: per Conv2d node, its output on the first probe sample
  ``[C, H, W]``; ``filters``: the first Conv2d's weights ``[F, C, k, k]``;
* ``predictions``, ``reconstructions``, ``samples``, ``points`` and ``latent``: what the
  network makes of a few probe samples (see :mod:`graphedit.training.probe_extras`).

``probe_every = 0`` (the default) sets the interval from measured times so
the probes so far, the first included, take about 1% of the run's time so far; the first probe runs at
step 1, and one more at the end. The budget covers all the live views' work in the loop: the trainer
charges (:meth:`Prober.charge`) the per-epoch confusion matrix and the time its observers take to take
each probe's payload, so a run of many tiny epochs probes less often instead of paying more.
Confusion matrices are computed once per epoch, counted during the validation pass (:class:`Confusion`).
No hook stays on the network between probes: a probe runs ``compiled.taps``, which returns every output.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import fx, nn

from graphedit.compiler.block_modules import copies, inner_parameters
from graphedit.training import probe_extras
from graphedit.training.payloads import ActivationStats, GradientStats, ProbePayload, Regions
from graphedit.training.probe_stats import activation_stats

if TYPE_CHECKING:
    from graphedit.training.datasets import Split
    from graphedit.training.trainer import Trainer

MAX_FEATURE_MAPS = 16
MAX_REGION_UNITS = 32
AUTO_BUDGET = 0.01  # share of the run's time the live views' work may take with probe_every = 0 (plus a final probe)
AUTO_MIN_INTERVAL = 10


class Prober:
    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer
        s = trainer.settings
        self.fixed = s.probe_every if s.probe_every > 0 else None
        self.next_step = 1
        self.probe_seconds = 0.0
        self.probes = 0
        self.last_step = 0
        source = trainer.val_split if trainer.val_split is not None else trainer.train_split
        X, y = next(iter(source.batches(s.probe_batch, device=trainer.device)))
        self.kwargs = trainer.binding.kwargs(X, y)
        self.X, self.y = X, y
        self.pred_key = probe_extras.prediction_key(trainer.compiled)
        named = isinstance(X, dict)  # several inputs: the views that show one input's examples stay empty
        self.grid_kwargs, self.grid = self._grid(X) if not named else (None, None)
        self.conv_ids = [n for n in trainer.compiled.order if isinstance(getattr(trainer.root, n, None), nn.Conv2d)]
        skip = set(trainer.compiled.input_ids + trainer.compiled.target_ids)
        skip |= set(trainer.compiled.loss_ids + trainer.compiled.metric_ids)
        self.skip = skip
        self.inner_params = block_parameters(trainer.compiled)
        self.points = probe_extras.training_points(trainer.train_split) if self.grid is not None else None
        self.latent = (
            None
            if named
            else probe_extras.Latent.build(trainer.compiled, source, trainer.binding.input_id, trainer.device)
        )

    def due(self, step: int) -> bool:
        return step >= self.next_step

    def charge(self, seconds: float) -> None:
        """Count probe work done outside :meth:`run` (confusion matrices, observers taking a payload) in the
        automatic budget: the next periodic probe comes later by as much as it needs."""
        self.probe_seconds += seconds

    def run(self, step: int, epoch_seconds: float) -> ProbePayload:
        t0 = time.perf_counter()
        payload = self.collect(step)
        self.last_step = step
        spent = time.perf_counter() - t0
        self.probe_seconds += spent
        self.probes += 1
        if self.fixed is not None:
            self.next_step = step + self.fixed
        else:
            # the next probe comes when all probes so far and one more fit in AUTO_BUDGET of the training time by
            # then (the first probe, which warms up, included): cheap probes come often, dear ones seldom
            t = self.trainer
            started = getattr(t, "fit_started", None)
            if started is None:  # fit() not running (a probe asked for directly): this epoch's pace
                started, first = time.perf_counter() - epoch_seconds, step - self._done_this_epoch(step)
            else:
                first = t.fit_start_step
            training = max(time.perf_counter() - started - self.probe_seconds, 1e-6)
            step_time = training / max(1, step - first)
            needed = (self.probe_seconds + spent) / AUTO_BUDGET - training
            self.next_step = step + max(AUTO_MIN_INTERVAL, math.ceil(needed / step_time))
        payload["seconds"] = spent
        return payload

    def _done_this_epoch(self, step: int) -> int:
        return max(1, step - (self.trainer.epoch - 1) * self._steps_per_epoch())

    def _steps_per_epoch(self) -> int:
        n, b = len(self.trainer.train_split), self.trainer.settings.batch_size
        return max(1, math.ceil(n / b))

    @torch.no_grad()
    def collect(self, step: int) -> ProbePayload:
        t = self.trainer
        was_training = t.root.training
        t.set_mode(False)
        try:
            taps = t.compiled.taps(**self.kwargs)
            gradients, inner_gradients = self._gradients()
            payload: ProbePayload = {
                "kind": "probe",
                "step": step,
                "epoch": t.epoch,
                "activations": self._activations(taps),
                "gradients": gradients,
            }
            if inner_gradients:
                payload["inner_gradients"] = inner_gradients
            if self.conv_ids:
                payload["feature_maps"] = {
                    n: taps[n][0, :MAX_FEATURE_MAPS].float().cpu().numpy() for n in self.conv_ids if n in taps
                }
                payload["filters"] = {self.conv_ids[0]: getattr(t.root, self.conv_ids[0]).weight.float().cpu().numpy()}
            if self.grid_kwargs is not None:
                payload["regions"] = self._regions()
                if self.points is not None:
                    payload["points"] = self.points
            self._extras(payload, taps, step)
        finally:
            t.set_mode(was_training)
        return payload

    def _extras(self, payload: ProbePayload, taps: dict[str, Any], step: int) -> None:
        t, info = self.trainer, self.trainer.data.info
        if isinstance(self.X, dict):
            return
        extras = {
            "predictions": probe_extras.predictions(taps, self.pred_key, self.X, self.y, info),
            "reconstructions": probe_extras.reconstructions(taps, self.pred_key, self.X, self.y, info),
        }
        if info.task == "sequence" and info.vocab:
            extras["samples"] = probe_extras.sample_text(t.compiled.model, self.X, info.vocab, t.settings.seed + step)
        if self.latent is not None:
            extras["latent"] = self.latent.collect()
        payload.update({k: v for k, v in extras.items() if v is not None})

    def _activations(self, taps: dict[str, torch.Tensor]) -> dict[str, ActivationStats]:
        chosen = [
            (n, v) for n, v in taps.items() if n not in self.skip and isinstance(v, torch.Tensor) and v.dim() >= 1
        ]
        chosen = [(n, v.detach().float().flatten()) for n, v in chosen if v.is_floating_point() and v.numel() > 0]
        return activation_stats(chosen)

    def _gradients(self) -> tuple[dict[str, GradientStats], dict[str, GradientStats]]:
        """Gradient and weight norms per node with weights, and per inner node of every block copy (by probe key)."""
        grads: dict[str, list[torch.Tensor]] = {}
        weights: dict[str, list[torch.Tensor]] = {}
        squares: dict[int, tuple[torch.Tensor, torch.Tensor | None]] = {}
        for name, p in self.trainer.root.named_parameters():
            node_id = name.split(".", 1)[0]
            w2 = p.detach().float().pow(2).sum()
            g2 = p.grad.detach().float().pow(2).sum() if p.grad is not None else None
            squares[id(p)] = (w2, g2)
            weights.setdefault(node_id, []).append(w2)
            if g2 is not None:
                grads.setdefault(node_id, []).append(g2)
        top = set(weights) | {k for k in self.inner_params if "/" not in k}
        for key, params in self.inner_params.items():  # sums of the squares above: no second pass over weights
            found = [squares[id(p)] for p in params if id(p) in squares]
            if found:
                weights[key] = [w2 for w2, _ in found]
                inner_grads = [g2 for _, g2 in found if g2 is not None]
                if inner_grads:
                    grads[key] = inner_grads
        if not weights:
            return {}, {}
        ids = list(weights)
        w = torch.stack([torch.stack(weights[n]).sum() for n in ids]).sqrt().tolist()
        zero = torch.zeros((), device=self.trainer.device)
        g = torch.stack([torch.stack(grads[n]).sum() if n in grads else zero for n in ids]).sqrt().tolist()
        stats: dict[str, GradientStats] = {n: {"grad_norm": gi, "weight_norm": wi} for n, gi, wi in zip(ids, g, w)}
        return {n: v for n, v in stats.items() if n in top}, {n: v for n, v in stats.items() if n not in top}

    def _grid(self, X: torch.Tensor) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        t = self.trainer
        dims = tuple(t.data.info.feature_shape)
        if dims not in ((1,), (2,)) or not X.is_floating_point():
            return None, None
        train = t.train_split
        sample = train.X if hasattr(train, "X") else X
        lo = sample.min(0).values.float().cpu()
        hi = sample.max(0).values.float().cpu()
        pad = (hi - lo) * 0.1 + 1e-3
        lo, hi = lo - pad, hi + pad
        g = t.settings.grid
        xs = torch.linspace(float(lo[0]), float(hi[0]), g if dims == (2,) else 4 * g)
        extent: dict[str, Any] = {"x": [float(lo[0]), float(hi[0])], "size": len(xs), "dims": dims[0]}
        if dims == (2,):
            ys = torch.linspace(float(lo[1]), float(hi[1]), g)
            yy, xx = torch.meshgrid(ys, xs, indexing="ij")
            points = torch.stack([xx.flatten(), yy.flatten()], 1).to(t.device, X.dtype)
            extent["y"] = [float(lo[1]), float(hi[1])]
        else:  # 1-D inputs: the network's output along the x axis (the notes' regression figure)
            points = xs[:, None].to(t.device, X.dtype)
        kwargs: dict[str, Any] = {t.binding.input_id: points}
        if t.binding.target_id is not None:
            shape, dtype = t.compiled.input_specs[t.binding.target_id]
            kwargs[t.binding.target_id] = torch.zeros(
                (len(points), *shape), dtype=getattr(torch, dtype), device=t.device
            )
        return kwargs, extent

    def _regions(self) -> Regions:
        g = self.grid["size"]  # type: ignore[index]
        plane = (g, g) if self.grid["dims"] == 2 else (g,)  # type: ignore[index]
        try:
            taps = self.trainer.compiled.taps(**self.grid_kwargs)
        except Exception:  # a loss may reject the dummy targets; the regions are a bonus
            return {}
        maps = {}
        for node_id, v in taps.items():
            if node_id in self.skip or not isinstance(v, torch.Tensor) or v.dim() != 2:
                continue
            if v.shape[0] != math.prod(plane) or v.shape[1] > MAX_REGION_UNITS or not v.is_floating_point():
                continue
            maps[node_id] = v.T.reshape(v.shape[1], *plane).float().cpu().numpy()
        outputs = list(self.trainer.compiled.output_ids)
        return {"grid": self.grid, "maps": maps, "outputs": outputs, "prediction": self.pred_key}


def block_parameters(compiled: Any) -> dict[str, list[nn.Parameter]]:
    """The weights of every inner node of every block copy, by probe key (``layer1[1]/conv1``): each block node's
    module is the one its call in the model runs (a block node sharing another's weights runs that one's, and
    names them under its own id too)."""
    out: dict[str, list[nn.Parameter]] = {}
    for node in compiled.taps.graph.nodes:
        node_id = node.meta.get("graphedit_id")
        if node.op != "call_module" or node_id is None:
            continue
        module = compiled.taps.get_submodule(node.target)
        if copies(module):
            out.update(inner_parameters(module, node_id))
            if node.target != node_id:
                out[node_id] = list(module.parameters())
    return out


def _counts(pred: torch.Tensor, y: torch.Tensor, num_classes: int) -> torch.Tensor | None:
    """Confusion counts of one batch (flattened true × predicted), or ``None`` if the shapes do not fit."""
    if isinstance(pred, tuple):
        pred = pred[0]
    if pred.dim() == 2 and pred.shape[1] == num_classes:
        cls = pred.argmax(1)
    elif pred.dim() <= 2 and pred.reshape(len(pred), -1).shape[1] == 1 and num_classes == 2:
        cls = (pred.reshape(-1) > 0).long()
    else:
        return None
    if y.is_floating_point():
        true = (y.reshape(-1) > 0.5).long() if y.dim() <= 1 or y.shape[-1] == 1 else y.argmax(-1)
    else:
        true = y.reshape(-1)
    if true.shape != cls.shape:
        return None
    return torch.bincount(true * num_classes + cls, minlength=num_classes * num_classes)


def prediction_module(compiled: Any) -> nn.Module | None:
    """The layer whose output the model returns (first output), if it is a layer and not a function."""
    out = next(n for n in compiled.model.graph.nodes if n.op == "output")
    arg = out.args[0]
    if isinstance(arg, (tuple, list)):
        arg = arg[0]
    if isinstance(arg, fx.Node) and arg.op == "call_module":
        return compiled.model.get_submodule(arg.target)
    return None


class Confusion:
    """Collects a confusion matrix during the validation pass (a forward hook on the prediction layer),
    so it costs no extra forward pass. Use as a context manager around the pass; call :meth:`add`
    with each batch's targets after its forward."""

    def __init__(self, module: nn.Module, num_classes: int) -> None:
        self.module, self.num_classes = module, num_classes
        self.total: torch.Tensor | None = None
        self.ok = True
        self.seconds = 0.0  # spent counting (the trainer charges it to the probes' budget)
        self._last: torch.Tensor | None = None

    def __enter__(self) -> Confusion:
        self._handle = self.module.register_forward_hook(self._hook)
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.remove()

    def _hook(self, module: nn.Module, args: tuple, output: torch.Tensor) -> None:
        self._last = output.detach()

    def add(self, y: torch.Tensor | None) -> None:
        t0 = time.perf_counter()
        counts = None if y is None or self._last is None else _counts(self._last, y, self.num_classes)
        self._last = None
        if counts is None:
            self.ok = False
        elif self.ok:
            self.total = counts if self.total is None else self.total + counts
        self.seconds += time.perf_counter() - t0

    def matrix(self) -> np.ndarray | None:
        if not self.ok or self.total is None:
            return None
        return self.total.reshape(self.num_classes, self.num_classes).cpu().numpy()


@torch.no_grad()
def confusion_matrix(trainer: Trainer, split: Split, num_classes: int, limit: int = 2048) -> np.ndarray | None:
    """Rows: true class, columns: predicted class, over (up to ``limit`` samples of) a split, in eval mode."""
    model = trainer.compiled.model
    was_training = trainer.root.training
    trainer.set_mode(False)
    total = torch.zeros(num_classes * num_classes, dtype=torch.long, device=trainer.device)
    seen = 0
    try:
        size = max(512, trainer.settings.batch_size)
        for X, y in split.batches(size, device=None if split.in_memory else trainer.device):
            counts = None if y is None else _counts(model(X), y, num_classes)
            if counts is None:
                return None
            total += counts
            seen += len(X)
            if seen >= limit:
                break
    finally:
        trainer.set_mode(was_training)
    return total.reshape(num_classes, num_classes).cpu().numpy()
