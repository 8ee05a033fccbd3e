"""Run records: every training run leaves a folder beside the project.

``<project stem>.runs/<timestamp>/`` holds

* ``settings.json``: training settings, dataset spec and dataset metadata, device, threads and memory order
  (channels_last);
* ``graph.json``: the project's graph section as the run trained it;
* ``metrics.jsonl``: one JSON object per epoch (train_*/val_* keys, lr, seconds), appended as the
  epochs finish; ``metrics.csv`` holds the same rows, written when the run ends. Runs recorded
  before had ``metrics.json`` (one list): :func:`read_metrics` reads both;
* ``best.safetensors``: the weights of the epoch with the lowest validation loss (written at the end);
* ``final.safetensors``: the weights at the end (the best ones when early stopping restored them);
* ``checkpoint.safetensors`` + ``checkpoint.json``: weights, optimizer and RNG state after a
  finished epoch, to resume from; written on a wall-time schedule that keeps checkpoints under
  :data:`CHECKPOINT_BUDGET` of the training time, and after the last epoch;
* ``summary.json``: the trainer's final summary (or the failure).

The recorder stays off the training loop's path: per epoch it appends one line; a checkpoint
copies the tensors (to the CPU) in the loop and writes them from a background thread.

Weights are ``compiled.root.state_dict()`` in safetensors; they are read back
with safetensors only, never ``torch.load``. The project points to its current
weights by relative path and SHA-256 (:func:`point_project_to`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from graphedit.errors import TrainingError, WeightsError
from graphedit.training.checkpoint import snapshot_state, write_checkpoint
from graphedit.training.events import EpochEvent, FailedEvent, FinishedEvent
from graphedit.training.weights_file import sha256_file

BEST = "best.safetensors"
FINAL = "final.safetensors"
METRICS = "metrics.jsonl"
METRICS_CSV = "metrics.csv"
OLD_METRICS = "metrics.json"  # runs recorded before metrics were appended
GRAPH = "graph.json"
CHECKPOINT_BUDGET = 0.02  # the share of training wall time checkpoints may take
RUN_DIR_TRIES = 1000


def runs_folder(project_path: str | os.PathLike[str]) -> Path:
    path = Path(project_path)
    return path.with_name(f"{path.stem}.runs")


def new_run_dir(project_path: str | os.PathLike[str]) -> Path:
    """A fresh ``<stem>.runs/<YYYYmmdd-HHMMSS>`` folder (``-2``, ``-3``… when the second is taken).

    The folder is claimed by ``mkdir`` itself (which fails if it exists), so two runs starting in
    the same second (sweep trials, distributed ranks) get two folders, never one.
    """
    base = runs_folder(project_path)
    base.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1, RUN_DIR_TRIES + 1):
        folder = base / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise TrainingError(f"{base}: {RUN_DIR_TRIES} runs started in the same second. Fix: start fewer at once.")


def latest_run(project_path: str | os.PathLike[str], with_checkpoint: bool = False) -> Path | None:
    base = runs_folder(project_path)
    if not base.is_dir():
        return None
    runs = sorted((p for p in base.iterdir() if p.is_dir()), key=lambda p: (p.stat().st_mtime, p.name))
    if with_checkpoint:
        runs = [p for p in runs if (p / "checkpoint.json").exists()]
    return runs[-1] if runs else None


def save_weights(module: torch.nn.Module, path: str | os.PathLike[str]) -> str:
    """Write ``module.state_dict()`` as safetensors (atomically); returns the file's SHA-256."""
    save_state(module.state_dict(), path)
    return sha256_file(path)


def save_state(state: dict[str, torch.Tensor], path: str | os.PathLike[str]) -> None:
    """Write a state dict as safetensors, atomically."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    save_file({k: v.detach().cpu().contiguous() for k, v in state.items()}, str(tmp))
    tmp.replace(path)


def load_weights(module: torch.nn.Module, path: str | os.PathLike[str], sha256: str | None = None) -> None:
    """Load safetensors weights into ``module`` (strict); check the SHA-256 when given.

    Read through :mod:`graphedit.training.weights_file`: every failure is one
    :class:`~graphedit.errors.WeightsError` naming the file and the fix.
    """
    from graphedit.training.weights_file import fit_problem, read_weights, signature_of

    state = read_weights(path, sha256)
    problem = fit_problem(signature_of(state), signature_of(module.state_dict()))
    if problem:
        raise WeightsError(f"{path}: these weights do not fit the graph ({problem}). Fix: train the graph again.")
    device = next((p.device for p in module.parameters()), torch.device("cpu"))
    module.load_state_dict({k: v.to(device) for k, v in state.items()})


def point_project_to(project: Any, weights_path: str | os.PathLike[str], save: bool = True) -> dict[str, str]:
    """Set ``project.weights`` to the file (relative path, SHA-256) and save the project."""
    if project.path is None:
        raise TrainingError("the project has no file yet. Fix: save the project before recording weights.")
    base = Path(project.path).resolve().parent
    rel = os.path.relpath(Path(weights_path).resolve(), base)
    if Path(rel).parts[:1] == ("..",):
        raise TrainingError(
            f"{weights_path} is outside the project's folder {base}. Fix: keep runs beside the project."
        )
    project.weights = {"path": Path(rel).as_posix(), "sha256": sha256_file(weights_path)}
    if save:
        from graphedit.model.project import save_project

        save_project(project)
    return project.weights


def read_metrics(folder: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """A run's per-epoch rows, oldest first: from ``metrics.jsonl``, or from an older run's ``metrics.json``.

    A line cut short (the process ended while writing it) is skipped; a resumed run's repeated
    epochs keep their latest row.
    """
    folder = Path(folder)
    rows: list[Any] = []
    try:
        with open(folder / METRICS, encoding="utf-8") as f:
            for line in f:
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    continue
    except OSError:
        try:
            rows = json.loads((folder / OLD_METRICS).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        if not isinstance(rows, list):
            return []
    by_epoch: dict[Any, dict[str, Any]] = {}
    for row in rows:
        if isinstance(row, dict) and "epoch" in row:
            by_epoch.pop(row["epoch"], None)
            by_epoch[row["epoch"]] = row
    return sorted(by_epoch.values(), key=lambda r: r["epoch"])


def write_graph(folder: str | os.PathLike[str], project_json: dict[str, Any]) -> None:
    """``graph.json``: the project's graph section as the run trained it."""
    graph = project_json.get("graph")
    if graph is not None:
        _write_text(Path(folder) / GRAPH, json.dumps(graph, indent=1, ensure_ascii=False, default=str))


def _row(event: EpochEvent) -> dict[str, Any]:
    row: dict[str, Any] = {"epoch": event.epoch, "step": event.step}
    row.update({f"train_{k}": v for k, v in event.train.items()})
    if event.val is not None:
        row.update({f"val_{k}": v for k, v in event.val.items()})
    row.update({"lr": event.lr, "seconds": round(event.seconds, 4), "improved": event.improved})
    return row


class RunRecorder:
    """An observer writing a run folder. With ``resume`` it continues the folder's metrics.

    Checkpoints follow a wall-time schedule: the next one is due when the time since the last
    one exceeds its cost (the copy in the loop plus the write behind it) divided by
    ``CHECKPOINT_BUDGET``; the first after epoch 1, and one after the last epoch. ``checkpoint_every``
    (epochs) replaces the schedule, for tests and for users who want a fixed one.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        settings: dict[str, Any] | None = None,
        dataset: dict[str, Any] | None = None,
        resume: bool = False,
        checkpoint_every: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.trainer: Any = None
        self.checkpoint_every = checkpoint_every
        self.rows: list[dict[str, Any]] = read_metrics(self.folder) if resume else []
        self._rewrite = resume  # the first epoch rewrites the file once: old format, or epochs after the checkpoint
        self.settings = settings
        self.dataset = dataset
        self.extra = dict(extra or {})
        self.summary: dict[str, Any] | None = None
        self.checkpoints = 0  # written by this recorder (tests and the bench read it)
        self.checkpoint_seconds = 0.0  # their cost: copies in the loop plus writes behind it
        self._last_checkpoint = time.perf_counter()
        self._last_cost = 0.0
        self._last_epoch: EpochEvent | None = None
        self._checkpointed_step = -1
        self._writer: threading.Thread | None = None
        self._metrics: Any = None  # metrics.jsonl, open for appending while the run lasts
        self.checkpoint_error: str | None = None  # the last failed write, recorded in summary.json

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
        settings.update(self.extra)
        _write_text(self.folder / "settings.json", json.dumps(settings, indent=1, default=str))
        self._last_checkpoint = time.perf_counter()

    def __call__(self, event: Any) -> None:
        if isinstance(event, EpochEvent):
            self._epoch(event)
        elif isinstance(event, FinishedEvent):
            self._finish(event)
        elif isinstance(event, FailedEvent):
            self.join()
            self._write_end_files()
            failed = {"status": "failed", "message": event.message, "node_id": event.node_id}
            _write_text(self.folder / "summary.json", json.dumps(failed, indent=1))

    def _epoch(self, event: EpochEvent) -> None:
        # a resumed run repeats the epochs after its checkpoint: drop rows recorded after it
        row = _row(event)
        if self._rewrite:
            self._rewrite = False
            self.rows = [r for r in self.rows if r["epoch"] < event.epoch]
            _write_text(self.folder / METRICS, "".join(json.dumps(r) + "\n" for r in self.rows))
        self.rows.append(row)
        if self._metrics is None:
            self._metrics = open(self.folder / METRICS, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        self._metrics.write(json.dumps(row) + "\n")  # line-buffered: each epoch reaches the file as it ends
        self._last_epoch = event
        if self.trainer is not None and self._checkpoint_due(event):
            self.checkpoint()

    def _checkpoint_due(self, event: EpochEvent) -> bool:
        t = self.trainer
        if t.epoch >= t.settings.epochs or t._early_stop_due() or t._stop_requested:
            return True  # the last epoch: what a later --resume continues from
        if self.checkpoint_every is not None:
            return self.checkpoint_every > 0 and event.epoch % self.checkpoint_every == 0
        if self.checkpoints == 0:
            return True
        if self._writer is not None and self._writer.is_alive():
            return False  # the last one is still being written: its cost is not known yet
        return time.perf_counter() - self._last_checkpoint >= self._last_cost / CHECKPOINT_BUDGET

    def checkpoint(self) -> None:
        """Copy the trainer's state now and write it behind the loop (after any write still running)."""
        t0 = time.perf_counter()
        tensors, meta = snapshot_state(*self.trainer.checkpoint_state())
        copied = time.perf_counter() - t0
        self.join()
        self._checkpointed_step = self.trainer.step
        self.checkpoints += 1

        def write() -> None:
            w0 = time.perf_counter()
            try:
                write_checkpoint(self.folder, tensors, meta)
            except Exception as exc:  # noqa: BLE001 - a full disk must not end the run: the summary says it
                self.checkpoint_error = f"{self.folder}: a checkpoint could not be written ({exc})"
            self._last_cost = copied + time.perf_counter() - w0
            self.checkpoint_seconds += self._last_cost
            self._last_checkpoint = time.perf_counter()

        self._last_cost = copied
        # not a daemon: an interpreter that ends waits for the checkpoint to be on disk
        self._writer = threading.Thread(target=write, name="graphedit-checkpoint")
        self._writer.start()

    def join(self) -> None:
        """Wait for the checkpoint being written (a failed write is kept in ``checkpoint_error``)."""
        if self._writer is not None:
            self._writer.join()
            self._writer = None

    def _finish(self, event: FinishedEvent) -> None:
        self.summary = dict(event.summary)
        t = self.trainer
        if t is not None:
            last = self._last_epoch
            # interrupted or stopped between epochs: the state is still that of the last epoch (unless
            # early stopping put the best weights back: then the scheduled checkpoint stays)
            at_boundary = last is not None and last.step == t.step and not self.summary.get("restored_best")
            if at_boundary and self._checkpointed_step != t.step:
                self.checkpoint()
            self.summary["final_sha256"] = save_weights(t.root, self.folder / FINAL)
        self.join()
        self._write_end_files()
        self.summary["checkpoints"] = self.checkpoints
        if self.checkpoint_error:
            self.summary["checkpoint_error"] = self.checkpoint_error
        _write_text(self.folder / "summary.json", json.dumps(self.summary, indent=1, default=str))

    def _write_end_files(self) -> None:
        """The metrics as CSV, and the best epoch's weights (kept in memory by the trainer until now)."""
        if self._metrics is not None:
            self._metrics.close()
            self._metrics = None
        if self.rows:
            _write_text(self.folder / METRICS_CSV, _csv(self.rows))
        best = getattr(self.trainer, "best_state", None)
        if best is not None:
            save_state(best, self.folder / BEST)


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
