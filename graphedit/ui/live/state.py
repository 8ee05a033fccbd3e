"""What the live views know about the run in progress: the events of the session, kept as history.

No Qt here. :meth:`LiveState.ingest` takes the plain dicts a training
session emits (the wire format of :mod:`graphedit.training.events`) and is cheap, so a
burst of events costs little; the views draw from this state at most ~10
times a second (see :mod:`graphedit.ui.live.throttle`).
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from graphedit.training.events import EpochMessage, Message, StartedMessage, StepMessage, StepRow
from graphedit.training.payloads import ConfusionPayload, ProbePayload, TextSample

HISTORY = 240  # probes kept per node for the views over time


class LiveState:
    def __init__(self) -> None:
        self.reset()

    def reset(self, started: StartedMessage | None = None) -> None:
        started = started or {}  # type: ignore[assignment]
        self.info: dict[str, Any] | None = started.get("info")
        self.steps_per_epoch: int | None = started.get("steps_per_epoch")
        self.epochs_total: int | None = started.get("epochs")
        self.run_dir: str | None = started.get("run_dir")
        self.node_ids: list[str] = list(started.get("node_ids") or [])
        self.categories: dict[str, str] = {}  # node id → node family ("activation", "dense", …), from the editor
        self.status = "running" if started else "idle"
        self.message = ""
        self.failed_node = ""
        self.version = 0
        self.steps: list[int] = []
        self.step_loss: list[float] = []
        self.step_metrics: dict[str, tuple[list[int], list[float]]] = {}
        self.epochs: list[EpochMessage] = []
        self.probe: ProbePayload | None = None  # the latest probe payload
        self.probes = 0  # probe payloads so far in this run
        self.probe_steps: deque[int] = deque(maxlen=HISTORY)
        self.act_history: dict[str, deque[tuple[int, np.ndarray, np.ndarray]]] = {}
        self.grad_history: dict[str, tuple[list[int], list[float]]] = {}
        self.confusions: list[ConfusionPayload] = []
        self.samples: deque[tuple[int, TextSample]] = deque(maxlen=20)

    def starting(self) -> None:
        """A run was asked for: the last run's data goes, and the views wait for this one's first events."""
        self.reset()
        self.status = "starting"

    # ------------------------------------------------------------ ingest
    def ingest(self, event: Message) -> None:
        kind = event.get("type")
        if kind == "started":
            self.reset(event)
        elif kind == "step":
            self._step(event)
        elif kind == "epoch":
            self.epochs.append(event)
        elif kind == "probe":
            payload = event.get("payload") or {}
            if payload.get("kind") == "confusion":
                self.confusions.append(payload)
            elif payload.get("kind", "probe") == "probe":  # an "embedding" is the Inside dock's
                self._probe(payload)
        elif kind == "finished":
            self.status = str((event.get("summary") or {}).get("status", "finished"))
        elif kind == "failed":
            self.status = "failed"
            self.message = str(event.get("message", ""))
            self.failed_node = str(event.get("node_id") or "")
        self.version += 1

    def _step(self, event: StepMessage) -> None:
        rows = event.get("batch")  # the session coalesces the steps of one tick into the last, rows in "batch"
        for row in rows if isinstance(rows, list) and rows else [event]:
            if not self.steps or int(row["step"]) > self.steps[-1]:
                self._step_row(row)

    def _step_row(self, event: StepRow) -> None:
        step, loss = int(event["step"]), float(event["loss"])
        self.steps.append(step)
        self.step_loss.append(loss)
        for key, value in (event.get("metrics") or {}).items():
            xs, ys = self.step_metrics.setdefault(key, ([], []))
            xs.append(step)
            ys.append(float(value))

    def _probe(self, payload: ProbePayload) -> None:
        self.probe = payload
        self.probes += 1
        step = int(payload.get("step", 0))
        self.probe_steps.append(step)
        for node_id, act in (payload.get("activations") or {}).items():
            hist = self.act_history.setdefault(node_id, deque(maxlen=HISTORY))
            hist.append((step, np.asarray(act["hist"], dtype=np.float64), np.asarray(act["edges"], dtype=np.float64)))
        for node_id, grad in (payload.get("gradients") or {}).items():
            xs, ys = self.grad_history.setdefault(node_id, ([], []))
            xs.append(step)
            ys.append(float(grad["grad_norm"]))
        if payload.get("samples"):
            self.samples.append((step, payload["samples"]))

    # ----------------------------------------------------------- queries
    def epoch_x(self, step: float) -> float:
        """A step as a fractional epoch (curves share one x axis: epochs)."""
        return float(self.epoch_xs([step])[0])

    def epoch_xs(self, steps: Any) -> np.ndarray:
        """Steps as fractional epochs, all at once (the curves redraw every step of a run ~10 times a second)."""
        per = self.steps_per_epoch
        if not per and self.epochs:
            last = self.epochs[-1]
            per = max(1, int(last.get("step") or 0) // max(1, int(last["epoch"])))
        xs = np.asarray(steps, dtype=float)
        return xs / per if per else xs

    def steps_total(self) -> int | None:
        """The steps the run plans (None before it says): the width of a plot over steps from the start."""
        if self.steps_per_epoch and self.epochs_total:
            return int(self.steps_per_epoch) * int(self.epochs_total)
        return None

    def ordered(self, keys: Any) -> list[str]:
        """Node ids in the graph's topological order: dicts that crossed a Qt signal come back sorted by key."""
        keys = list(keys)
        rank = {n: i for i, n in enumerate(self.node_ids)}
        if not rank:
            return keys
        late = len(rank)
        return sorted(keys, key=lambda k: (rank.get(k.split(".", 1)[0], late), k))

    def task(self) -> str:
        return str((self.info or {}).get("task") or "")

    def feature_shape(self) -> tuple[int, ...]:
        return tuple((self.info or {}).get("feature_shape") or ())

    def class_names(self) -> list[str] | None:
        return (self.info or {}).get("class_names")


def finite(values: list[float]) -> np.ndarray:
    """The values as an array with non-finite entries made NaN (pyqtgraph leaves gaps there)."""
    out = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(out), out, math.nan)
