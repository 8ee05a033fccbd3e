"""The training loop: plain PyTorch, no Qt (DESIGN.md decision 6).

In-memory data is moved to the training device once and cut into batches by
``randperm`` indexing; streamed data comes through a ``DataLoader``. The loss
is accumulated on the device and read back (``.item()``, a host sync) only
every ``log_every`` steps on GPUs; on the CPU reading it is free, so every
step's loss is checked and a NaN is caught before the weights are updated,
which lets :func:`locate_nonfinite` name the node where it first appeared. On
GPUs the first ``log_every`` steps are checked too, then every ``log_every``
steps: a NaN that appears later may have spread through the weights by then,
so the node named is where the current batch first goes non-finite.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from contextlib import nullcontext
from typing import Any

import torch

from graphedit.compiler import locate_failure, locate_nonfinite
from graphedit.errors import TrainingError
from graphedit.training.binding import bind
from graphedit.training.checkpoint import TrainerState
from graphedit.training.dataset_types import batch_len, batch_shape
from graphedit.training.datasets import DatasetSplits, Split
from graphedit.training.events import EpochEvent, FailedEvent, FinishedEvent, Observer, ProbeEvent, StepEvent
from graphedit.training.optim import PerceptronRule, freeze, make_optimizer, make_scheduler
from graphedit.training.probes import Confusion, Prober, confusion_matrix, prediction_module
from graphedit.training.settings import TrainSettings, resolve_device
from graphedit.training.threads import channels_last_policy


class Trainer(TrainerState):
    """Train ``compiled`` (from :func:`graphedit.compiler.compile_graph`) on ``data``; call :meth:`fit`."""

    def __init__(
        self,
        compiled: Any,
        data: DatasetSplits,
        settings: TrainSettings | dict[str, Any] | None = None,
        observers: Iterable[Observer] = (),
        probes: bool = True,
        control: Any = None,
        distributed: Any = None,
    ) -> None:
        self.settings = settings if isinstance(settings, TrainSettings) else TrainSettings.from_dict(settings)
        s = self.settings
        if compiled.objective is None:
            raise TrainingError("the graph has no loss node, so there is nothing to minimise. Fix: add a loss node.")
        self.compiled = compiled
        self.data = data
        self.binding = bind(compiled, data.info)
        self.device = resolve_device(s.device)
        compiled.to(self.device)
        self.root = compiled.root
        self.distributed = distributed  # a training.distributed.Distributed: this rank's share of each batch
        self.train_split = self._place(data.train)
        self.val_split = self._place(data.val) if data.val is not None else None
        self.observers = list(observers)
        self.generator = torch.Generator().manual_seed(s.seed)
        self._frozen = freeze(self.root, compiled.frozen_ids)  # modules kept in evaluation mode
        self.optimizer = make_optimizer(s, self.root, compiled.lr_scales)
        self.scheduler = make_scheduler(s, self.optimizer)
        self.step_objective = self._replicated(compiled.objective) if distributed is not None else compiled.objective
        self.channels_last = channels_last_policy(s.channels_last, self.device, self.root)[0]
        if self.channels_last:
            self.root.to(memory_format=torch.channels_last)  # 4-D weights only; the others stay as they are
        self.compile_seconds: float | None = None
        self._compiled_shapes: set[tuple] | None = set() if s.compile else None  # batch shapes compiled for
        if s.compile:
            from graphedit.training.threads import check_compile

            check_compile(self.device)
            self.step_objective = torch.compile(self.step_objective)  # compiled on its first call (the first step)
        # every module once: switching train/eval mode twice an epoch without walking five module trees
        graphs = (self.root, compiled.objective, compiled.taps, compiled.model, self.step_objective)
        self._modules = list({id(m): m for g in graphs if isinstance(g, torch.nn.Module) for m in g.modules()}.values())
        self.amp = bool(s.amp) and self.device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda") if self.amp else None
        self.sync_every = 1 if self.device.type == "cpu" else s.log_every
        self.epoch = 0
        self.fit_started: float | None = None
        self.fit_start_step = 0
        self.step = 0
        self.history: list[dict[str, Any]] = []
        self.best_loss = math.inf
        self.best_epoch = 0
        self.best_state: dict[str, torch.Tensor] | None = None
        self.since_best = 0
        self._stop_requested = False
        self.control = control  # answers wait_if_paused() and should_stop() between steps (the editor's buttons)
        self._seeded = False
        self._perceptron_input: torch.Tensor | None = None
        if isinstance(self.optimizer, PerceptronRule):
            self.optimizer.linear.register_forward_pre_hook(self._capture_input)
        self.prober = Prober(self) if probes and s.probe_every >= 0 else None
        # the layer whose output the confusion matrix counts (prediction_module), looked up on the first epoch
        # that counts one: the graph does not change during a run
        self._prediction: Any = False
        for obs in self.observers:
            attach = getattr(obs, "attach", None)
            if attach is not None:
                attach(self)

    # ------------------------------------------------------------------ public
    def stop(self) -> None:
        """Ask the loop to stop after the current step (from an observer or another thread)."""
        self._stop_requested = True

    def fit(self) -> dict[str, Any]:
        """Train until ``settings.epochs`` (or early stopping); return the summary also sent as FinishedEvent."""
        s = self.settings
        if not self._seeded:
            torch.manual_seed(s.seed)  # dropout and noise layers; resumed runs restore the RNG state instead
            self._seeded = True
        status = "finished"
        started = time.perf_counter()
        self.fit_started, self.fit_start_step = started, self.step  # the automatic probe interval's clock
        samples, compiled_before = 0, self.compile_seconds or 0.0
        try:
            while self.epoch < s.epochs and not self._stop_requested:
                samples += self._train_epoch()
                if self._stop_requested:
                    status = "stopped"
                elif self._early_stop_due():
                    status = "early_stopped"
                    break
        except KeyboardInterrupt:
            status = "interrupted"
        except TrainingError as exc:
            self._emit(FailedEvent(str(exc), exc.node_id))
            raise
        if self._stop_requested and status == "finished":
            status = "stopped"
        if s.early_stopping.get("enabled") and self.best_state is not None:
            self.root.load_state_dict(self.best_state)
        seconds = time.perf_counter() - started
        probing = self.prober.probe_seconds if self.prober is not None else None  # of those seconds
        if self.prober is not None and self.observers and self.step > self.prober.last_step:
            # the live views end on the trained network, not on the last periodic probe
            self._emit(ProbeEvent(self.step, self.prober.run(self.step, seconds)))
        pace = seconds - ((self.compile_seconds or 0.0) - compiled_before)  # less this fit's compiling steps
        summary = self._summary(status, seconds, samples, probing, pace)
        self._emit(FinishedEvent(summary))
        return summary

    @torch.no_grad()
    def evaluate(self, split: Split | None, confusion: Confusion | None = None) -> dict[str, float] | None:
        """Mean loss, unweighted losses and metrics over a split, in evaluation mode.

        With ``confusion`` (see :mod:`graphedit.training.probes`) the same pass also counts
        the confusion matrix.
        """
        if split is None or len(split) == 0:
            return None
        was_training = self.root.training
        self.set_mode(False)
        keys: list[str] = []
        sums: torch.Tensor | None = None  # per key, the batches' values × their sizes, summed: a few ops a batch
        count = 0
        size = max(self.settings.batch_size, 512)
        try:
            for X, y in split.batches(size, device=None if split.in_memory else self.device):
                out = self._forward(X, y)
                if confusion is not None:
                    confusion.add(y)
                n = batch_len(X)
                keys = list(out)
                row = torch.stack([v.detach() for v in out.values()]).float() * n
                sums = row if sums is None else sums + row
                count += n
        finally:
            self.set_mode(was_training)
        values = sums.div(count).tolist() if sums is not None else []
        return dict(zip(keys, values))

    # ------------------------------------------------------------------- steps
    def _train_epoch(self) -> int:
        s = self.settings
        self.epoch += 1
        t0 = time.perf_counter()
        self.set_mode(True)
        keys = ["loss", *self.compiled.loss_ids, *self.compiled.metric_ids]
        values: list[list[torch.Tensor]] = []  # per step, detached: summed once at the end (no per-step op)
        sizes: list[int] = []
        split = self.train_split
        device = None if split.in_memory else self.device
        augment = getattr(self.data, "augment", None)  # training batches only, on the device, whole batch at once
        for X, y in split.batches(s.batch_size, shuffle=True, generator=self.generator, device=device):
            if augment is not None:
                X = augment(X)
            if self.distributed is not None:
                X, y = self.distributed.shard(X, y)
            shapes = self._compiled_shapes
            if shapes is not None and (shape := batch_shape(X)) not in shapes:  # torch.compile (re)compiles for it
                shapes.add(shape)
                t1 = time.perf_counter()
                out = self._train_step(X, y)
                self.compile_seconds = (self.compile_seconds or 0.0) + time.perf_counter() - t1
            else:
                out = self._train_step(X, y)
            values.append([out[k].detach() for k in keys])
            sizes.append(batch_len(X))
            self.step += 1
            if self.step % s.log_every == 0 and self.observers:
                self._emit(StepEvent(self.step, self.epoch, out["loss"].detach().item(), self._floats(out, keys[1:])))
            if self.prober is not None and self.prober.due(self.step):
                self._probe(time.perf_counter() - t0)
            if self.control is not None:
                self.control.wait_if_paused()
                self._stop_requested = self._stop_requested or self.control.should_stop()
            if self._stop_requested:
                break
        count = sum(sizes)
        means = self._epoch_means(values, sizes, len(keys))
        if self.distributed is not None:  # every rank saw an equal share: the mean over ranks is the epoch's
            means, count = self.distributed.mean(means), count * self.distributed.world_size
        train = dict(zip(keys, means))
        if not math.isfinite(train["loss"]):
            self._fail_nonfinite(X, y)
        confusion = self._confusion_collector()
        if confusion is not None:
            with confusion:
                val = self.evaluate(self.val_split, confusion)
        else:
            val = self.evaluate(self.val_split)
        lr = self.optimizer.param_groups[0]["lr"]
        if self.scheduler is not None:
            self.scheduler.step()
        monitored = (val or train)["loss"]
        improved = monitored < self.best_loss
        if improved:
            self.best_loss, self.best_epoch, self.since_best = monitored, self.epoch, 0
            self.best_state = {k: v.detach().clone() for k, v in self.root.state_dict().items()}
        else:
            self.since_best += 1
        self.history.append({"epoch": self.epoch, "train": train, "val": val, "lr": lr})
        if self.prober is not None:
            t1 = time.perf_counter()
            self._emit_confusion(confusion)
            self.prober.charge(time.perf_counter() - t1 + (confusion.seconds if confusion is not None else 0.0))
        seconds = time.perf_counter() - t0
        self._emit(EpochEvent(self.epoch, train, val, lr, seconds, self.step, improved))
        return count

    def _train_step(self, X: torch.Tensor, y: torch.Tensor | None) -> dict[str, torch.Tensor]:
        s = self.settings
        if isinstance(self.optimizer, PerceptronRule):
            return self._perceptron_step(X, y)
        self.optimizer.zero_grad(set_to_none=True)
        out = self._forward(X, y, self.step_objective)
        loss = out["loss"]
        # the first steps are always checked: a broken init or graph is then named exactly, on GPUs too
        check = self.step < self.settings.log_every or (self.step + 1) % self.sync_every == 0
        if check and not math.isfinite(loss.detach().item()):
            self._fail_nonfinite(X, y)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            if s.clip_grad > 0:
                self.scaler.unscale_(self.optimizer)
                torch.nn.utils.clip_grad_norm_(self.root.parameters(), s.clip_grad)
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            if s.clip_grad > 0:
                torch.nn.utils.clip_grad_norm_(self.root.parameters(), s.clip_grad)
            self.optimizer.step()
        return out

    def _perceptron_step(self, X: torch.Tensor, y: torch.Tensor | None) -> dict[str, torch.Tensor]:
        assert isinstance(self.optimizer, PerceptronRule)
        if y is None:
            raise TrainingError("the perceptron rule needs targets; this dataset has none. Fix: use another optimizer.")
        with torch.no_grad():
            out = self._forward(X, y)
            prediction = self.compiled.model(X)
            if isinstance(prediction, tuple):
                prediction = prediction[0]
            assert self._perceptron_input is not None
            self.optimizer.update(self._perceptron_input, prediction, y)
        return out

    def _capture_input(self, module: torch.nn.Module, args: tuple) -> None:
        self._perceptron_input = args[0].detach()

    def _forward(self, X: torch.Tensor, y: torch.Tensor | None, objective: Any = None) -> dict[str, torch.Tensor]:
        if self.channels_last and isinstance(X, torch.Tensor) and X.dim() == 4:
            X = X.contiguous(memory_format=torch.channels_last)
        kwargs = self.binding.kwargs(X, y)
        try:
            with torch.autocast("cuda", dtype=torch.float16) if self.amp else nullcontext():
                return (self.compiled.objective if objective is None else objective)(**kwargs)
        except torch.cuda.OutOfMemoryError:
            raise TrainingError(
                f"the GPU ran out of memory with batch size {self.settings.batch_size}. "
                "Fix: lower the batch size, make layers smaller, or train on the CPU."
            ) from None
        except (RuntimeError, ValueError, TypeError, IndexError) as exc:
            node_id, error = locate_failure(self.compiled.objective, kwargs)
            detail = str(error or exc).splitlines()[0]
            where = f"node '{node_id}': " if node_id else ""
            raise TrainingError(
                f"{where}training failed while computing the loss: {detail}. Fix: check the shapes and dtypes "
                "flowing into this node (graphedit check shows them).",
                node_id=node_id,
            ) from exc

    def _fail_nonfinite(self, X: torch.Tensor, y: torch.Tensor | None) -> None:
        node_id = locate_nonfinite(self.compiled.taps, self.binding.kwargs(X, y))
        where = f"at node '{node_id}'" if node_id else "in the loss"
        raise TrainingError(
            f"training stopped at step {self.step + 1} (epoch {self.epoch}): values became NaN or infinite "
            f"{where}. Fix: lower the learning rate, enable gradient clipping, standardise the inputs, "
            "or check that node's parameters.",
            node_id=node_id,
        )

    # ----------------------------------------------------------------- helpers
    def _replicated(self, objective: Any) -> Any:
        """The objective wrapped in DistributedDataParallel: gradients averaged over the ranks in backward."""
        from torch.nn.parallel import DistributedDataParallel

        if isinstance(self.optimizer, PerceptronRule):
            raise TrainingError("the perceptron rule cannot train on several processes. Fix: train in one process.")
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        # graphs may hold parameters the loss does not reach (a dead branch): DDP must not wait for their gradients
        return DistributedDataParallel(objective, device_ids=device_ids, find_unused_parameters=True)

    def _place(self, split: Split) -> Split:
        return split.to(self.device) if split.in_memory else split  # type: ignore[attr-defined]

    def set_mode(self, training: bool) -> None:
        """Put every module in training (dropout on, batch norm updating) or evaluation mode; probes use it."""
        for module in self._modules:
            mode = training and id(module) not in self._frozen
            if module.training != mode:  # nn.Module's __setattr__ is slow: write only what changes
                module.training = mode

    def _probe(self, epoch_seconds: float) -> None:
        """A periodic probe; the time the observers take to take its payload counts in the probes' budget."""
        assert self.prober is not None
        event = ProbeEvent(self.step, self.prober.run(self.step, epoch_seconds))
        t0 = time.perf_counter()
        self._emit(event)
        self.prober.charge(time.perf_counter() - t0)

    def _emit(self, event: Any) -> None:
        for obs in self.observers:
            obs(event)

    @staticmethod
    def _epoch_means(values: list[list[torch.Tensor]], sizes: list[int], width: int) -> list[float]:
        if not values:
            return [math.nan] * width
        table = torch.stack([v for row in values for v in row]).float().view(len(values), width)  # [steps, keys]
        weights = torch.tensor(sizes, dtype=table.dtype, device=table.device)
        return ((weights @ table) / weights.sum()).tolist()

    @staticmethod
    def _floats(out: dict[str, torch.Tensor], keys: list[str]) -> dict[str, float]:
        if not keys:
            return {}
        return dict(zip(keys, torch.stack([out[k].detach().float() for k in keys]).tolist()))

    def _early_stop_due(self) -> bool:
        stop = self.settings.early_stopping
        return bool(stop.get("enabled")) and self.since_best >= int(stop.get("patience", 5))

    def _confusion_collector(self) -> Confusion | None:
        info = self.data.info
        if self.prober is None or self.val_split is None or info.task != "classification" or not info.num_classes:
            return None
        if info.inputs is not None:  # named targets: which one the matrix would count is not one question
            return None
        if self._prediction is False:
            self._prediction = prediction_module(self.compiled)
        return None if self._prediction is None else Confusion(self._prediction, info.num_classes)

    def _emit_confusion(self, collected: Confusion | None) -> None:
        info = self.data.info
        if info.task != "classification" or not info.num_classes or info.inputs is not None:
            return
        if collected is not None:
            matrix = collected.matrix()
        else:  # no validation split, or the prediction is a function: one extra pass over (part of) a split
            matrix = confusion_matrix(self, self.val_split or self.train_split, info.num_classes)
        if matrix is not None:
            payload = {"kind": "confusion", "epoch": self.epoch, "matrix": matrix, "class_names": info.class_names}
            self._emit(ProbeEvent(self.step, payload))

    def _summary(self, status: str, seconds: float, samples: int, probing: float | None, pace: float) -> dict[str, Any]:
        last = self.history[-1] if self.history else {"train": None, "val": None}
        return {
            "status": status,
            "epochs": self.epoch,
            "steps": self.step,
            "train": last["train"],
            "val": last["val"],
            "best_epoch": self.best_epoch,
            "best_loss": self.best_loss if math.isfinite(self.best_loss) else None,
            "restored_best": bool(self.settings.early_stopping.get("enabled") and self.best_state is not None),
            "seconds": round(seconds, 3),
            "samples": samples,  # training examples seen, over all ranks of a distributed run
            # the training pace: the steps that compiled are reported apart, as compile_seconds
            "samples_per_second": round(samples / pace, 1) if pace > 0 else None,
            "device": str(self.device),
            **({"processes": self.distributed.world_size} if self.distributed is not None else {}),
            **({"compile_seconds": round(self.compile_seconds, 3)} if self.compile_seconds is not None else {}),
            # of ``seconds``: the live views' probes and the observers taking their payloads (the final probe, after
            # the loop, not counted); measured inside the run, so the share is not blurred by the machine's pace
            **({"probe_seconds": round(probing, 3)} if probing is not None else {}),
        }
