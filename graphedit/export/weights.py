"""The weights an export starts from: the project's trained safetensors file, checked by SHA-256.

Nothing is unpickled (DESIGN.md decision 8): weights are read with
``safetensors.torch.load_file`` only. A project without trained weights is
exported only when the caller asks for the initial weights explicitly.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from graphedit.compiler.compile import Compiled, compile_graph
from graphedit.errors import GraphEditError


class ExportError(GraphEditError):
    """An export that cannot be made; the message says why and what to do."""


class UntrainedError(ExportError):
    """The project has no trained weights and the initial weights were not asked for."""


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def project_name(project: Any) -> str:
    path = getattr(project, "path", None)
    return str(path) if path is not None else "the project"


def load_weights(project: Any) -> dict[str, torch.Tensor]:
    """The project's trained state dict; raises :class:`ExportError` if the file is missing or changed."""
    if project.weights is None:
        raise UntrainedError(f"{project_name(project)} has no trained weights.")
    path = project.weights_file()
    if path is None or not path.exists():
        where = path or project.weights["path"]
        raise ExportError(
            f"{project_name(project)}: its weights file {where} is missing; train the project again "
            "or put the file back beside the project."
        )
    if sha256_file(path) != project.weights["sha256"]:
        raise ExportError(
            f"{path}: the weights file does not match the SHA-256 recorded in {project_name(project)}; "
            "it was changed or replaced after training: train again or restore the file."
        )
    return load_file(str(path))


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
    try:
        compiled.root.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ExportError(
            f"{project.weights_file()}: the trained weights do not fit the graph ({str(exc).splitlines()[0]}); "
            "the graph was edited after training: train it again."
        ) from None
    return compiled, True
