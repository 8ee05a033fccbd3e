"""Training settings: the project's ``training`` section as a checked dataclass.

The project file stores the common keys (optimizer, lr, momentum, nesterov,
weight_decay, schedule, batch_size, epochs, clip_grad, early_stopping, seed,
device, amp, channels_last, threads); the rest have defaults here and are kept when present.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import torch

from graphedit.errors import TrainingError

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "perceptron")
SCHEDULES = ("constant", "step", "cosine")
DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass
class TrainSettings:
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9  # SGD momentum; RMSprop momentum too
    nesterov: bool = False
    weight_decay: float = 0.0  # L2 through the optimizer (decoupled for AdamW)
    schedule: str = "constant"
    step_size: int = 0  # epochs between decays of the step schedule; 0: a third of the epochs
    gamma: float = 0.1  # factor of each step decay
    batch_size: int = 32
    epochs: int = 10
    clip_grad: float = 0.0  # max global gradient norm; 0: no clipping
    early_stopping: dict[str, Any] = field(default_factory=lambda: {"enabled": False, "patience": 5})
    seed: int = 0
    device: str = "auto"
    amp: bool = False  # mixed precision (float16 autocast + GradScaler) on CUDA only
    channels_last: bool = False  # 4-D inputs and conv weights in channels-last memory order
    threads: int = 0  # CPU threads; 0: the policy of graphedit.training.threads
    compile: bool = False  # torch.compile the objective (a run option: --compile; on the CPU it needs a C++ compiler)
    log_every: int = 10  # steps between StepEvents (the only per-step host sync)
    probe_every: int = 0  # steps between probes; 0: automatic (probes take ~3% of the time); -1: off
    probe_batch: int = 64  # samples in the fixed probe batch
    grid: int = 48  # decision-region grid side for 2-D inputs
    start_from: str = "init"  # "weights": the project's weights file (fine-tuning); "init": each layer's init

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> TrainSettings:
        data = dict(data or {})
        names = {f.name for f in dataclasses.fields(cls)}
        s = cls(**{k: v for k, v in data.items() if k in names})
        s.early_stopping = {"enabled": False, "patience": 5, **(s.early_stopping or {})}
        s.check()
        return s

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> TrainSettings:
        out = dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})
        out.check()
        return out

    def check(self) -> None:
        def bad(what: str, fix: str) -> TrainingError:
            return TrainingError(f"training setting {what}. Fix: {fix}.")

        if self.optimizer not in OPTIMIZERS:
            raise bad(f"optimizer '{self.optimizer}' is unknown", f"use one of {', '.join(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            raise bad(f"schedule '{self.schedule}' is unknown", f"use one of {', '.join(SCHEDULES)}")
        if self.device not in DEVICES and not str(self.device).startswith("cuda:"):
            raise bad(f"device '{self.device}' is unknown", f"use one of {', '.join(DEVICES)} or cuda:N")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise bad(f"lr = {self.lr!r} is not a positive number", "use a learning rate such as 0.001")
        for name in ("batch_size", "epochs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise bad(f"{name} = {value!r} must be a whole number ≥ 1", f"set {name} to 1 or more")
        for name in ("weight_decay", "clip_grad", "momentum"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value < 0:
                raise bad(f"{name} = {value!r} must be ≥ 0", f"set {name} to 0 or more")
        if isinstance(self.threads, bool) or not isinstance(self.threads, int) or self.threads < 0:
            raise bad(f"threads = {self.threads!r} must be a whole number ≥ 0", "use 0 to let GraphEdit choose")
        if self.start_from not in ("init", "weights"):
            raise bad(f"start_from '{self.start_from}' is unknown", "use init, or weights to fine-tune")
        if self.log_every < 1:
            raise bad(f"log_every = {self.log_every} must be ≥ 1", "set log_every to 1 or more")


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA, then Apple's MPS, then the CPU; an unavailable device is an error with a fix."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise TrainingError(f"device '{name}' was asked for but CUDA is not available. Fix: use --device cpu or auto.")
    if name == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise TrainingError("device 'mps' was asked for but is not available. Fix: use --device cpu or auto.")
    return torch.device(name)
