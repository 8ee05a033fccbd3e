"""Putting a trial's values into the project (and its trained weights, when they fit) as one undoable step."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from graphedit.errors import GraphEditError
from graphedit.model.experiment import SweepParam
from graphedit.training.runs import FINAL, point_project_to
from graphedit.ui.runner.edits import SettingCommand, WeightsCommand
from graphedit.ui.runner.run_records import weights_problem

if TYPE_CHECKING:
    from graphedit.ui.controller import EditorController
    from graphedit.ui.files import ProjectFiles


def apply_trial(
    controller: EditorController,
    files: ProjectFiles,
    params: list[SweepParam],
    values: dict[str, Any],
    run: str | None,
    text: str,
) -> str | None:
    """Set each swept parameter to the trial's value, then point to the trial's weights if they fit: one undo step.

    Returns why it could not (a node the value no longer fits, say), with the project left as it was, or ``None``.
    """
    project, stack = files.project, controller.undo_stack
    stack.beginMacro(text)
    try:
        for param in params:
            if param.name not in values:
                continue
            value = values[param.name]
            if param.section == "node":
                controller.set_param(param.owner, param.key, value, merge=False)
            elif param.section == "training":
                stack.push(SettingCommand(project, "training", (param.key,), value, f"{param.name}: {value}"))
            else:
                stack.push(SettingCommand(project, "dataset", ("options", param.key), value, f"{param.name}: {value}"))
        weights = Path(run) / FINAL if run else None
        if (
            weights is not None
            and weights.exists()
            and weights_problem(controller.document, weights, shapes=controller.shapes) is None
        ):
            pointer = point_project_to(SimpleNamespace(path=files.runs_base(), weights=None), weights, save=False)
            stack.push(WeightsCommand(project, pointer, f"Weights of run {weights.parent.name}"))
    except GraphEditError as exc:
        stack.endMacro()
        stack.undo()  # the values set before the refused one go back: all or nothing
        return str(exc)
    stack.endMacro()
    return None
