"""The editor's question before a project reads data outside its folder (see graphedit/training/trust.py).

A dataset path that leads outside the project's folder is shown to the user and
read only after they allow it; the answer is kept in the per-user trust store
(never in the project file) for this project file and dataset section.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from PySide6.QtWidgets import QWidget

from graphedit.training import trust
from graphedit.ui.prompts import ask_yes

if TYPE_CHECKING:
    from graphedit.model.project import Project


class OutsidePathsPrompt(Protocol):
    """Who asks the user to allow a project's dataset paths outside its folder (a fake in the tests)."""

    def ask_allow_outside(self, project_name: str, paths: list[str]) -> bool: ...


class TrustPrompts:
    """The dialog (tests replace it with an object that answers at once)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.parent = parent

    def ask_allow_outside(self, project_name: str, paths: list[str]) -> bool:
        listed = "\n".join(f"  • {p}" for p in paths)
        return ask_yes(
            self.parent,
            "Read data outside the project's folder?",
            f"{project_name} wants to read its dataset from outside its own folder:\n\n{listed}\n\n"
            "A project file you did not make could use this to read your files. "
            "Allow it for this project (asked again if its dataset settings change)?",
            warning=True,
        )


def confirm_outside_paths(prompts: OutsidePathsPrompt, project: Project) -> bool:
    """``True`` when the project's dataset reads only its folder or the user allows the rest (remembered)."""
    paths = trust.unconfirmed(project.path, project.dataset)
    if not paths:
        return True
    name = project.path.name if project.path is not None else "This unsaved project"
    if not prompts.ask_allow_outside(name, paths):
        return False
    if project.path is not None:
        trust.confirm(project.path, project.dataset, paths)
    return True
