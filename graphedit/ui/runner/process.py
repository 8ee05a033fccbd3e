"""TrainingSession: one training process at a time, seen from the editor as Qt signals (DESIGN.md decision 7).

:meth:`TrainingSession.start` keeps a snapshot of the project (its JSON, deep-copied, and the time), so the
user keeps editing while the snapshot trains; edits apply to the next run. The worker
(:func:`graphedit.ui.runner.worker.worker_main`) runs in a process started with the ``spawn`` context; a run
over several local processes (the device ``cuda:all``) starts :func:`graphedit.ui.runner.ranks.launcher_main`
there instead, which relays rank 0's messages, so this side sees one run either way.
A QTimer (~30 Hz) drains its pipe with a bounded amount of work per tick and emits:

* ``started(dict)`` — ``info`` (DatasetInfo JSON), ``steps_per_epoch``, ``epochs``, ``run_dir``, ``node_ids``;
* ``step(dict)`` — the newest step event of the tick (``step``, ``epoch``, ``loss``, ``metrics``); the
  tick's step events are coalesced into one signal, all of them listed oldest first under ``"batch"``;
* ``epoch(dict)`` — every epoch event (``epoch``, ``train``, ``val``, ``lr``, ``seconds``, ``step``, ``improved``);
* ``probe(dict)`` — the newest probe of each payload kind in the tick (``step``, ``payload``);
* ``finished(dict)`` — ``summary`` (the trainer's, with ``run``) and ``run_dir``;
* ``failed(message, node_id or "")`` — a failure reported by the worker, or the process dying;
* ``progress(fraction, eta_seconds)`` and ``stateChanged("idle" | "running" | "paused" | "stopping")``;
* ``launched()`` — a new run's process has just started (not a resume from a pause), before it reports anything:
  the window arranges the Train workspace and the live views lay out for the run now, while the worker imports
  torch and loads the data, not in the run's first frames.
"""

from __future__ import annotations

import copy
import multiprocessing
import signal
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from graphedit.errors import TrainingError
from graphedit.model.project import Project, project_to_json
from graphedit.training.distributed import local_processes
from graphedit.training.runs import new_run_dir
from graphedit.training.user_folders import new_unsaved_home
from graphedit.ui.runner.ranks import launcher_main
from graphedit.ui.runner.worker import PAUSE, RUN, STOP, worker_main

__all__ = ["TrainingSession", "worker_main"]

POLL_MS = 33
TICK_BUDGET_S = 0.008  # at most this long reading messages per tick; the rest waits for the next tick
STOP_GRACE_S = 15.0  # a stop the process does not obey within this time (a hung step) becomes a kill
EXIT_GRACE_S = 5.0  # after its last message the process should exit within this time


def scratch_dir() -> Path:
    """Where runs of a project that has no file yet are recorded: a per-user folder, never a shared temp folder
    (the editor gives each unsaved project its own, see ProjectFiles.unsaved_home)."""
    return new_unsaved_home()


class TrainingSession(QObject):
    started = Signal(dict)
    step = Signal(dict)
    epoch = Signal(dict)
    probe = Signal(dict)
    finished = Signal(dict)
    failed = Signal(str, str)
    progress = Signal(float, float)
    stateChanged = Signal(str)
    launched = Signal()
    message = Signal(str)  # a short note for the status bar

    def __init__(self, parent: QObject | None = None, poll_ms: int = POLL_MS) -> None:
        super().__init__(parent)
        self.state = "idle"
        self.process: Any = None
        self.conn: Any = None
        self.control: Any = None
        self.snapshot: dict[str, Any] | None = None  # the project JSON being trained (read-only)
        self.snapshot_time = 0.0
        self.run_dir: str | None = None
        self.info: dict[str, Any] | None = None  # the "started" message
        self.summary: dict[str, Any] | None = None
        self.launch: dict[str, Any] = {}  # the last run's processes and their backend ("gloo", "nccl"; "" for one)
        self.scratch = scratch_dir()
        self._ended = False
        self._eof = False
        self._killed = False
        self._last_epoch = 0
        self._deadline = 0.0  # kill the process after this time (stopping, or exiting after its last message)
        self._active_s = 0.0  # seconds spent running (not paused) since "started"
        self._since = 0.0
        self.timer = QTimer(self)
        self.timer.setInterval(poll_ms)
        self.timer.timeout.connect(self._tick)

    # ------------------------------------------------------------ commands
    def is_running(self) -> bool:
        """A process is attached: training, or exiting after its last message (its run folder still in use)."""
        return self.state != "idle"

    def is_training(self) -> bool:
        """The run has not reported its end: stopping it loses work (a finished run's process may still be exiting)."""
        return self.state != "idle" and not self._ended

    def scratch_project(self, name: str = "untitled") -> Path:
        """The stand-in project path whose runs folder holds the runs of a project without a file."""
        return self.scratch / f"{Path(name).stem or 'untitled'}.gproj"

    def start(
        self,
        project: Project,
        overrides: dict[str, Any] | None = None,
        resume_dir: str | Path | None = None,
        name: str = "untitled",
    ) -> str:
        """Train a snapshot of ``project`` in a new process; returns the run folder.

        With ``resume_dir`` the run continues from that folder's checkpoint (``overrides`` may raise
        ``epochs``). ``name`` names the scratch runs folder of a project that has no file yet.
        """
        if self.is_training():
            raise TrainingError("a training run is already in progress. Fix: stop it first.")
        if self.is_running():  # the last run reported its end and its process is still exiting: end it now
            self._reap()
        snapshot = copy.deepcopy(project_to_json(project))
        path = project.path
        if resume_dir is not None:
            run_dir = Path(resume_dir)
        else:
            self.scratch.mkdir(parents=True, exist_ok=True)
            run_dir = new_run_dir(path if path is not None else self.scratch_project(name))
        device = str((overrides or {}).get("device") or project.training.get("device") or "auto")
        processes, backend = local_processes(device)  # several: a launcher process and one rank each
        ctx = multiprocessing.get_context("spawn")
        reader, writer = ctx.Pipe(duplex=False)
        control = ctx.RawValue("i", RUN)
        args = (writer, control, snapshot, None if path is None else str(path), dict(overrides or {}), str(run_dir))
        if processes > 1:  # not daemonic: a daemonic process may not start the ranks
            process = self._spawn(ctx, launcher_main, (*args, resume_dir is not None, processes, backend), False)
        else:
            process = self._spawn(ctx, worker_main, (*args, resume_dir is not None), True)
        self.launch = {"processes": processes, "backend": backend}
        writer.close()  # the worker holds the only write end: its death reads as end-of-file
        self.process, self.conn, self.control = process, reader, control
        self.snapshot, self.snapshot_time, self.run_dir = snapshot, time.time(), str(run_dir)
        self.info = self.summary = None
        self._ended = self._eof = self._killed = False
        self._last_epoch = 0
        self._deadline = 0.0
        self._active_s, self._since = 0.0, 0.0
        self._set_state("running")
        self.launched.emit()
        self.progress.emit(0.0, -1.0)
        self.timer.start()
        return str(run_dir)

    def _spawn(self, ctx: Any, target: Any, args: tuple[Any, ...], daemon: bool) -> Any:
        process = ctx.Process(target=target, args=args, name="graphedit-training", daemon=daemon)
        process.start()
        return process

    def pause(self) -> None:
        if self.state == "running":
            self.control.value = PAUSE
            self._clock_stop()
            self._set_state("paused")

    def resume(self) -> None:
        if self.state == "paused":
            self.control.value = RUN
            self._clock_start()
            self._set_state("running")

    def stop(self) -> None:
        """Stop after the current step (the run is recorded as stopped); a second stop kills the process."""
        if self.state == "stopping":
            self.kill()
        elif self.state in ("running", "paused"):
            self.control.value = STOP
            self._clock_stop()
            self._deadline = time.monotonic() + STOP_GRACE_S
            self._set_state("stopping")

    def kill(self) -> None:
        """End the process now (a stop it did not obey, or the editor closing); the run counts as stopped."""
        if self.process is not None and self.process.is_alive():
            self._killed = True
            self.process.kill()

    def shutdown(self) -> None:
        """The editor closes: end any run without waiting and stop listening."""
        self.timer.stop()
        if self.process is not None:
            self.kill()
            self.process.join(2.0)
        self._cleanup()
        self._set_state("idle")

    # ------------------------------------------------------------- polling
    def _tick(self) -> None:
        if self.conn is not None and not self._eof:
            self._drain()
        if self.process is None:
            return
        alive = self.process.is_alive()
        if self._ended:
            if not alive or time.monotonic() > self._deadline:
                self._reap()
        elif not alive and self._eof:
            self._died()
        elif self._deadline and time.monotonic() > self._deadline:
            self.kill()  # the stop was not obeyed: a step that hangs

    def _drain(self) -> None:
        steps: list[dict[str, Any]] = []
        probes: dict[str, dict[str, Any]] = {}
        end = time.perf_counter() + TICK_BUDGET_S
        try:
            while not self._ended and time.perf_counter() < end and self.conn.poll(0):
                message = self.conn.recv()
                kind = message.get("type")
                if kind == "step":
                    steps.append(message)
                elif kind == "probe":
                    probes[str(message.get("payload", {}).get("kind", "probe"))] = message
                else:
                    self._flush(steps, probes)
                    self._route(kind, message)
        except (EOFError, OSError):
            self._eof = True
        self._flush(steps, probes)

    def _flush(self, steps: list[dict[str, Any]], probes: dict[str, dict[str, Any]]) -> None:
        if steps:
            last = dict(steps[-1])
            last["batch"] = [row for s in steps for row in s.get("batch") or [_step_row(s)]]
            steps.clear()
            self.step.emit(last)
            self._progress(last["step"])
        for message in probes.values():
            self.probe.emit(message)
        probes.clear()

    def _route(self, kind: str | None, message: dict[str, Any]) -> None:
        if kind == "started":
            self.info = message
            self._clock_start()
            self.started.emit(message)
        elif kind == "epoch":
            self._last_epoch = int(message.get("epoch", 0))
            self.epoch.emit(message)
            self._progress(int(message.get("step", 0)))
        elif kind == "finished":
            self.summary = dict(message.get("summary") or {})
            self._end()
            if self.summary.get("status") in ("finished", "early_stopped"):
                self.progress.emit(1.0, 0.0)
            self.finished.emit(message)
        elif kind == "failed":
            self._end()
            self.failed.emit(str(message.get("message", "training failed")), str(message.get("node_id") or ""))
        elif kind == "warning":
            self.message.emit(str(message.get("message", "")))

    def _progress(self, step: int) -> None:
        info = self.info
        if not info:
            return
        per_epoch = max(1, int(info.get("steps_per_epoch", 1)))
        first = int(info.get("first_epoch", 0))
        total = max(1, (int(info.get("epochs", 1)) - first) * per_epoch)
        fraction = min(1.0, max(0.0, (step - first * per_epoch) / total))
        active = self._active()
        eta = active * (1.0 - fraction) / fraction if fraction > 0 else -1.0
        self.progress.emit(fraction, eta)

    # ---------------------------------------------------------------- ends
    def _end(self) -> None:
        self._ended = True
        self._clock_stop()
        self._deadline = time.monotonic() + EXIT_GRACE_S

    def _died(self) -> None:
        code = self.process.exitcode
        self._end()
        self._reap()
        if self._killed:  # ended on the user's (second) stop: a stopped run, its last checkpoint kept
            self.summary = {"status": "stopped", "epochs": self._last_epoch, "killed": True}
            self.finished.emit({"type": "finished", "summary": dict(self.summary), "run_dir": self.run_dir})
        else:
            self.failed.emit(_death_message(code, self.run_dir), "")

    def _reap(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(1.0)
        self._cleanup()
        self._set_state("idle")

    def _cleanup(self) -> None:
        self.timer.stop()
        if self.conn is not None:
            self.conn.close()
        self.conn = None
        self._ended = True

    # --------------------------------------------------------------- state
    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.stateChanged.emit(state)

    def _clock_start(self) -> None:
        if self.info is not None and not self._since:
            self._since = time.monotonic()

    def _clock_stop(self) -> None:
        if self._since:
            self._active_s += time.monotonic() - self._since
            self._since = 0.0

    def _active(self) -> float:
        return self._active_s + (time.monotonic() - self._since if self._since else 0.0)


def _step_row(message: dict[str, Any]) -> dict[str, Any]:
    return {k: message.get(k) for k in ("step", "epoch", "loss", "metrics")}


def _death_message(code: int | None, run_dir: str | None) -> str:
    if code is not None and code < 0:
        try:
            how = f"killed by {signal.Signals(-code).name}"
        except ValueError:
            how = f"signal {-code}"
    else:
        how = "no report"
    where = f" What it recorded so far is in {run_dir}." if run_dir else ""
    return (
        f"the training process stopped unexpectedly (exit code {code}, {how}). Your graph is unchanged.{where} "
        "Fix: if the system ran out of memory, lower the batch size or the dataset size, then run again."
    )
