"""What a sweep varies: parameters named as on the command line, parsed, checked against the project, applied.

A sweep parameter names a training setting (``lr``, ``batch_size``, ``optimizer``; ``training.lr``
also works), a dataset option (``dataset.noise``) or a node parameter (``dense1.units``). Its
values are a list (``16,32,64``; ``adam,sgd``) or a range (``1e-4..1e-1``, ``8..64``) with an
optional ``:log`` scale. No Optuna and no torch here: :meth:`SweepParam.distribution` builds
the Optuna distribution when a sweep asks for one.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

from graphedit.errors import GraphEditError

TRAINING_PREFIX = "training."
DATASET_PREFIX = "dataset."


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
        if self.integer:
            return IntDistribution(int(self.low), int(self.high), log=self.log)
        return FloatDistribution(float(self.low), float(self.high), log=self.log)

    def describe(self) -> str:
        if not self.is_range:
            return ", ".join(str(c) for c in self.choices)
        scale = " (log)" if self.log else ""
        return f"{self.low:g} .. {self.high:g}{scale}"


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
        low, high = parse_value(low_text), parse_value(high_text)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)):
            raise SweepError(f"sweep range '{spec}' needs two numbers. Fix: write e.g. {name}=0.001..0.1.")
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


def check_params(params: list[SweepParam], project_json: dict[str, Any]) -> None:
    """Raise SweepError naming the first parameter that names nothing in this project, with the fix."""
    import dataclasses

    from graphedit.training.settings import TrainSettings

    settings = {f.name for f in dataclasses.fields(TrainSettings)} - {"early_stopping", "device"}
    nodes = {node.get("id"): node for node in project_json.get("graph", {}).get("nodes", [])}
    seen: set[str] = set()
    for param in params:
        if param.name in seen:
            raise SweepError(f"sweep parameter '{param.name}' is given twice. Fix: give each parameter once.")
        seen.add(param.name)
        if param.section == "training" and param.key not in settings:
            raise SweepError(
                f"'{param.name}' is not a training setting. Fix: use one of {', '.join(sorted(settings))}, "
                "or NODE.PARAM for a node parameter."
            )
        if param.section == "dataset":
            options = project_json.get("dataset", {}).get("options", {})
            if param.key not in options:
                known = ", ".join(sorted(options)) or "none"
                raise SweepError(f"'{param.name}': the dataset has no option '{param.key}'. Fix: use one of: {known}.")
        if param.section == "node":
            node = nodes.get(param.owner)
            if node is None:
                raise SweepError(
                    f"'{param.name}': the project has no node '{param.owner}'. "
                    f"Fix: use one of {', '.join(sorted(str(n) for n in nodes))}."
                )
            _check_node_param(param, node)


def _check_node_param(param: SweepParam, node: dict[str, Any]) -> None:
    from graphedit.nodes.registry import default_registry

    try:
        node_type = default_registry().get(node.get("type"))
    except Exception:  # an unknown type is the project loader's error to report
        return
    declared = {p.name for p in getattr(node_type, "params", ())}
    if param.key not in declared:
        raise SweepError(
            f"'{param.name}': node {param.owner} ({node.get('type')}) has no parameter '{param.key}'. "
            f"Fix: use one of {', '.join(sorted(declared)) or 'none'}."
        )


def apply_values(project_json: dict[str, Any], params: list[SweepParam], values: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of the project with each parameter set to ``values[param.name]``."""
    out = copy.deepcopy(project_json)
    nodes = {node.get("id"): node for node in out.get("graph", {}).get("nodes", [])}
    for param in params:
        if param.name not in values:
            continue
        value = values[param.name]
        if param.section == "training":
            out.setdefault("training", {})[param.key] = value
        elif param.section == "dataset":
            out.setdefault("dataset", {}).setdefault("options", {})[param.key] = value
        else:
            nodes[param.owner].setdefault("params", {})[param.key] = value
    return out
