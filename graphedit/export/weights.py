"""The weights an export starts from: the project's trained safetensors file, checked by SHA-256.

Nothing is unpickled (DESIGN.md decision 8): weights are read with
``safetensors.torch.load_file`` only. A project without trained weights is
exported only when the caller asks for the initial weights explicitly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from graphedit.compiler.compile import Compiled, compile_graph
from graphedit.errors import GraphEditError
from graphedit.training import weights_file


class ExportError(GraphEditError):
    """An export that cannot be made; the message says why and what to do."""


class UntrainedError(ExportError):
    """The project has no trained weights and the initial weights were not asked for."""


def sha256_file(path: str | Path) -> str:
    return weights_file.sha256_file(path)


def project_name(project: Any) -> str:
    path = getattr(project, "path", None)
    return str(path) if path is not None else "the project"


def load_weights(project: Any) -> dict[str, torch.Tensor]:
    """The project's trained state dict, read by :mod:`graphedit.training.weights_file` (inside the project's
    folder, a regular file, safetensors with the recorded SHA-256); raises :class:`WeightsError` otherwise."""
    if project.weights is None:
        raise UntrainedError(f"{project_name(project)} has no trained weights.")
    if project.path is None:
        raise ExportError("the project has no file yet, so its weights have no folder; save the project first.")
    path = weights_file.weights_location(Path(project.path).parent, project.weights["path"])
    return weights_file.read_weights(path, project.weights["sha256"])


def nonfinite_warning(project: Any, state: dict[str, torch.Tensor]) -> str | None:
    """One line when trained weights hold NaN or infinity (the export goes on: the user may want to inspect it)."""
    bad = weights_file.nonfinite_tensors(state)
    if not bad:
        return None
    return (
        f"{project.weights_file()}: {len(bad)} weight tensor(s) hold NaN or infinity ({', '.join(bad[:3])}); "
        "the exported model will output NaN. Fix: train again with a lower learning rate or gradient clipping."
    )


def compile_for_export(project: Any, initial_weights: bool = False) -> tuple[Compiled, bool]:
    """Compile the project's graph on the CPU and load its weights; returns (compiled, trained).

    Without trained weights this raises :class:`UntrainedError` unless ``initial_weights`` is
    true, in which case the layers keep the initialisation of the project's seed.
    """
    seed = int(project.training.get("seed", 0)) if getattr(project, "training", None) else 0
    compiled = compile_graph(project.document, device="cpu", seed=seed)
    if project.weights is None:
        if not initial_weights:
            raise UntrainedError(
                f"{project_name(project)} has not been trained, so there are no trained weights to export. "
                "Train it first, or export its initial (untrained, randomly initialised) weights explicitly "
                "(command line: --initial-weights)."
            )
        return compiled, False
    state = load_weights(project)
    problem = weights_file.fit_problem(
        weights_file.signature_of(state), weights_file.signature_of(compiled.root.state_dict())
    )
    if problem:
        raise ExportError(
            f"{project.weights_file()}: the trained weights do not fit the graph ({problem}). "
            "Fix: the graph was edited after training: train it again."
        )
    try:
        compiled.root.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ExportError(
            f"{project.weights_file()}: the trained weights do not fit the graph ({str(exc).splitlines()[0]}); "
            "the graph was edited after training: train it again."
        ) from None
    return compiled, True
