"""The sweep a project declares: what varies and how, in the command line's syntax and in the file's ``experiment``.

A swept parameter names a training setting (``lr``, ``batch_size``, ``optimizer``; ``training.lr``
also works), a dataset option (``dataset.noise``) or a node parameter (``dense1.units``). Its
values are a list (``16,32,64``; ``adam,sgd``) or a range (``1e-4..1e-1``, ``8..64``) with an
optional ``:log`` scale. ``graphedit sweep --param NAME=VALUES`` and the project file's
``"experiment": {"params": {NAME: VALUES}}`` hold the same text, parsed here, so the two can
never disagree. The rest of the section chooses the sampler, the pruner, the number of trials,
how many run at once and the objective. No Optuna and no torch here:
:meth:`SweepParam.distribution` imports Optuna when a sweep asks for one.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

from graphedit.errors import GraphEditError

TRAINING_PREFIX = "training."
DATASET_PREFIX = "dataset."
SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "none")
DIRECTIONS = ("minimize", "maximize")

DEFAULT_EXPERIMENT: dict[str, Any] = {
    "params": {},
    "sampler": "tpe",
    "pruner": "median",
    "trials": 20,
    "jobs": 1,
    "objective": "val.loss",
    "direction": "minimize",
}


class SweepError(GraphEditError):
    """A sweep that cannot run as asked: a parameter that names nothing, a range that is empty."""


Value = int | float | str | bool


@dataclass(frozen=True)
class SweepParam:
    """One swept parameter: where it goes (``section``, ``owner``, ``key``) and the values it may take."""

    name: str  # as the user wrote it: "lr", "dense1.units", "dataset.noise"
    section: str  # "training", "dataset" or "node"
    owner: str  # the node id for "node", else ""
    key: str  # the setting, option or parameter
    choices: tuple[Value, ...] = ()
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False

    @property
    def is_range(self) -> bool:
        return self.low is not None

    def distribution(self) -> Any:
        """The Optuna distribution of this parameter."""
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        if not self.is_range:
            return CategoricalDistribution(list(self.choices))
        low, high = self.bounds()
        if self.integer:
            return IntDistribution(int(low), int(high), log=self.log)
        return FloatDistribution(low, high, log=self.log)

    def bounds(self) -> tuple[float, float]:
        """The range's two ends (a range only)."""
        assert self.low is not None and self.high is not None, f"{self.name} is a list of values, not a range"
        return self.low, self.high

    def describe(self) -> str:
        if not self.is_range:
            return ", ".join(str(c) for c in self.choices)
        scale = " (log)" if self.log else ""
        return f"{self.low:g} .. {self.high:g}{scale}"

    def values_text(self) -> str:
        """The values as ``--param`` and the file write them (``16,32,64``, ``0.0001..0.1:log``)."""
        if not self.is_range:
            return ",".join(_value_text(c) for c in self.choices)
        low, high = self.bounds()
        return f"{_value_text(low)}..{_value_text(high)}" + (":log" if self.log else "")


def _value_text(value: Value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return repr(value)  # round-trips exactly; "1e-05", "0.001"
    return str(value)


def parse_value(text: str) -> Value:
    """``"32"`` -> 32, ``"1e-3"`` -> 0.001, ``"true"`` -> True, anything else stays text."""
    text = text.strip()
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            value = kind(text)
        except ValueError:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            raise SweepError(f"sweep value '{text}' is not a finite number. Fix: give a finite number.")
        return value
    return text


def _number(value: Value, spec: str, name: str) -> int | float:
    """One end of a range: a number, not text nor a bool."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SweepError(f"sweep range '{spec}' needs two numbers. Fix: write e.g. {name}=0.001..0.1.")
    return value


def parse_param(spec: str) -> SweepParam:
    """Parse ``NAME=a,b,c`` or ``NAME=LOW..HIGH[:log]`` (raises SweepError with the fix)."""
    name, sep, values = spec.partition("=")
    name, values = name.strip(), values.strip()
    if not sep or not name or not values:
        raise SweepError(
            f"sweep parameter '{spec}' is not NAME=VALUES. Fix: write e.g. dense1.units=16,32,64 or lr=1e-4..1e-1:log."
        )
    section, owner, key = _target(name)
    log = False
    if values.endswith(":log"):
        values, log = values[: -len(":log")], True
    if ".." in values:
        low_text, _, high_text = values.partition("..")
        low, high = (_number(parse_value(text), spec, name) for text in (low_text, high_text))
        if not low < high:
            raise SweepError(f"sweep range '{spec}' is empty: {low} is not below {high}. Fix: put the smaller first.")
        if log and low <= 0:
            raise SweepError(f"sweep range '{spec}' is on a log scale but starts at {low}. Fix: start above 0.")
        integer = isinstance(low, int) and isinstance(high, int)
        return SweepParam(name, section, owner, key, low=low, high=high, log=log, integer=integer)
    if log:
        raise SweepError(f"sweep parameter '{spec}': ':log' applies to ranges only. Fix: write {name}=LOW..HIGH:log.")
    choices = tuple(parse_value(v) for v in values.split(",") if v.strip())
    if not choices:
        raise SweepError(f"sweep parameter '{spec}' lists no values. Fix: write e.g. {name}=16,32,64.")
    return SweepParam(name, section, owner, key, choices=tuple(dict.fromkeys(choices)))


def _target(name: str) -> tuple[str, str, str]:
    if name.startswith(TRAINING_PREFIX):
        return "training", "", name[len(TRAINING_PREFIX) :]
    if name.startswith(DATASET_PREFIX):
        return "dataset", "", name[len(DATASET_PREFIX) :]
    if "." in name:
        owner, _, key = name.partition(".")
        return "node", owner, key
    return "training", "", name


def sweep_name(section: str, owner: str, key: str) -> str:
    """The name a parameter is swept under: ``lr``, ``dataset.noise``, ``dense1.units``."""
    if section == "training":
        return key
    if section == "dataset":
        return DATASET_PREFIX + key
    return f"{owner}.{key}"


def check_choices(sampler: Any, pruner: Any, direction: Any, trials: Any, jobs: Any, objective: Any) -> None:
    """Raise SweepError for a sampler, pruner, direction, count or objective a sweep cannot use."""
    if sampler not in SAMPLERS:
        raise SweepError(f"sampler '{sampler}' is unknown. Fix: use one of {', '.join(SAMPLERS)}.")
    if pruner not in PRUNERS:
        raise SweepError(f"pruner '{pruner}' is unknown. Fix: use one of {', '.join(PRUNERS)}.")
    if direction not in DIRECTIONS:
        raise SweepError(f"direction '{direction}' is unknown. Fix: use minimize or maximize.")
    for what, count in (("trials", trials), ("jobs", jobs)):
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise SweepError(f"{what} is {count!r}; it must be a whole number, 1 or more. Fix: raise the number.")
    split, dot, metric = str(objective).partition(".")
    if not isinstance(objective, str) or split not in ("train", "val") or not dot or not metric:
        raise SweepError(f"objective '{objective}' is not SPLIT.METRIC. Fix: write e.g. val.loss or val.accuracy.")


def check_experiment(value: Any) -> dict[str, Any]:
    """The file's ``experiment`` section merged over its defaults; SweepError naming the key that is wrong."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise SweepError(f"'experiment' must be an object {{...}}, not {type(value).__name__}")
    if "storage" in value:
        raise SweepError(
            "'experiment.storage' is not read from a project file (a file must not choose where a study is written). "
            "Fix: remove it and pass --storage to graphedit sweep."
        )
    unknown = sorted(set(value) - set(DEFAULT_EXPERIMENT))
    if unknown:
        raise SweepError(
            f"unknown key {', '.join(map(repr, unknown))} in 'experiment'; its keys are {', '.join(DEFAULT_EXPERIMENT)}"
        )
    out = {**copy.deepcopy(DEFAULT_EXPERIMENT), **copy.deepcopy(value)}
    params = out["params"]
    if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
        raise SweepError(
            'experiment.params must be an object of NAME: VALUES text, such as {"lr": "1e-4..1e-1:log"}, '
            f"not {params!r}"
        )
    for name, values in params.items():
        try:
            parse_param(f"{name}={values}")
        except SweepError as exc:
            raise SweepError(f"experiment.params: {exc}") from None
    try:
        check_choices(out["sampler"], out["pruner"], out["direction"], out["trials"], out["jobs"], out["objective"])
    except SweepError as exc:
        raise SweepError(f"experiment: {exc}") from None
    return out


def experiment_params(experiment: dict[str, Any]) -> list[SweepParam]:
    """The swept parameters of a checked ``experiment`` section, in the file's order."""
    return [parse_param(f"{name}={values}") for name, values in (experiment.get("params") or {}).items()]


def experiment_to_json(experiment: dict[str, Any]) -> dict[str, Any] | None:
    """The section as the file writes it, or ``None`` (left out) while it is all defaults."""
    out = {**copy.deepcopy(DEFAULT_EXPERIMENT), **copy.deepcopy(experiment)}
    return None if out == DEFAULT_EXPERIMENT else out
