"""A sweep off the GUI thread: :class:`graphedit.training.sweep.Sweep` runs in a thread of the editor's process.

The editor's process owns the study (Optuna's ask/tell) as ``graphedit sweep`` does; the trials
train in the sweep's reused worker processes. The thread only waits on their pipes, so the
editor stays responsive. What happens arrives as Qt signals, queued to the GUI thread: the
study's rows when it opens (an earlier sweep's trials), each trial's start, epochs and end, and
the end of the sweep or its failure (one line).
"""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import QObject, Signal

from graphedit.errors import GraphEditError


class SweepRunner(QObject):
    opened = Signal(list)  # the study's rows (TrialRow) when it opens, with any earlier sweep's trials
    event = Signal(dict)  # a trial's "started" and "epoch" events
    trialFinished = Signal(object)  # TrialRow
    finished = Signal(list)  # every row of the study when the sweep ends (stopped or done)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.sweep: Any = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, project_json: dict[str, Any], project_path: Any, config: Any) -> None:
        """Open the study and run the sweep in a thread; a sweep that cannot start ends with ``failed``."""
        if self.is_running():
            raise GraphEditError("a sweep is already running. Fix: stop it first.")
        self._stop.clear()
        self.sweep = None
        self._thread = threading.Thread(
            target=self._run, args=(project_json, project_path, config), name="graphedit-sweep", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Ask the sweep to stop: running trials end at their next step and are run again by the next sweep."""
        self._stop.set()
        if self.sweep is not None:
            self.sweep.request_stop()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end (closing the editor); ``True`` when it has."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self, project_json: dict[str, Any], project_path: Any, config: Any) -> None:
        from graphedit.training.sweep import Sweep, study_rows

        try:
            sweep = Sweep(
                project_json, project_path, config, on_trial=self.trialFinished.emit, on_event=self.event.emit
            )
            self.sweep = sweep
            if self._stop.is_set():  # stopped while the study opened
                sweep.request_stop()
            self.opened.emit(study_rows(sweep.study))
            rows = sweep.run()
        except GraphEditError as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # a storage or Optuna error must reach the panel, not end the thread silently
            self.failed.emit(f"the sweep stopped: {type(exc).__name__}: {exc}")
            return
        self.finished.emit(rows)
