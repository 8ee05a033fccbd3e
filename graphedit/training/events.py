"""Events the trainer sends to its observers (a progress bar, the editor's plots, the run recorder).

An observer is any callable taking one event. Step events come every
``log_every`` steps, epoch events once per epoch, probe events at the probe
frequency: observers never see every step, so they cannot slow the loop.
An observer may also define ``attach(trainer)``, called once before training
(the run recorder uses it to read checkpoints).

In the editor the events cross to another process as plain dicts, the *wire format*:
:func:`to_message` makes them (``{"type": "started" | "step" | ..., **fields}``) and the
``...Message`` TypedDicts below describe them; the worker, the editor's session, the live
views and the tests all use these, so there is one format. No torch, no Qt.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from typing_extensions import NotRequired, TypedDict

from graphedit.training.payloads import Payload


@dataclass
class StartedEvent:
    """Sent once, before the first step: what the editor needs to show progress and name nodes."""

    info: dict[str, Any]  # DatasetInfo.to_json()
    steps_per_epoch: int
    epochs: int
    run_dir: str
    node_ids: list[str] = field(default_factory=list)
    first_epoch: int = 0  # epochs already done (a resumed run)
    settings: dict[str, Any] = field(default_factory=dict)


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
    payload: Payload  # "kind": "probe" (activations, gradients, regions, feature maps) or "confusion"


@dataclass
class FinishedEvent:
    summary: dict[str, Any]  # status finished | early_stopped | stopped | interrupted, metrics, timings


@dataclass
class FailedEvent:
    message: str
    node_id: str | None = None


Event = StartedEvent | StepEvent | EpochEvent | ProbeEvent | FinishedEvent | FailedEvent
Observer = Callable[[Event], None]


# ---------------------------------------------------------------------------------------------- the wire format
MESSAGE_TYPES: dict[type, str] = {
    StartedEvent: "started",
    StepEvent: "step",
    EpochEvent: "epoch",
    ProbeEvent: "probe",
    FinishedEvent: "finished",
    FailedEvent: "failed",
}


def to_message(event: Any) -> dict[str, Any] | None:
    """The dict an event travels as: ``{"type": ..., **its fields}``; ``None`` for what is not an event."""
    kind = MESSAGE_TYPES.get(type(event))
    return None if kind is None else {"type": kind, **vars(event)}


class StartedMessage(TypedDict):
    type: Literal["started"]
    info: dict[str, Any]
    steps_per_epoch: int
    epochs: int
    run_dir: str
    node_ids: list[str]
    first_epoch: int
    settings: dict[str, Any]


class StepRow(TypedDict):
    step: int
    epoch: int
    loss: float
    metrics: dict[str, float]


class StepMessage(StepRow):
    """The newest step's fields; ``batch`` holds every step since the last message, oldest first."""

    type: Literal["step"]
    batch: NotRequired[list[StepRow]]


class EpochMessage(TypedDict):
    type: Literal["epoch"]
    epoch: int
    train: dict[str, float]
    val: dict[str, float] | None
    lr: float
    seconds: float
    step: int
    improved: bool


class ProbeMessage(TypedDict):
    type: Literal["probe"]
    step: int
    payload: Payload


class FinishedMessage(TypedDict):
    """The worker adds the run folder; the session sends one itself when the user kills a run."""

    type: Literal["finished"]
    summary: dict[str, Any]
    run_dir: NotRequired[str | None]


class FailedMessage(TypedDict):
    type: Literal["failed"]
    message: str
    node_id: str | None


class WarningMessage(TypedDict):
    """A note for the status bar (an event that could not be sent)."""

    type: Literal["warning"]
    message: str


Message = StartedMessage | StepMessage | EpochMessage | ProbeMessage | FinishedMessage | FailedMessage | WarningMessage
