"""TorchScript export: ``torch.jit.load`` runs it in a process without GraphEdit.

The inference model is traced in evaluation mode (so Dropout is gone, BatchNorm
uses its running statistics and Reparameterize returns μ), then loaded back and
checked against the model at a batch size other than the traced one, which
catches a batch size baked into the trace.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from graphedit.export.common import ExportModel, max_abs_diff
from graphedit.export.weights import ExportError

TOLERANCE = 1e-5


def export_torchscript(em: ExportModel, path: str | Path) -> dict[str, float]:
    """Write ``path`` (``.pt``); returns ``{"max_abs_diff": ...}`` of the reloaded module vs the model."""
    path = Path(path)
    example = em.example_inputs(batch=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit.trace is deprecated upstream but still the portable format
        try:
            traced = torch.jit.trace(em.model, example, check_trace=False)
        except Exception as exc:
            raise ExportError(f"TorchScript export failed while tracing the model: {exc}") from None
        torch.jit.save(traced, str(path))
        loaded = torch.jit.load(str(path))
    check = em.example_inputs(batch=3, seed=1)
    with torch.no_grad():
        got = loaded(*check)
    got = list(got) if isinstance(got, (tuple, list)) else [got]
    diff = max_abs_diff(em.run(check), got)
    if diff > TOLERANCE:
        raise ExportError(f"TorchScript export of {path} differs from the model by {diff:.3g}; it was not kept.")
    return {"max_abs_diff": diff}
