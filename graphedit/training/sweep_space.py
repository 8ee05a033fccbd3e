"""What a sweep varies, checked against the project and applied to it.

A sweep parameter names a training setting (``lr``), a dataset option (``dataset.noise``) or a
node parameter (``dense1.units``) with a list or a range of values. Its parsing lives in
:mod:`graphedit.model.experiment`, because the project file's ``experiment`` section holds the
same text as ``--param``; this module checks the names against a project and applies values.
"""

from __future__ import annotations

import copy
from typing import Any

from graphedit.errors import ParamError
from graphedit.model.experiment import (  # the parsing is the model's: the file's experiment section uses it too
    DATASET_PREFIX,
    TRAINING_PREFIX,
    SweepError,
    SweepParam,
    Value,
    parse_param,
    parse_value,
)
from graphedit.model.training_options import TRAINING_OPTIONS
from graphedit.nodes.options import SWEEPABLE, Option

__all__ = [
    "DATASET_PREFIX",
    "TRAINING_PREFIX",
    "SweepError",
    "SweepParam",
    "Value",
    "apply_values",
    "check_params",
    "parse_param",
    "parse_value",
]


def check_params(params: list[SweepParam], project_json: dict[str, Any]) -> None:
    """Raise SweepError naming the first parameter that names nothing in this project, with the fix."""
    settings = {o.name: o for o in TRAINING_OPTIONS if o.kind in SWEEPABLE and o.name != "device"}
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
        if param.section == "training":
            _check_values(param, settings[param.key], f"training setting '{param.key}'")
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
    declared = {p.name: p for p in getattr(node_type, "params", ())}
    if param.key not in declared:
        raise SweepError(
            f"'{param.name}': node {param.owner} ({node.get('type')}) has no parameter '{param.key}'. "
            f"Fix: use one of {', '.join(sorted(declared)) or 'none'}."
        )
    _check_values(param, declared[param.key], f"node {param.owner}: parameter '{param.key}'")


def _check_values(param: SweepParam, option: Option, label: str) -> None:
    """Every trial's value must be one the option takes (checked by its declaration), or the trial fails."""
    values = param.choices if not param.is_range else (param.low, param.high)
    for value in values:
        try:
            option.coerce(value, label=label)
        except ParamError as exc:
            raise SweepError(f"sweep '{param.name}': {exc} Fix: change the values swept.") from None


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
