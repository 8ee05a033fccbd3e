"""What every export format needs: the inference model, its input/output names and example inputs."""

from __future__ import annotations

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

    def example_inputs(self, batch: int = 2, seed: int = 0) -> tuple[torch.Tensor, ...]:
        """Random inputs of the right shapes and dtypes; token ids stay below the smallest vocabulary."""
        gen = torch.Generator().manual_seed(seed)
        vocab = min((m.num_embeddings for m in self.model.modules() if isinstance(m, nn.Embedding)), default=2)
        out = []
        for name in self.input_names:
            shape, dtype = self.input_specs[name]
            if dtype == "int64":
                out.append(torch.randint(0, max(vocab, 1), (batch, *shape), generator=gen))
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
    return ExportModel(model, list(compiled.input_ids), unique, specs, doc.to_json(), trained)


def max_abs_diff(a: list[Any], b: list[Any]) -> float:
    worst = 0.0
    for x, y in zip(a, b):
        x = torch.as_tensor(x, dtype=torch.float64)
        y = torch.as_tensor(y, dtype=torch.float64)
        if x.shape != y.shape:
            return float("inf")
        if x.numel():
            worst = max(worst, float((x - y).abs().max()))
    return worst
