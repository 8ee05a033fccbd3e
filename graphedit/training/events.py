"""Events the trainer sends to its observers (a progress bar, the editor's plots, the run recorder).

An observer is any callable taking one event. Step events come every
``log_every`` steps, epoch events once per epoch, probe events at the probe
frequency: observers never see every step, so they cannot slow the loop.
An observer may also define ``attach(trainer)``, called once before training
(the run recorder uses it to read checkpoints).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StepEvent:
    step: int  # steps done so far (1-based)
    epoch: int  # the epoch in progress (1-based)
    loss: float  # total loss of this step's batch
    metrics: dict[str, float] = field(default_factory=dict)  # unweighted losses and metrics of this batch


@dataclass
class EpochEvent:
    epoch: int  # epochs done so far (1-based)
    train: dict[str, float]  # mean over the epoch's batches: "loss", loss node ids, metric node ids
    val: dict[str, float] | None  # the same on the validation split (None without one)
    lr: float
    seconds: float  # wall time of this epoch, validation included
    step: int = 0
    improved: bool = False  # monitored loss (val if any, else train) is the best so far


@dataclass
class ProbeEvent:
    step: int
    payload: dict[str, Any]  # "kind": "probe" (activations, gradients, regions, feature maps) or "confusion"


@dataclass
class FinishedEvent:
    summary: dict[str, Any]  # status finished | early_stopped | stopped | interrupted, metrics, timings


@dataclass
class FailedEvent:
    message: str
    node_id: str | None = None


Event = StepEvent | EpochEvent | ProbeEvent | FinishedEvent | FailedEvent
Observer = Callable[[Event], None]
