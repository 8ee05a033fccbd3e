"""What the Inside dock asks of a run: embeddings of a node at each epoch's end, and weight snapshots for the landscape.

Neither is a project setting: the editor passes them as a run override, ``{"inside": {"embed": node_id,
"snapshots": True}}`` (:func:`inside_request`), when the Embeddings or Landscape view is open or the
lesson opens on it. :class:`InsideRecorder` is an observer of the trainer:

* ``embed``: once before the first epoch and after each epoch (after at most 19 evenly spaced ones
  in a long run) it runs the node over the first :data:`EMBED_EXAMPLES` validation examples (the
  examples the Inside dock shows, in its order), in evaluation mode, and sends the PCA coordinates as
  a probe payload of kind ``"embedding"``. One forward pass of a few hundred examples each time:
  measured at 2–7 % of a run's CPU time with the snapshots as well (lessons, bench cases).
* ``snapshots``: it keeps at most :data:`MAX_SNAPSHOTS` copies of the weights (the initial ones
  first, then evenly spaced epoch ends, the trained weights last) in memory, as float32 on the CPU,
  and writes them to ``snapshots.safetensors`` in the run folder when the run ends, outside the
  timed loop (:func:`load_snapshots` reads them back, oldest first).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from graphedit.training.events import EpochEvent, FinishedEvent, ProbeEvent, StartedEvent

EMBED_EXAMPLES = 256  # the Inside dock's examples (inspection.EXAMPLES of the dock)
MAX_SNAPSHOTS = 20
SNAPSHOTS = "snapshots.safetensors"
REQUEST = "inside"


def inside_request(overrides: dict[str, Any] | None) -> dict[str, Any]:
    """The Inside dock's part of a run's overrides (empty when it asks nothing)."""
    request = (overrides or {}).get(REQUEST)
    return dict(request) if isinstance(request, dict) else {}


def snapshot_epochs(epochs: int, first_epoch: int = 0, keep: int = MAX_SNAPSHOTS) -> set[int]:
    """The epoch ends whose weights are kept: evenly spaced, the last epoch always, ``keep − 1`` at most."""
    span = max(epochs - first_epoch, 0)
    if span <= keep - 1:
        return set(range(first_epoch + 1, epochs + 1))
    return {first_epoch + math.ceil(span * i / (keep - 1)) for i in range(1, keep)}


class InsideRecorder:
    """See the module doc. ``folder`` is the run folder (``None``: snapshots are kept, not written)."""

    def __init__(self, request: dict[str, Any], folder: str | Path | None) -> None:
        self.embed = str(request.get("embed") or "")
        self.snapshots_wanted = bool(request.get("snapshots"))
        self.folder = None if folder is None else Path(folder)
        self.trainer: Any = None
        self.snapshots: list[tuple[str, dict[str, torch.Tensor]]] = []
        self.epochs: set[int] = set()
        self.x: torch.Tensor | None = None
        self.previous: torch.Tensor | None = None

    def attach(self, trainer: Any) -> None:
        self.trainer = trainer
        if self.embed and self.embed not in trainer.compiled.order:
            self.embed = ""  # a node the run's graph does not have (the view followed an edit)
        if self.embed:
            split = trainer.data.val if trainer.data.val is not None and len(trainer.data.val) else trainer.data.train
            self.x = _first_inputs(split, EMBED_EXAMPLES)

    def __call__(self, event: Any) -> None:
        if self.trainer is None:
            return
        try:
            self._observe(event)
        except Exception:  # noqa: BLE001 - what a view asked for never fails the run: it goes on without it
            self.trainer, self.snapshots = None, []

    def _observe(self, event: Any) -> None:
        if isinstance(event, StartedEvent):  # after a resumed run's checkpoint is restored
            self.epochs = snapshot_epochs(self.trainer.settings.epochs, self.trainer.epoch)
            if self.snapshots_wanted:
                self._keep("initial" if self.trainer.epoch == 0 else f"epoch {self.trainer.epoch}")
            self.first_probe()
        if isinstance(event, EpochEvent):
            if self.snapshots_wanted and event.epoch in self.epochs:
                self._keep(f"epoch {event.epoch}")
            if self.embed and event.epoch in self.epochs:  # ≤ 19 updates a run: many tiny epochs cost little
                self.trainer._emit(ProbeEvent(event.step, self.embedding(event.step, event.epoch)))
        elif isinstance(event, FinishedEvent) and self.snapshots_wanted:
            self._finish()

    def first_probe(self) -> None:
        """The embedding of the initial weights (sent once the run has started)."""
        if self.embed and self.trainer is not None:
            self.trainer._emit(ProbeEvent(self.trainer.step, self.embedding(self.trainer.step, self.trainer.epoch)))

    def embedding(self, step: int, epoch: int) -> dict[str, Any]:
        from graphedit.training.embeddings import activations, pca

        trainer = self.trainer
        compiled = trainer.compiled
        device = next(iter(compiled.root.parameters()), torch.zeros(0)).device
        values = activations(compiled, self.embed, self.x.to(device)).cpu()
        coords, share = pca(values)
        if self.previous is not None:  # a component's sign is arbitrary: keep its orientation, so points do not jump
            coords = coords * torch.where((coords * self.previous).sum(0) < 0, -1.0, 1.0)
        self.previous = coords
        return {
            "kind": "embedding",
            "step": step,
            "epoch": epoch,
            "node": self.embed,
            "coords": coords.numpy(),
            "share": [float(s) for s in share],
            "features": int(values.shape[1]),
        }

    def _keep(self, label: str) -> None:
        state = self.trainer.root.state_dict()
        kept = {k: v.detach().to("cpu", torch.float32, copy=True) for k, v in state.items() if v.is_floating_point()}
        self.snapshots.append((label, kept))

    def _finish(self) -> None:
        if self.snapshots and self.snapshots[-1][0] != "initial":
            self.snapshots.pop()  # the last epoch's copy: replaced by the trained weights (best epoch, if restored)
        self._keep("trained")
        if len(self.snapshots) > MAX_SNAPSHOTS:
            self.snapshots = self.snapshots[: MAX_SNAPSHOTS - 1] + self.snapshots[-1:]
        if self.folder is not None:
            write_snapshots(self.folder / SNAPSHOTS, self.snapshots)


def _first_inputs(split: Any, count: int) -> torch.Tensor:
    xs, have = [], 0
    for x, _y in split.batches(min(count, 256)):
        xs.append(x.cpu())
        have += len(x)
        if have >= count:
            break
    return torch.cat(xs)[:count]


def write_snapshots(path: Path, snapshots: list[tuple[str, dict[str, torch.Tensor]]]) -> None:
    """One safetensors file: tensor ``"{index:02d}/{key}"``, labels in the metadata."""
    from safetensors.torch import save_file

    tensors = {f"{i:02d}/{k}": v.contiguous() for i, (_, state) in enumerate(snapshots) for k, v in state.items()}
    labels = "\n".join(label for label, _ in snapshots)
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata={"labels": labels})
    tmp.replace(path)


def load_snapshots(path: str | Path) -> list[tuple[str, dict[str, torch.Tensor]]]:
    """The snapshots of :func:`write_snapshots`, oldest first (``[]`` when there is no file)."""
    from safetensors import safe_open

    path = Path(path)
    if not path.exists():
        return []
    with safe_open(str(path), framework="pt") as f:
        labels = (f.metadata() or {}).get("labels", "").split("\n")
        out: list[dict[str, torch.Tensor]] = [{} for _ in labels]
        names = f.keys()  # safetensors' handle is not iterable
        for name in names:
            index, key = name.split("/", 1)
            out[int(index)][key] = f.get_tensor(name)
    return list(zip(labels, out))
