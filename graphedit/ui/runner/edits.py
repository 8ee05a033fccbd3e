"""Undoable edits of a project's non-graph sections: training settings, dataset, weights.

They go on the controller's undo stack beside the graph edits, so Undo takes back a
changed learning rate like a moved node, and the window's dirty marker and autosave
follow them for free. Consecutive edits of one field (arrow clicks on a spin box) merge.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoCommand, QUndoStack

from graphedit.model.project import Project
from graphedit.training.binding import fitted_shapes
from graphedit.training.datasets import DatasetInfo

if TYPE_CHECKING:
    from graphedit.ui.controller import EditorController


SETTING_ID = 2001
MERGE_S = 2.0


class SettingCommand(QUndoCommand):
    """Set ``project.<section>`` at ``path`` (a key path; empty: the whole section) to ``value``."""

    def __init__(self, project: Project, section: str, path: tuple[str, ...], value: Any, text: str) -> None:
        super().__init__(text)
        self.project, self.section, self.path = project, section, tuple(path)
        self.before = copy.deepcopy(getattr(project, section))
        self.after = set_in(self.before, self.path, value)
        self.when = time.monotonic()

    def changes(self) -> bool:
        return self.after != self.before

    def redo(self) -> None:
        setattr(self.project, self.section, copy.deepcopy(self.after))

    def undo(self) -> None:
        setattr(self.project, self.section, copy.deepcopy(self.before))

    def id(self) -> int:
        return SETTING_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt's name)
        if not isinstance(other, SettingCommand) or (other.project, other.section, other.path) != (
            self.project,
            self.section,
            self.path,
        ):
            return False
        if other.when - self.when > MERGE_S:
            return False
        self.after, self.when = other.after, other.when
        return True


class WeightsCommand(QUndoCommand):
    """Point the project to other weights (a run's), or back."""

    def __init__(self, project: Project, weights: dict[str, str] | None, text: str) -> None:
        super().__init__(text)
        self.project, self.before, self.after = project, copy.deepcopy(project.weights), copy.deepcopy(weights)

    def redo(self) -> None:
        self.project.weights = copy.deepcopy(self.after)

    def undo(self) -> None:
        self.project.weights = copy.deepcopy(self.before)


def set_in(data: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A deep copy of ``data`` with ``value`` at ``path`` (nested dicts are created as needed)."""
    if not path:
        return copy.deepcopy(value)
    out = copy.deepcopy(data)
    node = out
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = copy.deepcopy(value)
    return out


def get_in(data: dict[str, Any], path: tuple[str, ...], default: Any = None) -> Any:
    node: Any = data
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return default
        node = node[key]
    return node


def push_setting(
    stack: QUndoStack, project: Project, section: str, path: tuple[str, ...], value: Any, text: str
) -> bool:
    """Push the edit if it changes anything; ``True`` when it did."""
    command = SettingCommand(project, section, path, value, text)
    if not command.changes():
        return False
    stack.push(command)
    return True


def fit_graph_to_dataset(
    controller: EditorController, info: DatasetInfo, on_error: Callable[[str], None] | None = None
) -> list[str]:
    """Set the Input/Target shape and dtype from the dataset through the controller (one undo step).

    The rule of :func:`graphedit.training.binding.fitted_shapes`, which the run uses too, so the canvas
    shows the shapes the run will use; returns the ids of the nodes changed.
    """
    doc = getattr(controller, "root", controller.document)  # the project's graph, also while a block is open
    wanted = fitted_shapes(doc, info)
    changed = []
    wanted = {
        n: (shape, dtype)
        for n, (shape, dtype) in wanted.items()
        if list(doc.params(n).get("shape") or []) != shape or doc.params(n).get("dtype") != dtype
    }
    if wanted and doc is not controller.document:
        controller.leave_block(0)  # the Input and Target nodes are in the project's graph
    try:
        with controller.batch(f"Fit inputs to dataset {info.name}"):
            for node_id, (shape, dtype) in wanted.items():
                params = doc.params(node_id)
                if list(params.get("shape") or []) != shape or params.get("dtype") != dtype:
                    controller.set_param(node_id, "shape", shape, merge=False)
                    controller.set_param(node_id, "dtype", dtype, merge=False)
                    changed.append(node_id)
    except Exception as exc:  # a custom Input type that refuses the shape: say so, keep the graph
        if on_error is not None:
            on_error(f"could not fit the inputs to dataset {info.name}: {exc}")
        return []
    return changed
