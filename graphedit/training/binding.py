"""Bind a dataset to a graph: X feeds the (single) Input node, y the Target node.

Reconstruction datasets have no y: the graph wires the Input to the loss's
target itself, so it has no Target node. :func:`fit_inputs_to_dataset` sets
the Input/Target shape and dtype parameters from the dataset (the command
line does this, so users never type sizes); :func:`bind` checks they fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphedit.errors import TrainingError
from graphedit.model.document import GraphDocument
from graphedit.training.datasets import DatasetInfo


def _role_ids(document: GraphDocument, role: str) -> list[str]:
    return [n for n in document.topological_order() if document.node_type(n).role == role]


def target_param_shape(info: DatasetInfo) -> list[int]:
    """A Target's ``shape`` parameter for the dataset: class indices [N] are written as [1] with int64."""
    assert info.target_shape is not None
    return list(info.target_shape) or [1]


def fit_inputs_to_dataset(document: GraphDocument, info: DatasetInfo) -> list[str]:
    """Set Input and Target shape/dtype from the dataset; returns the ids of the nodes changed."""
    inputs, targets = _role_ids(document, "input"), _role_ids(document, "target")
    changed = []
    if len(inputs) == 1:
        changed += _set(document, inputs[0], list(info.feature_shape), info.feature_dtype)
    if len(targets) == 1 and info.target_shape is not None:
        changed += _set(document, targets[0], target_param_shape(info), info.target_dtype or "float32")
    return changed


def _set(document: GraphDocument, node_id: str, shape: list[int], dtype: str) -> list[str]:
    before = document.params(node_id)
    document.set_param(node_id, "shape", shape)
    document.set_param(node_id, "dtype", dtype)
    return [node_id] if document.params(node_id) != before else []


@dataclass(frozen=True)
class Binding:
    input_id: str
    target_id: str | None

    def kwargs(self, X: Any, y: Any) -> dict[str, Any]:
        if self.target_id is None:
            return {self.input_id: X}
        return {self.input_id: X, self.target_id: y}


def _shape_text(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


def bind(compiled: Any, info: DatasetInfo) -> Binding:
    """Check the graph's Input/Target against the dataset; raise :class:`TrainingError` naming the node."""
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
