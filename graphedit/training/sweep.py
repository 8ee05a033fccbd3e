"""Hyperparameter sweeps on Optuna (DESIGN.md decision 11): the parent owns the study, workers train.

The parent process asks the study for trials (Optuna's ask/tell), so its storage (SQLite beside
the project by default, or any Optuna storage URL given on the command line) is written by one
process of this machine; several machines may share one study through a server storage. Trials
run in reused worker processes (:mod:`graphedit.training.sweep_worker`), one torch thread each
by default so they do not fight over cores. Each trial is an ordinary run of the project: it
lands in the project's runs folder with a ``trial.json`` beside its record. A trial's value is
the best value of the objective over its epochs; each epoch's value goes to the pruner, and a
pruned trial is stopped between steps.

A sweep that stops (Ctrl+C, a closed editor, a killed process) leaves trials that were running:
the next sweep on the same study marks them failed and runs their values again, until the
requested number of trials has finished (completed, pruned, or failed with an error).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import multiprocessing
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from graphedit.model.experiment import (
    DEFAULT_EXPERIMENT,
    DIRECTIONS,
    PRUNERS,
    SAMPLERS,
    check_choices,
    experiment_params,
)
from graphedit.training.sweep_space import SweepError, SweepParam, apply_values, check_params
from graphedit.training.sweep_worker import mark_trial_file

__all__ = ["DIRECTIONS", "PRUNERS", "SAMPLERS", "Sweep", "SweepConfig", "TrialRow", "default_storage", "study_rows"]
DEFAULTS = DEFAULT_EXPERIMENT  # one declaration of the defaults: the project file's experiment section
STOP_GRACE_S = 30.0  # how long a stopped trial may take to reach its next step before its process is ended


@dataclass
class SweepConfig:
    params: list[SweepParam]
    trials: int = DEFAULTS["trials"]
    jobs: int = DEFAULTS["jobs"]
    sampler: str = DEFAULTS["sampler"]
    pruner: str = DEFAULTS["pruner"]
    objective: str = DEFAULTS["objective"]
    direction: str = DEFAULTS["direction"]
    storage: str | None = None  # an Optuna storage URL; from the command line only, never from a project file
    study_name: str | None = None
    seed: int = 0
    threads: int = 1  # torch threads per trial process

    @classmethod
    def from_experiment(cls, experiment: dict[str, Any], **options: Any) -> SweepConfig:
        """The sweep a project's checked ``experiment`` section declares; ``options`` add storage, seed, threads."""
        keys = ("trials", "jobs", "sampler", "pruner", "objective", "direction")
        return cls(params=experiment_params(experiment), **{k: experiment[k] for k in keys}, **options)

    def check(self) -> None:
        if not self.params:
            raise SweepError(
                "a sweep needs at least one parameter. "
                "Fix: add --param NAME=VALUES, or mark parameters for sweeping in the editor's Inspector."
            )
        check_choices(self.sampler, self.pruner, self.direction, self.trials, self.jobs, self.objective)
        if self.threads < 1:
            raise SweepError("threads must be 1 or more. Fix: raise the number.")
        if self.sampler == "grid" and any(p.is_range for p in self.params):
            raise SweepError("a grid sweep needs lists of values, not ranges. Fix: list the values or use tpe.")


@dataclass
class TrialRow:
    """One trial as the runs table and the results table show it."""

    number: int
    state: str  # "running", "complete", "pruned", "failed"
    params: dict[str, Any] = field(default_factory=dict)
    value: float | None = None
    run: str | None = None
    seconds: float | None = None
    message: str = ""


def default_storage(project_path: str | os.PathLike[str]) -> str:
    """SQLite beside the project: ``net.gproj`` keeps its studies in ``net.sweep.db``."""
    path = Path(project_path).resolve()
    return f"sqlite:///{path.with_name(path.stem + '.sweep.db')}"


class Sweep:
    """One sweep over a project; :meth:`run` blocks until the study has ``config.trials`` finished trials."""

    def __init__(
        self,
        project_json: dict[str, Any],
        project_path: str | os.PathLike[str],
        config: SweepConfig,
        on_trial: Callable[[TrialRow], None] | None = None,
        on_event: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        config.check()
        check_params(config.params, project_json)
        self.project_json, self.project_path, self.config = project_json, str(project_path), config
        self.on_trial = on_trial or (lambda row: None)
        self.on_event = on_event or (lambda event: None)  # a trial's "started" and "epoch" events, as they come
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self.total = config.trials  # a grid has no more trials than combinations
        if config.sampler == "grid":
            self.total = min(config.trials, math.prod(len(p.choices) for p in config.params))
        self._stop = False
        self.study = self._open_study()

    def request_stop(self) -> None:
        """Stop asking for trials and stop the running ones (from a callback or another thread)."""
        self._stop = True

    def remaining(self) -> int:
        return max(0, self.total - sum(1 for t in self.study.get_trials(deepcopy=False) if _counts(t)))

    def run(self) -> list[TrialRow]:
        """Run trials until the requested number has finished or :meth:`request_stop`; return every trial's row."""
        self._requeue_interrupted()
        if self.config.sampler == "grid":
            self._enqueue_grid()
        ctx = multiprocessing.get_context("spawn")
        workers = [_Worker(ctx, self.config.threads) for _ in range(min(self.config.jobs, self.remaining()))]
        running: dict[int, tuple[Any, _Worker]] = {}
        try:
            while not self._stop:
                for worker in workers:
                    if worker.trial is None and len(running) < self.remaining():
                        trial = self._ask()
                        running[trial.number] = (trial, worker)
                        worker.start(self._task(trial))
                if not running:
                    break
                ready = wait([w.events for _, w in running.values()], timeout=0.5)
                for conn in ready:
                    worker = next(w for _, w in running.values() if w.events is conn)
                    self._handle(worker, running)
                    if self._stop:
                        break
        finally:
            self._shut_down(workers, running)
        return study_rows(self.study)

    def _open_study(self) -> Any:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        storage = self.config.storage or default_storage(self.project_path)
        name = self.config.study_name or Path(self.project_path).stem
        try:
            return optuna.create_study(
                storage=storage,
                study_name=name,
                load_if_exists=True,
                direction=self.config.direction,
                sampler=self._sampler(),
                pruner=self._pruner(),
            )
        except ValueError as exc:  # a study of that name with another direction, a malformed URL
            raise SweepError(f"study '{name}' in {storage}: {exc}. Fix: choose another --study name.") from exc
        except ImportError as exc:
            raise SweepError(f"storage {storage} needs a driver that is not installed ({exc}).") from exc

    def _sampler(self) -> Any:
        import optuna

        if self.config.sampler in ("grid", "random"):  # a grid is enqueued by _enqueue_grid
            return optuna.samplers.RandomSampler(seed=self.config.seed)
        return optuna.samplers.TPESampler(seed=self.config.seed)

    def _pruner(self) -> Any:
        import optuna

        if self.config.pruner == "none":
            return optuna.pruners.NopPruner()
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)

    def _ask(self) -> Any:
        trial = self.study.ask({p.name: p.distribution() for p in self.config.params})
        trial.set_user_attr("owner", self.owner)
        return trial

    def _task(self, trial: Any) -> dict[str, Any]:
        values = dict(trial.params)
        return {
            "trial": trial.number,
            "study": self.study.study_name,
            "values": values,
            "project": apply_values(self.project_json, self.config.params, values),
            "project_path": self.project_path,
            "objective": self.config.objective,
            "direction": self.config.direction,
        }

    def _handle(self, worker: _Worker, running: dict[int, tuple[Any, _Worker]]) -> None:
        from optuna.pruners import NopPruner
        from optuna.trial import TrialState

        try:
            event = worker.events.recv()
        except (EOFError, OSError):
            code = worker.process.exitcode
            event = {"type": "failed", "trial": worker.trial, "message": f"the trial process ended (exit code {code})"}
            worker.restart()
        trial, _ = running[event["trial"]]
        if event["type"] == "started":
            trial.set_user_attr("run", event["run"])
            self.on_event(event)
            return
        if event["type"] == "epoch":
            # the study keeps intermediate values for its pruner alone: without one, an epoch costs the parent
            # (whose core the trials need) no storage round trip
            if not isinstance(self.study.pruner, NopPruner):
                trial.report(event["value"], event["epoch"])
                if trial.should_prune():
                    worker.stop.value = 1
            self.on_event(event)
            return
        del running[trial.number]
        worker.trial = None
        row = TrialRow(trial.number, "failed", dict(trial.params), run=event.get("run"), seconds=event.get("seconds"))
        if event["type"] == "failed":
            row.message = event["message"]
            trial.set_user_attr("error", row.message)
            self.study.tell(trial, state=TrialState.FAIL)
        elif worker.stop.value:
            row.state = "pruned"
            trial.set_user_attr("seconds", event["seconds"])
            self.study.tell(trial, state=TrialState.PRUNED)
        elif event["value"] is None:
            row.message = f"no epoch reported {self.config.objective}. Fix: choose another objective."
            trial.set_user_attr("error", row.message)
            self.study.tell(trial, state=TrialState.FAIL)
        else:
            row.state, row.value = "complete", event["value"]
            trial.set_user_attr("seconds", event["seconds"])
            self.study.tell(trial, event["value"])
        if row.run:
            mark_trial_file(Path(row.run), row.state, row.value)
        self.on_trial(row)

    def _enqueue_grid(self) -> None:
        """Every combination of the lists not yet in the study, in order, as waiting trials.

        Optuna's GridSampler stops its study from inside ``tell``, which ask/tell does not allow;
        enqueued trials give the same grid, and a resumed sweep skips what the study already has.
        """
        names = [p.name for p in self.config.params]
        have = {tuple(t.params.get(n) for n in names) for t in self.study.get_trials(deepcopy=False) if _counts(t)}
        have |= {_waiting_key(t, names) for t in self.study.get_trials(deepcopy=False) if t.state.name == "WAITING"}
        for combo in itertools.product(*(p.choices for p in self.config.params)):
            if combo not in have:
                self.study.enqueue_trial(dict(zip(names, combo)))
                have.add(combo)

    def _requeue_interrupted(self) -> None:
        """Trials left running by a sweep of this machine that is gone: failed, and their values run again."""
        from optuna.trial import TrialState

        for trial in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            owner = str(trial.user_attrs.get("owner", ""))
            host, _, pid = owner.rpartition(":")
            if host == socket.gethostname() and not _alive(pid):
                self._interrupt(trial.number, trial.params)

    def _interrupt(self, number: int, params: dict[str, Any]) -> None:
        from optuna.trial import TrialState

        self.study.tell(number, state=TrialState.FAIL, skip_if_finished=True)
        self.study.enqueue_trial(params, skip_if_exists=False)

    def _shut_down(self, workers: list[_Worker], running: dict[int, tuple[Any, _Worker]]) -> None:
        for _, worker in running.values():
            worker.stop.value = 1
        deadline = time.monotonic() + STOP_GRACE_S
        for trial, worker in running.values():
            worker.finish(deadline)
            self._interrupt(trial.number, trial.params)
        for worker in workers:
            worker.close()


class _Worker:
    """One reused trial process with its task pipe, event pipe and stop flag."""

    def __init__(self, ctx: Any, threads: int) -> None:
        self.ctx, self.threads = ctx, threads
        self.trial: int | None = None
        self._spawn()

    def _spawn(self) -> None:
        from graphedit.training.sweep_worker import worker_main

        task_recv, self.tasks = self.ctx.Pipe(duplex=False)
        self.events, event_send = self.ctx.Pipe(duplex=False)
        self.stop = self.ctx.Value("i", 0, lock=False)
        self.process = self.ctx.Process(
            target=worker_main, args=(task_recv, event_send, self.stop, self.threads), daemon=True
        )
        self.process.start()
        task_recv.close()
        event_send.close()

    def start(self, task: dict[str, Any]) -> None:
        self.trial = task["trial"]
        self.stop.value = 0
        self.tasks.send(task)

    def restart(self) -> None:
        self.close()
        self._spawn()

    def finish(self, deadline: float) -> None:
        """Wait for the stopped trial's last event until ``deadline``, then end the process if it is still busy."""
        while self.process.is_alive() and time.monotonic() < deadline:
            if self.events.poll(0.2):
                try:
                    if self.events.recv().get("type") in ("done", "failed"):
                        break
                except (EOFError, OSError):
                    break
        self.trial = None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.tasks.send(None)
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=5)
        self.tasks.close()
        self.events.close()


def _alive(pid: str) -> bool:
    """Whether another process with this id runs (this process's own earlier sweeps have ended: run() blocks)."""
    try:
        if int(pid) == os.getpid():
            return False
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def _waiting_key(trial: Any, names: list[str]) -> tuple[Any, ...]:
    fixed = trial.system_attrs.get("fixed_params", {})
    return tuple(fixed.get(n) for n in names)


def _counts(trial: Any) -> bool:
    """Whether a finished trial counts towards the requested number (an interrupted one does not)."""
    from optuna.trial import TrialState

    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return True
    return trial.state == TrialState.FAIL and "error" in trial.user_attrs


def study_rows(study: Any) -> list[TrialRow]:
    """Every trial of the study as a row (interrupted trials included, as failed)."""
    names = {
        "COMPLETE": "complete",
        "PRUNED": "pruned",
        "FAIL": "failed",
        "RUNNING": "running",
        "WAITING": "waiting",
    }
    rows = []
    for trial in study.get_trials(deepcopy=False):
        attrs = trial.user_attrs
        message = attrs.get("error", "") or ("interrupted" if trial.state.name == "FAIL" else "")
        rows.append(
            TrialRow(
                trial.number,
                names.get(trial.state.name, trial.state.name.lower()),
                dict(trial.params),
                trial.value if trial.state.name == "COMPLETE" else None,
                attrs.get("run"),
                attrs.get("seconds"),
                message,
            )
        )
    return rows
