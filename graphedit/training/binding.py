"""Bind a dataset to a graph: X feeds the (single) Input node, y the Target node.

Reconstruction datasets have no y: the graph wires the Input to the loss's
target itself, so it has no Target node. :func:`fit_inputs_to_dataset` sets
the Input/Target shape and dtype parameters from the dataset (the command
line does this, so users never type sizes); :func:`bind` checks they fit.

A dataset with several inputs or targets (``DatasetInfo.inputs``/``targets``)
names them, and each name feeds the Input or Target node of that id, or the node
the spec's ``bind`` maps it to; :func:`name_problems` puts every name without a
node, and every node without data, on one line (``graphedit check`` and the run).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphedit.errors import GraphEditError, TrainingError
from graphedit.model.document import GraphDocument
from graphedit.training.datasets import BUILDERS, DatasetInfo, normalize_spec


def _role_ids(document: GraphDocument, role: str) -> list[str]:
    return [n for n in document.topological_order() if document.node_type(n).role == role]


def target_param_shape(info: DatasetInfo) -> list[int]:
    """A Target's ``shape`` parameter for the dataset: class indices [N] are written as [1] with int64."""
    assert info.target_shape is not None
    return list(info.target_shape) or [1]


def fitted_shapes(document: GraphDocument, info: DatasetInfo) -> dict[str, tuple[list[int], str]]:
    """The ``shape`` and ``dtype`` each Input/Target node gets from the dataset (the one rule for the run and
    the editor): the single Input and Target, or each node a named input or target feeds."""
    inputs, targets = _role_ids(document, "input"), _role_ids(document, "target")
    wanted: dict[str, tuple[list[int], str]] = {}
    if info.inputs is not None:  # named fields: each feeds the node it names, when that node exists
        for node_id, field in info.inputs.items():
            if node_id in inputs:
                wanted[node_id] = (list(field["shape"]), field["dtype"])
        for node_id, field in (info.targets or {}).items():
            if node_id in targets:
                wanted[node_id] = (list(field["shape"]) or [1], field["dtype"])
        return wanted
    if len(inputs) == 1:
        wanted[inputs[0]] = (list(info.feature_shape), info.feature_dtype)
    if len(targets) == 1 and info.target_shape is not None:
        wanted[targets[0]] = (target_param_shape(info), info.target_dtype or "float32")
    return wanted


def fit_inputs_to_dataset(document: GraphDocument, info: DatasetInfo) -> list[str]:
    """Set Input and Target shape/dtype from the dataset; returns the ids of the nodes changed."""
    changed = []
    for node_id, (shape, dtype) in fitted_shapes(document, info).items():
        changed += _set(document, node_id, shape, dtype)
    return changed


def _set(document: GraphDocument, node_id: str, shape: list[int], dtype: str) -> list[str]:
    before = document.params(node_id)
    document.set_param(node_id, "shape", shape)
    document.set_param(node_id, "dtype", dtype)
    return [node_id] if document.params(node_id) != before else []


@dataclass(frozen=True)
class Binding:
    input_id: str  # the first Input when the data is named
    target_id: str | None
    named: bool = False  # X and y are dicts keyed by node id (a dataset with several inputs or targets)

    def kwargs(self, X: Any, y: Any) -> dict[str, Any]:
        if self.named:
            return {**X, **(y or {})}
        if self.target_id is None:
            return {self.input_id: X}
        return {self.input_id: X, self.target_id: y}


def name_problems(
    input_ids: list[str], target_ids: list[str], inputs: dict[str, Any], targets: dict[str, Any], dataset: str
) -> str | None:
    """One line naming every data name without a node of its role and every Input/Target node without data."""
    problems = []
    for role, ids, fields in (("Input", input_ids, inputs), ("Target", target_ids, targets)):
        for node_id, field in fields.items():
            if node_id not in ids:
                name = field.get("name", node_id) if isinstance(field, dict) else node_id
                via = f" (bound to '{node_id}')" if name != node_id else ""
                problems.append(f"'{name}'{via} has no {role} node of that name")
        problems += [f"{role} node '{n}' gets no data" for n in ids if n not in fields]
    if not problems:
        return None
    return (
        f"dataset '{dataset}' names its inputs and targets, and they do not match the graph: {'; '.join(problems)}. "
        "Fix: rename each Input/Target node to the name of the data it takes (or map them in the Dataset panel)."
    )


def _shape_text(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


def bind(compiled: Any, info: DatasetInfo) -> Binding:
    """Check the graph's Input/Target against the dataset; raise :class:`TrainingError` naming the node."""
    if info.inputs is not None:
        return _bind_named(compiled, info)
    if len(compiled.input_ids) != 1:
        raise TrainingError(
            f"the graph has {len(compiled.input_ids)} Input nodes ({', '.join(compiled.input_ids) or 'none'}); "
            "a built-in dataset feeds exactly one. Fix: keep a single Input node."
        )
    input_id = compiled.input_ids[0]
    shape, dtype = compiled.input_specs[input_id]
    if tuple(shape) != tuple(info.feature_shape) or dtype != info.feature_dtype:
        raise TrainingError(
            f"node '{input_id}': the Input expects {_shape_text(tuple(shape))} {dtype} per example but dataset "
            f"'{info.name}' gives {_shape_text(info.feature_shape)} {info.feature_dtype}. Fix: set its shape to "
            f"{list(info.feature_shape)} and dtype to {info.feature_dtype} (graphedit train does this for you).",
            node_id=input_id,
        )
    if info.target_shape is None:
        if compiled.target_ids:
            raise TrainingError(
                f"node '{compiled.target_ids[0]}': dataset '{info.name}' is a {info.task} dataset with no "
                "targets. Fix: remove the Target node and wire the Input into the loss's target port.",
                node_id=compiled.target_ids[0],
            )
        return Binding(input_id, None)
    if len(compiled.target_ids) != 1:
        raise TrainingError(
            f"dataset '{info.name}' has targets, and the graph needs exactly one Target node to receive them; "
            f"it has {len(compiled.target_ids)}. Fix: add one Target node and wire it into the loss."
        )
    target_id = compiled.target_ids[0]
    t_shape, t_dtype = compiled.input_specs[target_id]
    if tuple(t_shape) != tuple(info.target_shape) or t_dtype != info.target_dtype:
        want = target_param_shape(info)
        raise TrainingError(
            f"node '{target_id}': the Target expects {_shape_text(tuple(t_shape))} {t_dtype} per example but "
            f"dataset '{info.name}' gives {_shape_text(info.target_shape)} {info.target_dtype}. Fix: set its "
            f"shape to {want} and dtype to {info.target_dtype}.",
            node_id=target_id,
        )
    return Binding(input_id, target_id)


def _bind_named(compiled: Any, info: DatasetInfo) -> Binding:
    targets = info.targets or {}
    problem = name_problems(compiled.input_ids, compiled.target_ids, info.inputs or {}, targets, info.name)
    if problem:
        raise TrainingError(problem)
    for node_id, field in [*(info.inputs or {}).items(), *targets.items()]:
        shape, dtype = compiled.input_specs[node_id]
        want = tuple(field["shape"])
        if tuple(shape) != want or dtype != field["dtype"]:
            raise TrainingError(
                f"node '{node_id}': it expects {_shape_text(tuple(shape))} {dtype} per example but '{field['name']}' "
                f"of dataset '{info.name}' gives {_shape_text(want)} {field['dtype']}. Fix: set its shape to "
                f"{list(want) or [1]} and dtype to {field['dtype']} (graphedit train does this for you).",
                node_id=node_id,
            )
    first_target = compiled.target_ids[0] if compiled.target_ids else None
    return Binding(compiled.input_ids[0], first_target, named=True)


def project_binding_problem(document: GraphDocument, spec: dict[str, Any]) -> str | None:
    """What ``graphedit check`` and the editor say before a run: data names without nodes, nodes without data.

    Asks only the dataset's options (no file is read); a spec that does not load is left to the run.
    """
    try:
        spec = normalize_spec(spec)
    except GraphEditError:
        return None
    builder = BUILDERS[spec["name"]]
    names = builder.names(spec["options"]) if builder.names is not None else None
    inputs, targets = _role_ids(document, "input"), _role_ids(document, "target")
    if names is None:
        if len(inputs) > 1:
            return (
                f"dataset '{spec['name']}' feeds one Input node, and the graph has {len(inputs)} "
                f"({', '.join(inputs)}): {', '.join(repr(n) for n in inputs[1:])} would get no data. Fix: keep one "
                "Input, or choose a dataset with several named inputs (a .npz with option inputs, digit_pairs)."
            )
        return None
    bind = spec.get("bind") or {}

    def fields(given: list[str]) -> dict[str, dict[str, str]]:
        return {bind.get(n, n): {"name": n} for n in given}

    return name_problems(inputs, targets, fields(names[0]), fields(names[1]), spec["name"])
