"""The model the "seeing inside" views look at: the project's graph compiled with its weights, and a few examples.

:func:`open_inspection` copies the graph (the editor's stays as it is), fits its Input and Target to
the dataset as a run does, compiles it on the CPU with the run's seed, loads the project's weights
when they fit the graph (else it stays untrained and says why), and keeps up to ``examples``
examples of the validation split (the training split when there is none). Every view (backprop
step by step, why this class, embeddings, the landscape, per-node time) starts from one of these.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from graphedit.errors import GraphEditError


@dataclass
class Inspection:
    document: Any  # the fitted copy of the graph
    compiled: Any
    info: Any  # the dataset's DatasetInfo
    x: torch.Tensor  # [N, ...] examples
    y: torch.Tensor | None
    binding: Any
    weights_note: str  # "trained weights from …", or why the weights are the initial ones
    trained: bool
    seed: int = 0
    weights_path: str | None = None  # the trained weights' file (its run folder may hold weight snapshots)

    def feed(self, index: Any) -> dict[str, torch.Tensor]:
        """The compiled graph's inputs for the examples at ``index`` (an int keeps a batch of one)."""
        if isinstance(index, int):
            index = slice(index, index + 1)
        y = None if self.y is None else self.y[index]
        return self.binding.kwargs(self.x[index], y)

    def classes(self) -> torch.Tensor | None:
        """Each example's class (for colouring), when the task has classes."""
        if self.y is None or self.info.num_classes is None:
            return None
        return self.y.view(len(self.y), -1)[:, 0].long()

    def is_image(self) -> bool:
        return self.x.dim() == 4


def open_inspection(
    project: Any, weights: str | Path | None = None, examples: int = 256, allow_outside: tuple[str, ...] = ()
) -> Inspection:
    """See the module doc; raises :class:`GraphEditError` (one line) when the dataset or graph cannot be used."""
    from graphedit.compiler import compile_graph
    from graphedit.model.project import node_types_of, project_from_json, project_to_json
    from graphedit.training import trust
    from graphedit.training.binding import bind, fit_inputs_to_dataset
    from graphedit.training.datasets import load_dataset
    from graphedit.training.runs import load_weights

    path = Path(project.path) if project.path is not None else None
    copy = project_from_json(project_to_json(project), str(path or "the project"), node_types_of(project.document))
    allowed = [*allow_outside, *trust.confirmed(path, copy.dataset)]
    with trust.allowing(allowed):
        data = load_dataset(copy.dataset, base_dir=path.parent if path is not None else None)
    fit_inputs_to_dataset(copy.document, data.info)
    seed = int(copy.training.get("seed", 0) or 0)
    compiled = compile_graph(copy.document, device="cpu", seed=seed)
    binding = bind(compiled, data.info)
    trained, note = False, "initial weights (the project has no trained weights yet)"
    if weights is not None and Path(weights).exists():
        try:
            load_weights(compiled.root, weights)
            trained, note = True, f"trained weights from {Path(weights).parent.name}/{Path(weights).name}"
        except GraphEditError as exc:
            note = f"initial weights: the trained ones do not fit ({str(exc).splitlines()[0]})"
    split = data.val if data.val is not None and len(data.val) else data.train
    x, y = _first(split, examples)
    path_text = str(weights) if trained else None
    return Inspection(copy.document, compiled, data.info, x, y, binding, note, trained, seed, path_text)


def _first(split: Any, count: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    xs, ys, have = [], [], 0
    for x, y in split.batches(min(count, 256)):
        if isinstance(x, dict):
            raise GraphEditError(
                f"the Inside views follow a network with one input; this dataset gives {len(x)} ({', '.join(x)}). "
                "Fix: look inside with the Live views while it trains, or inspect a one-input copy of the network."
            )
        xs.append(x)
        if y is not None:
            ys.append(y)
        have += len(x)
        if have >= count:
            break
    x = torch.cat(xs)[:count]
    return x, (torch.cat(ys)[:count] if ys else None)
