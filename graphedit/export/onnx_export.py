"""ONNX export (opset 20, dynamic batch axis), checked with ``onnx.checker`` and ONNX Runtime.

Opset 20 (≥ 17) is used because it has ``Gelu`` as one operator instead of an
Erf decomposition, which keeps the file readable and importable. The exporter
is torch's TorchScript-based one (``dynamo=False``): it is fast and handles fx
GraphModules with catalog functions.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

from graphedit.export.common import ExportModel, max_abs_diff, scaled_diff
from graphedit.export.weights import ExportError

OPSET = 20
TOLERANCE = 1e-4


def export_onnx(em: ExportModel, path: str | Path) -> dict[str, float]:
    """Write ``path`` (``.onnx``); returns ``{"max_abs_diff": ...}`` of ONNX Runtime vs the torch model."""
    path = Path(path)
    example = em.example_inputs(batch=2)
    axes = {name: {0: "batch"} for name in [*em.input_names, *em.output_names]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(
                em.model,
                example,
                str(path),
                dynamo=False,
                opset_version=OPSET,
                input_names=em.input_names,
                output_names=em.output_names,
                dynamic_axes=axes,
                do_constant_folding=True,
                # the model is already in eval mode; PRESERVE exports it so but skips the Conv+BatchNorm
                # fusion, so BatchNorm stays a layer of its own and an import gets the same parameters back
                training=torch.onnx.TrainingMode.PRESERVE,
            )
        except Exception as exc:
            first = str(exc).splitlines()[0]
            if "adaptive" in first and "not factor of input size" in first:
                raise ExportError(
                    "ONNX export failed: ONNX has no adaptive pooling to an output size that does not divide the "
                    "input size; choose an AdaptiveAvgPool2d/AdaptiveMaxPool2d size that divides it (e.g. 1), "
                    "or export as TorchScript or Python"
                ) from None
            raise ExportError(f"ONNX export failed: {first}") from None
    try:
        onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    except Exception as exc:
        raise ExportError(f"{path}: onnx.checker rejects the exported model: {exc}") from None
    check = em.example_inputs(batch=3, seed=1)
    got = run_onnx(path, dict(zip(em.input_names, check)))
    want = em.run(check)
    diff = max_abs_diff(want, got)
    if scaled_diff(want, got) > TOLERANCE:
        raise ExportError(
            f"ONNX Runtime's outputs for {path} differ from the model's by {diff:.3g} (> {TOLERANCE} of the largest "
            "output, or of 1)."
        )
    return {"max_abs_diff": diff}


def run_onnx(path: str | Path, inputs: dict[str, torch.Tensor]) -> list[np.ndarray]:
    """Run an ONNX file in ONNX Runtime on the CPU; returns the outputs in order."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    wanted = {i.name for i in session.get_inputs()}  # an input the model ignores is dropped by the exporter
    feed = {name: t.numpy() for name, t in inputs.items() if name in wanted}
    return session.run(None, feed)
