"""User-facing error types.

Every message names the node or file, says what is wrong and how to fix it.
Callers show ``str(error)`` to the user as it is.
"""

from __future__ import annotations


class GraphEditError(Exception):
    """Base of every error a user may see."""


class GraphError(GraphEditError):
    """An edit that would make the graph invalid (cycle, bad port, taken id)."""


class ParamError(GraphEditError):
    """A parameter value outside its type, range or choices."""


class NodeError(GraphEditError):
    """A node that cannot compute: wrong input shapes, missing input, build failure.

    ``node_id`` points back to the canvas; ``fix`` is the suggested remedy.
    """

    def __init__(self, node_id: str | None, problem: str, fix: str = "", path: tuple[str, ...] = ()) -> None:
        self.node_id = node_id
        self.problem = problem
        self.fix = fix
        self.path = path  # inside a block node: the inner node with the problem, ("0", "conv2") under "layer2"
        where = f"node '{node_id}': " if node_id else ""
        tail = f" Fix: {fix}" if fix else ""
        super().__init__(f"{where}{problem}.{tail}" if not problem.endswith(".") else f"{where}{problem}{tail}")


class ProjectFileError(GraphEditError):
    """A project file that cannot be read, with the file named in the message."""


class TrainingError(GraphEditError):
    """A training run that failed; ``node_id`` names the node when known."""

    def __init__(self, message: str, node_id: str | None = None) -> None:
        self.node_id = node_id
        super().__init__(message)


class WeightsError(GraphEditError):
    """A trained-weights file that cannot be used (outside the project's folder, not a file, damaged, not fitting)."""


class OutsidePathError(GraphEditError):
    """A path in a project that leads outside its folder and that the user has not allowed."""

    def __init__(self, message: str, path: str = "") -> None:
        self.path = path
        super().__init__(message)


class PictureError(GraphEditError):
    """A picture of the graph that cannot be written (a format it cannot have, the project itself as target)."""
