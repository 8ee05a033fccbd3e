"""Reading run folders for the Runs panel, and checking that a run's weights fit the graph as it is now (no Qt)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from graphedit.training.runs import BEST, FINAL, GRAPH, METRICS, OLD_METRICS, read_metrics, runs_folder
from graphedit.training.session import SNAPSHOT
from graphedit.training.sweep_worker import read_trial_file

if TYPE_CHECKING:
    from graphedit.model.document import GraphDocument


@dataclass
class RunRecord:
    folder: Path
    status: str  # finished | early_stopped | stopped | interrupted | failed | incomplete
    epochs: int
    training: dict[str, Any] = field(default_factory=dict)
    dataset: dict[str, Any] = field(default_factory=dict)
    train: dict[str, float] | None = None
    val: dict[str, float] | None = None
    seconds: float | None = None
    message: str = ""  # the failure, for failed runs
    node_id: str | None = None
    best_loss: float | None = None
    device: str | None = None
    trial: dict[str, Any] | None = None  # a sweep's trial: its study, number, values, and state once finished
    _project: dict[str, Any] | Literal[False] | None = field(default=None, repr=False, compare=False)  # None: unread

    @property
    def name(self) -> str:
        return self.folder.name

    def weights(self) -> Path | None:
        for name in (FINAL, BEST):
            if (self.folder / name).exists():
                return self.folder / name
        return None

    def has_checkpoint(self) -> bool:
        return (self.folder / "checkpoint.json").exists()

    def snapshot(self) -> dict[str, Any] | None:
        """The project JSON the run trained, when it was recorded (runs from the editor and graphedit train)."""
        return _read_json(self.folder / SNAPSHOT)

    def project(self) -> dict[str, Any] | None:
        """The project as trained: the snapshot with the graph as the run fitted it (``graph.json``); read once.

        ``None`` for runs recorded before either file existed ("graph not recorded").
        """
        if self._project is None:
            snapshot = self.snapshot()
            graph = _read_json(self.folder / GRAPH)
            if isinstance(snapshot, dict) and isinstance(graph, dict):
                snapshot = {**snapshot, "graph": graph}
            self._project = snapshot if isinstance(snapshot, dict) else False
        return self._project or None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_run(folder: Path) -> RunRecord:
    settings = _read_json(folder / "settings.json") or {}
    summary = _read_json(folder / "summary.json") or {}
    rows = read_metrics(folder)
    last = rows[-1] if rows else {}
    train = summary.get("train") or _prefixed(last, "train_")
    val = summary.get("val") or _prefixed(last, "val_")
    return RunRecord(
        folder=folder,
        status=str(summary.get("status", "incomplete")),
        epochs=int(summary.get("epochs") or last.get("epoch") or 0),
        training=settings.get("training") or {},
        dataset=settings.get("dataset") or {},
        train=train or None,
        val=val or None,
        seconds=summary.get("seconds") or (sum(r.get("seconds", 0) for r in rows) if rows else None),
        message=str(summary.get("message", "")),
        node_id=summary.get("node_id"),
        best_loss=summary.get("best_loss"),
        device=_device(summary),
        trial=read_trial_file(folder),
    )


def _device(summary: dict[str, Any]) -> str | None:
    """Where the run trained: ``cuda × 4`` for a run over four GPUs (one process each)."""
    device, processes = summary.get("device"), summary.get("processes") or 1
    if device and processes > 1:
        return f"{str(device).split(':')[0]} × {processes}"
    return device


def _prefixed(row: dict[str, Any], prefix: str) -> dict[str, float]:
    return {k[len(prefix) :]: v for k, v in row.items() if k.startswith(prefix)}


def list_runs(project_path: Path) -> list[RunRecord]:
    """Every run recorded beside the project, newest first."""
    base = runs_folder(project_path)
    if not base.is_dir():
        return []
    folders = [p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")]
    folders.sort(key=lambda p: p.name, reverse=True)
    return [read_run(p) for p in folders]


def delete_run(folder: Path) -> None:
    """Remove a run folder; refuses anything that does not look like one (a slip must not delete elsewhere)."""
    folder = Path(folder)
    looks_like_run = folder.parent.name.endswith(".runs") and any(
        (folder / name).exists() for name in ("settings.json", "summary.json", SNAPSHOT, METRICS, OLD_METRICS)
    )
    if not looks_like_run:
        raise ValueError(f"{folder} is not a run folder; nothing was deleted")
    shutil.rmtree(folder)


def weights_problem(document: GraphDocument, weights: Path, shapes: Any = None) -> str | None:
    """Why these weights cannot be used with the graph as it is now, or ``None`` when they fit.

    See :func:`graphedit.training.weights_file.weights_problem`: a FIFO, a pickle or a damaged file is one line
    naming it; otherwise the names, dtypes and shapes are compared. ``shapes``: the editor's ShapeInference of
    ``document``, so that the check does not infer every shape again on the editor's thread.
    """
    from graphedit.training.weights_file import weights_problem as problem

    return problem(document, weights, shapes=shapes)


def metrics_text(values: dict[str, float] | None, skip_loss: bool = False) -> str:
    if not values:
        return ""
    items = [(k, v) for k, v in values.items() if not (skip_loss and k == "loss")]
    return "  ".join(f"{k} {v:.4g}" if isinstance(v, (int, float)) else f"{k} {v}" for k, v in items)
