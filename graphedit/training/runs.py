"""Run records: every training run leaves a folder beside the project.

``<project stem>.runs/<timestamp>/`` holds

* ``settings.json``: training settings, dataset spec and dataset metadata;
* ``metrics.csv`` and ``metrics.json``: one row per epoch (train_*/val_* columns, lr, seconds);
* ``best.safetensors``: the weights of the epoch with the lowest validation loss;
* ``final.safetensors``: the weights at the end (the best ones when early stopping restored them);
* ``checkpoint.safetensors`` + ``checkpoint.json``: weights, optimizer and RNG state after the
  last finished epoch, to resume from;
* ``summary.json``: the trainer's final summary (or the failure).

Weights are ``compiled.root.state_dict()`` in safetensors; they are read back
with safetensors only, never ``torch.load``. The project points to its current
weights by relative path and SHA-256 (:func:`point_project_to`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import time
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from graphedit.errors import TrainingError
from graphedit.training.checkpoint import save_checkpoint
from graphedit.training.events import EpochEvent, FailedEvent, FinishedEvent

BEST = "best.safetensors"
FINAL = "final.safetensors"


def runs_folder(project_path: str | os.PathLike[str]) -> Path:
    path = Path(project_path)
    return path.with_name(f"{path.stem}.runs")


def new_run_dir(project_path: str | os.PathLike[str]) -> Path:
    """A fresh ``<stem>.runs/<YYYYmmdd-HHMMSS>`` folder (``-2``, ``-3``… when the second is taken)."""
    base = runs_folder(project_path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder, n = base / stamp, 1
    while folder.exists():
        n += 1
        folder = base / f"{stamp}-{n}"
    folder.mkdir(parents=True)
    return folder


def latest_run(project_path: str | os.PathLike[str], with_checkpoint: bool = False) -> Path | None:
    base = runs_folder(project_path)
    if not base.is_dir():
        return None
    runs = sorted((p for p in base.iterdir() if p.is_dir()), key=lambda p: (p.stat().st_mtime, p.name))
    if with_checkpoint:
        runs = [p for p in runs if (p / "checkpoint.json").exists()]
    return runs[-1] if runs else None


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_weights(module: torch.nn.Module, path: str | os.PathLike[str]) -> str:
    """Write ``module.state_dict()`` as safetensors (atomically); returns the file's SHA-256."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    state = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    save_file(state, str(tmp))
    tmp.replace(path)
    return sha256_file(path)


def load_weights(module: torch.nn.Module, path: str | os.PathLike[str], sha256: str | None = None) -> None:
    """Load safetensors weights into ``module`` (strict); check the SHA-256 when given."""
    path = Path(path)
    if not path.exists():
        raise TrainingError(f"{path}: the weights file does not exist. Fix: train the project again.")
    if sha256 is not None and sha256_file(path) != sha256:
        raise TrainingError(f"{path}: the weights file changed since it was recorded (SHA-256 differs).")
    state = load_file(str(path))
    device = next((p.device for p in module.parameters()), torch.device("cpu"))
    try:
        module.load_state_dict({k: v.to(device) for k, v in state.items()})
    except RuntimeError as exc:
        raise TrainingError(
            f"{path}: these weights do not fit the graph ({str(exc).splitlines()[0]}). "
            "Fix: the graph changed since training; train it again."
        ) from None


def point_project_to(project: Any, weights_path: str | os.PathLike[str], save: bool = True) -> dict[str, str]:
    """Set ``project.weights`` to the file (relative path, SHA-256) and save the project."""
    if project.path is None:
        raise TrainingError("the project has no file yet. Fix: save the project before recording weights.")
    base = Path(project.path).resolve().parent
    rel = os.path.relpath(Path(weights_path).resolve(), base)
    project.weights = {"path": Path(rel).as_posix(), "sha256": sha256_file(weights_path)}
    if save:
        from graphedit.model.project import save_project

        save_project(project)
    return project.weights


def _row(event: EpochEvent) -> dict[str, Any]:
    row: dict[str, Any] = {"epoch": event.epoch, "step": event.step}
    row.update({f"train_{k}": v for k, v in event.train.items()})
    if event.val is not None:
        row.update({f"val_{k}": v for k, v in event.val.items()})
    row.update({"lr": event.lr, "seconds": round(event.seconds, 4), "improved": event.improved})
    return row


class RunRecorder:
    """An observer writing a run folder. With ``resume`` it appends to the folder's existing metrics."""

    def __init__(
        self,
        folder: str | os.PathLike[str],
        settings: dict[str, Any] | None = None,
        dataset: dict[str, Any] | None = None,
        resume: bool = False,
        checkpoint_every: int = 1,
    ) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.trainer: Any = None
        self.checkpoint_every = checkpoint_every
        self.rows: list[dict[str, Any]] = []
        if resume and (self.folder / "metrics.json").exists():
            self.rows = json.loads((self.folder / "metrics.json").read_text(encoding="utf-8"))
        self.settings = settings
        self.dataset = dataset
        self.summary: dict[str, Any] | None = None

    def attach(self, trainer: Any) -> None:
        self.trainer = trainer
        info = trainer.data.info.to_json()
        settings = {
            "training": self.settings or trainer.settings.to_dict(),
            "dataset": self.dataset or trainer.data.spec,
        }
        settings["dataset_info"] = info
        settings["device"] = str(trainer.device)
        settings["torch"] = torch.__version__
        _write_text(self.folder / "settings.json", json.dumps(settings, indent=1, default=str))

    def __call__(self, event: Any) -> None:
        if isinstance(event, EpochEvent):
            self._epoch(event)
        elif isinstance(event, FinishedEvent):
            self.summary = dict(event.summary)
            if self.trainer is not None:
                self.summary["final_sha256"] = save_weights(self.trainer.root, self.folder / FINAL)
            _write_text(self.folder / "summary.json", json.dumps(self.summary, indent=1, default=str))
        elif isinstance(event, FailedEvent):
            failed = {"status": "failed", "message": event.message, "node_id": event.node_id}
            _write_text(self.folder / "summary.json", json.dumps(failed, indent=1))

    def _epoch(self, event: EpochEvent) -> None:
        # a resumed run repeats the epochs after its checkpoint: drop rows recorded after it
        self.rows = [r for r in self.rows if r["epoch"] < event.epoch]
        self.rows.append(_row(event))
        _write_text(self.folder / "metrics.json", json.dumps(self.rows, indent=1))
        _write_text(self.folder / "metrics.csv", _csv(self.rows))
        if self.trainer is None:
            return
        if event.improved:
            save_weights(self.trainer.root, self.folder / BEST)
        if event.epoch % self.checkpoint_every == 0:
            save_checkpoint(self.folder, *self.trainer.checkpoint_state())


def _csv(rows: list[dict[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
