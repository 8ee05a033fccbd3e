"""What every export format needs: the inference model, its input/output names and example inputs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import fx, nn

from graphedit.compiler.compile import Compiled

DTYPES = {"float32": torch.float32, "int64": torch.int64}


@dataclass
class ExportModel:
    """The compiled inference model in evaluation mode, with named inputs and outputs."""

    model: fx.GraphModule
    input_names: list[str]
    output_names: list[str]
    input_specs: dict[str, tuple[tuple[int, ...], str]]
    graph_json: dict[str, Any]
    trained: bool
    masks: frozenset[str] = frozenset()  # inputs wired to an attention's padding mask

    def example_inputs(self, batch: int = 2, seed: int = 0) -> tuple[torch.Tensor, ...]:
        """Random inputs of the right shapes and dtypes; token ids stay below the smallest vocabulary."""
        gen = torch.Generator().manual_seed(seed)
        vocab = min((m.num_embeddings for m in self.model.modules() if isinstance(m, nn.Embedding)), default=2)
        out = []
        for name in self.input_names:
            shape, dtype = self.input_specs[name]
            if dtype == "int64":
                out.append(torch.randint(0, max(vocab, 1), (batch, *shape), generator=gen))
            elif name in self.masks:  # random values would mask every key (nonzero = ignore): mask the first's last
                mask = torch.zeros((batch, *shape))
                mask[0, ..., -1] = 1.0
                out.append(mask)
            else:
                out.append(torch.randn((batch, *shape), generator=gen))
        return tuple(out)

    def run(self, inputs: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
        with torch.no_grad():
            result = self.model(*inputs)
        return list(result) if isinstance(result, (tuple, list)) else [result]


def returned_nodes(gm: fx.GraphModule) -> list[fx.Node]:
    out = next(n for n in gm.graph.nodes if n.op == "output").args[0]
    return list(out) if isinstance(out, (tuple, list)) else [out]


def export_model(project: Any, compiled: Compiled, trained: bool) -> ExportModel:
    """Name the model's outputs after the Output nodes (their ``name`` parameter, else their id)."""
    doc = project.document
    if compiled.output_ids:
        names = [doc.params(o).get("name") or o for o in compiled.output_ids]
    else:
        names = [n.name for n in returned_nodes(compiled.model)]
    seen: set[str] = set(compiled.input_ids)
    unique = []
    for name in names:
        candidate, i = name, 2
        while candidate in seen:
            candidate, i = f"{name}_{i}", i + 1
        seen.add(candidate)
        unique.append(candidate)
    model = compiled.model.eval()
    specs = {n: compiled.input_specs[n] for n in compiled.input_ids}
    masks = frozenset(n for n in compiled.input_ids if any(e.dst_port == "mask" for e in doc.out_edges(n)))
    return ExportModel(model, list(compiled.input_ids), unique, specs, doc.to_json(), trained, masks)


def _float64(value: Any) -> torch.Tensor:
    value = value.detach().cpu() if isinstance(value, torch.Tensor) else value
    return torch.as_tensor(value, dtype=torch.float64)


def max_abs_diff(a: list[Any], b: list[Any]) -> float:
    """The largest |a − b| over matching tensors, ``a`` the reference: infinite for a shape mismatch and where ``b``
    alone is NaN (a plain max of NaN compares false with any tolerance, and would let a wrong model pass); where
    the reference itself is NaN (an attention row whose keys are all masked) there is nothing to compare."""
    worst = 0.0
    for x, y in zip(a, b):
        x, y = _float64(x), _float64(y)
        if x.shape != y.shape:
            return math.inf
        if x.numel():
            d = (x - y).abs()
            d[torch.isnan(x)] = 0.0
            worst = max(worst, float(torch.nan_to_num(d, nan=math.inf).max()))
    return worst


def scaled_diff(want: list[Any], got: list[Any]) -> float:
    """:func:`max_abs_diff` over the largest finite magnitude of ``want`` where that is above 1: float32 rounding
    grows with the values (a ResNet-50 with random weights gives outputs in the tens, which ONNX Runtime's kernels
    reproduce to 3e-4), so a parity check compares this with its tolerance."""
    scale = 1.0
    for w in want:
        w = _float64(w)
        finite = w[torch.isfinite(w)]
        if finite.numel():
            scale = max(scale, float(finite.abs().max()))
    return max_abs_diff(want, got) / scale
