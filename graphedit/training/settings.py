"""Training settings: the project's ``training`` section as a checked dataclass.

Its fields, defaults and checks come from the declarations in :mod:`graphedit.model.training_options`
(one line per setting); the project file stores the ``stored`` ones and keeps the rest when present.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from graphedit.errors import TrainingError
from graphedit.model.training_options import ALL_GPUS, DEVICES, OPTIMIZERS, SCHEDULES, TRAINING_OPTIONS

__all__ = ["DEVICES", "OPTIMIZERS", "SCHEDULES", "TrainSettings", "resolve_device"]


def _fields_from_options(cls: type) -> type:
    """``cls`` as a dataclass with one field per declared training setting, in declaration order."""
    cls.__annotations__ = {o.name: Any for o in TRAINING_OPTIONS}
    for o in TRAINING_OPTIONS:
        setattr(cls, o.name, field(default_factory=o.defaults) if o.kind == "scope" else o.default)
    return dataclass(cls)


@_fields_from_options
class TrainSettings:
    """One run's settings; ``TrainSettings(lr=0.01)`` or :meth:`from_dict` of a project's section."""

    if TYPE_CHECKING:  # the fields are made from the declarations
        __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

        def __init__(self, **settings: Any) -> None: ...

        def __getattr__(self, name: str) -> Any: ...

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> TrainSettings:
        data = dict(data or {})
        names = {f.name for f in dataclasses.fields(cls)}
        s = cls(**{k: v for k, v in data.items() if k in names})
        s.check()
        return s

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> TrainSettings:
        out = dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})
        out.check()
        return out

    def check(self) -> None:
        """Each setting checked by its declaration and put in canonical form; TrainingError with the fix."""
        for option in TRAINING_OPTIONS:
            label = f"training setting '{option.name}'"
            strict = option.name != "device"  # a device may also be cuda:N, checked below
            value = option.coerce(getattr(self, option.name), error=TrainingError, label=label, strict=strict)
            setattr(self, option.name, value)
        if self.device not in DEVICES and not str(self.device).startswith("cuda:"):
            raise TrainingError(
                f"training setting device '{self.device}' is unknown. Fix: use one of {', '.join(DEVICES)} or cuda:N."
            )


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
    if name == ALL_GPUS:  # one process of a run over every GPU that was not started as one (training.distributed)
        return torch.device("cuda")
    if name == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise TrainingError("device 'mps' was asked for but is not available. Fix: use --device cpu or auto.")
    return torch.device(name)
