"""Exports of a project's trained model (DESIGN.md decision 9).

:func:`export_project` is what File ▸ Export and ``graphedit export`` call:
TorchScript, ONNX (verified in ONNX Runtime), safetensors plus graph JSON, and
a standalone Python file. Only the inference model is exported: targets,
losses, penalties, noise and dropout are left out, BatchNorm uses its running
statistics. An untrained project is refused unless the initial weights are
asked for explicitly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphedit.export.weights import ExportError, UntrainedError

FORMATS = {"torchscript": ".pt", "onnx": ".onnx", "safetensors": ".safetensors", "python": ".py"}

__all__ = ["FORMATS", "ExportError", "UntrainedError", "export_project", "is_trained"]


def is_trained(project: Any) -> bool:
    """Whether the project has trained weights (the GUI asks before exporting initial weights otherwise)."""
    return project.weights is not None


def export_project(project: Any, fmt: str, path: str | Path, initial_weights: bool = False) -> dict[str, Any]:
    """Export ``project`` as ``fmt`` (one of :data:`FORMATS`) to ``path``; returns a report.

    The report holds ``format``, ``path``, ``trained``, ``warnings`` (lines to show: weights holding NaN or
    infinity are exported all the same, so a diverged model can be inspected) and the check made
    (``max_abs_diff`` against the torch model). Raises :class:`UntrainedError`
    for a project without trained weights unless ``initial_weights`` is true,
    and :class:`ExportError` when a format cannot express the model.
    """
    from graphedit.export.common import export_model
    from graphedit.export.weights import compile_for_export, nonfinite_warning

    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    path = Path(path)
    if not path.parent.is_dir():
        raise ExportError(f"{path}: the folder {path.parent} does not exist; create it or choose another path")
    compiled, trained = compile_for_export(project, initial_weights)
    warning = nonfinite_warning(project, compiled.root.state_dict()) if trained else None
    em = export_model(project, compiled, trained)
    if fmt == "torchscript":
        from graphedit.export.torchscript import export_torchscript

        check = export_torchscript(em, path)
    elif fmt == "onnx":
        from graphedit.export.onnx_export import export_onnx

        check = export_onnx(em, path)
    elif fmt == "safetensors":
        from graphedit.export.safetensors_export import export_safetensors

        check = export_safetensors(em, path)
    else:
        from graphedit.export.python_source import class_name, export_python

        title = (getattr(project, "meta", None) or {}).get("title", "")
        check = export_python(em, path, class_name(project), title)
    return {"format": fmt, "path": str(path), "trained": trained, "warnings": [warning] if warning else [], **check}
