"""Checkpoints as safetensors + JSON: weights, optimizer state, RNG state, progress.

Nothing is pickled (DESIGN.md decision 8). Tensors go into one safetensors
file under prefixed names (``model/…``, ``best/…``, ``optim/<param>/<key>``,
``rng/…``); everything else (epoch, step, optimizer hyper-parameters, the
scheduler's counters, early-stopping state, history) is JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from graphedit.errors import TrainingError, WeightsError
from graphedit.model.jsontext import JsonTextError, parse
from graphedit.training.weights_file import check_regular_file, read_weights

CHECKPOINT = "checkpoint.safetensors"
CHECKPOINT_META = "checkpoint.json"


def _jsonable(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.item() if value.numel() == 1 else value.tolist()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def flatten_optimizer(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split ``optimizer.state_dict()`` into tensors (``optim/<param>/<key>``) and a JSON part."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, per_param in state["state"].items():
        for key, value in per_param.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim/{index}/{key}"] = value.detach()  # live: snapshot_state copies before a write
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": _jsonable(state["param_groups"]), "scalars": scalars}


def unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith("optim/"):
            _, index, key = name.split("/", 2)
            state.setdefault(int(index), {})[key] = value
    for index, values in meta.get("scalars", {}).items():
        state.setdefault(int(index), {}).update(values)
    return {"state": state, "param_groups": meta["param_groups"]}


def _tensor_json(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return _jsonable(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def snapshot_state(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> tuple[dict[str, torch.Tensor], str]:
    """A copy that training may run on past: the tensors copied to the CPU, the rest as JSON text.

    The JSON is compact and tensors in it are converted as the encoder meets them: that keeps json's C
    encoder (an indent, or a walk over the whole history first, took ~3 ms a checkpoint at 60 epochs, in
    the loop)."""
    copies = {k: v.detach().to("cpu", copy=True).contiguous() for k, v in tensors.items()}
    return copies, json.dumps(meta, default=_tensor_json)


def write_checkpoint(folder: Path, tensors: dict[str, torch.Tensor], meta_text: str) -> None:
    """Write both files of a :func:`snapshot_state`; the JSON last, so a checkpoint.json always has its tensors."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (CHECKPOINT + ".tmp")
    save_file(tensors, str(tmp))
    tmp.replace(folder / CHECKPOINT)
    tmp_meta = folder / (CHECKPOINT_META + ".tmp")
    tmp_meta.write_text(meta_text, encoding="utf-8")
    tmp_meta.replace(folder / CHECKPOINT_META)


def save_checkpoint(folder: Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    """Write a checkpoint now (in this thread)."""
    write_checkpoint(folder, *snapshot_state(tensors, meta))


def load_checkpoint(folder: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    meta_path, tensor_path = folder / CHECKPOINT_META, folder / CHECKPOINT
    if not meta_path.exists() or not tensor_path.exists():
        raise TrainingError(f"{folder}: no checkpoint to resume from. Fix: train without --resume first.")
    try:
        check_regular_file(meta_path)
        meta = parse(meta_path.read_text(encoding="utf-8"))
        tensors = read_weights(tensor_path)  # a regular safetensors file, checked before any tensor is read
    except (OSError, ValueError, JsonTextError, WeightsError) as exc:
        raise TrainingError(f"{folder}: the checkpoint cannot be read ({exc}). Fix: train without --resume.") from None
    if not isinstance(meta, dict):
        raise TrainingError(f"{folder}: {CHECKPOINT_META} is not a JSON object. Fix: train without --resume.")
    return tensors, meta


class TrainerState:
    """Mixin of :class:`graphedit.training.trainer.Trainer`: what a checkpoint holds and how to restore it."""

    def checkpoint_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors = {f"model/{k}": v for k, v in self.root.state_dict().items()}
        if self.best_state is not None:
            tensors.update({f"best/{k}": v for k, v in self.best_state.items()})
        optim_tensors, optim_meta = flatten_optimizer(self.optimizer.state_dict())
        tensors.update(optim_tensors)
        tensors["rng/torch"] = torch.get_rng_state()
        tensors["rng/generator"] = self.generator.get_state()
        meta = {
            "epoch": self.epoch,
            "step": self.step,
            "optimizer": optim_meta,
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "scaler": None if self.scaler is None else self.scaler.state_dict(),
            "best_loss": self.best_loss,
            "best_epoch": self.best_epoch,
            "since_best": self.since_best,
            "history": list(self.history),
        }
        return tensors, meta

    def restore_state(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        """Continue from a checkpoint: the next :meth:`fit` starts at the saved epoch + 1."""
        device = self.device
        model = {k[len("model/") :]: v for k, v in tensors.items() if k.startswith("model/")}
        try:
            self.root.load_state_dict(model)
        except RuntimeError as exc:
            raise TrainingError(
                f"the checkpoint does not fit this graph ({str(exc).splitlines()[0]}). "
                "Fix: the graph changed since that run; train from scratch without --resume."
            ) from None
        best = {k[len("best/") :]: v.to(device) for k, v in tensors.items() if k.startswith("best/")}
        self.best_state = best or None
        self.optimizer.load_state_dict(unflatten_optimizer(tensors, meta["optimizer"]))
        if self.scheduler is not None and meta.get("scheduler"):
            self.scheduler.load_state_dict(meta["scheduler"])
        if self.scaler is not None and meta.get("scaler"):
            self.scaler.load_state_dict(meta["scaler"])
        torch.set_rng_state(tensors["rng/torch"])
        self.generator.set_state(tensors["rng/generator"])
        self._seeded = True
        self.epoch = int(meta["epoch"])
        self.step = int(meta["step"])
        self.best_loss = float(meta["best_loss"])
        self.best_epoch = int(meta["best_epoch"])
        self.since_best = int(meta["since_best"])
        self.history = list(meta.get("history", []))
