"""A sweep's trial process: reused for trial after trial, so the torch import is paid once per worker.

The parent (:class:`graphedit.training.sweep.Sweep`) owns the Optuna study; a worker only
trains. It receives one task at a time on its task pipe (a trial number, the project JSON with
the trial's values applied, the objective) and sends plain dicts back on its event pipe:
``{"type": "started", "trial", "run"}``, ``{"type": "epoch", "trial", "epoch", "value"}`` for
every epoch (the parent reports them to the pruner), then ``{"type": "done", "trial", "value",
"status", "run", "seconds"}`` or ``{"type": "failed", "trial", "message"}``. A pruned trial is
stopped through the shared ``stop`` flag, which the trainer reads between steps. ``None`` on the
task pipe ends the worker. No Qt here.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from pathlib import Path
from typing import Any

TRIAL_FILE = "trial.json"  # in the run folder: the study, the trial number and its parameter values


def objective_value(event: Any, objective: str) -> float | None:
    """The objective (``"val.loss"``, ``"train.accuracy"``) read from an epoch event; None if it has none."""
    split, _, metric = objective.partition(".")
    values = event.val if split == "val" else event.train
    if not values or metric not in values:
        return None
    value = float(values[metric])
    return value if math.isfinite(value) else None


class _StopFlag:
    def __init__(self, flag: Any) -> None:
        self.flag = flag

    def wait_if_paused(self) -> None:
        return None

    def should_stop(self) -> bool:
        return bool(self.flag.value)


def worker_main(tasks: Any, events: Any, stop: Any, threads: int) -> None:
    """Entry point of a spawned trial process: run tasks until ``None`` arrives."""
    import os

    import torch

    torch.set_num_threads(max(1, threads))
    os.environ["GRAPHEDIT_THREADS"] = str(max(1, threads))  # run_project's thread policy keeps to it
    while True:
        try:
            task = tasks.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        events.send(_run_trial(task, events, _StopFlag(stop)))


def _run_trial(task: dict[str, Any], events: Any, control: _StopFlag) -> dict[str, Any]:
    from graphedit.errors import GraphEditError
    from graphedit.training.events import EpochEvent, StartedEvent
    from graphedit.training.session import run_project

    trial, objective = task["trial"], task["objective"]
    best: list[float] = []

    def observe(event: Any) -> None:
        if isinstance(event, StartedEvent):
            _write_trial_file(Path(event.run_dir), task)
            events.send({"type": "started", "trial": trial, "run": event.run_dir})
        elif isinstance(event, EpochEvent):
            value = objective_value(event, objective)
            if value is not None:
                best.append(value)
                events.send({"type": "epoch", "trial": trial, "epoch": event.epoch, "value": value})

    start = time.monotonic()
    try:
        summary = run_project(task["project"], task["project_path"], observers=[observe], control=control)
    except GraphEditError as exc:
        return {"type": "failed", "trial": trial, "message": str(exc)}
    except Exception as exc:  # a node pack's bug must not end the worker with the study waiting
        return {"type": "failed", "trial": trial, "message": f"{type(exc).__name__}: {exc}"}
    pick = max if task.get("direction") == "maximize" else min
    return {
        "type": "done",
        "trial": trial,
        "value": pick(best) if best else None,
        "status": summary.get("status"),
        "run": summary.get("run"),
        "seconds": time.monotonic() - start,
    }


def read_trial_file(folder: Path) -> dict[str, Any] | None:
    """The run's ``trial.json`` (its study, trial number, values, and once finished its state and value), or None."""
    try:
        record = json.loads((folder / TRIAL_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def mark_trial_file(folder: Path, state: str, value: float | None) -> None:
    """Add the trial's outcome (``complete``, ``pruned``, ``failed``) to its run's ``trial.json`` (by the parent)."""
    record = read_trial_file(folder)
    if record is None:
        return
    record.update(state=state, value=value)
    with contextlib.suppress(OSError):  # the runs table then shows the run's own status; the study keeps the truth
        (folder / TRIAL_FILE).write_text(json.dumps(record, indent=1, default=str), encoding="utf-8")


def _write_trial_file(folder: Path, task: dict[str, Any]) -> None:
    record = {"study": task.get("study"), "trial": task["trial"], "params": task.get("values", {})}
    record["objective"] = task["objective"]
    (folder / TRIAL_FILE).write_text(json.dumps(record, indent=1, default=str), encoding="utf-8")
