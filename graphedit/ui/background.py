"""A computation off the editor's thread: started on request, reporting progress, cancellable.

``Job(work)`` runs ``work(progress)`` in a Python thread; ``progress(done, total)`` emits
:attr:`Job.progressed` and returns ``False`` once :meth:`Job.cancel` was called, so the work can stop
early. The result arrives through :attr:`Job.done`, an error's first line through :attr:`Job.failed`;
both are delivered on the editor's thread (queued signals). A job that uses what the editor defers
(``full_torch``: the profiler imports torch._dynamo) has it loaded on the editor's thread as it starts
(:func:`graphedit.compiler.nodynamo.load_real`), never by its own thread. Used
by the per-node profile, t-SNE and the loss landscape.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from graphedit.compiler.nodynamo import load_real
from graphedit.errors import GraphEditError

_RUNNING: set[Job] = set()  # the jobs whose thread has not ended


def finish_jobs(owner: QObject, timeout: float) -> bool:
    """Cancel the running jobs of ``owner`` (a window closing) and wait up to ``timeout`` seconds for their
    threads: a thread that outlives its views races Qt's teardown. ``True`` when none of them is left."""
    deadline = time.monotonic() + timeout
    jobs = [job for job in list(_RUNNING) if _owned_by(job, owner)]
    for job in jobs:
        job.cancel()
    for job in jobs:
        if job._thread is not None:
            job._thread.join(max(0.0, deadline - time.monotonic()))
    return not any(job in _RUNNING for job in jobs)


def _owned_by(job: QObject, owner: QObject) -> bool:
    try:
        parent = job.parent()
        while parent is not None:
            if parent is owner:
                return True
            parent = parent.parent()
    except RuntimeError:  # a job of a window already gone (its Qt object deleted): not this window's
        pass
    return False


class Job(QObject):
    progressed = Signal(int, int)
    done = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(
        self, work: Callable[[Callable[[int, int], bool]], Any], parent: QObject | None = None, full_torch: bool = False
    ) -> None:
        super().__init__(parent)
        self.work = work
        self.full_torch = full_torch  # the work uses what the editor defers (torch._dynamo: the profiler does)
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.full_torch:  # torch's deferred modules load here, on the editor's thread, not in the job's
            load_real()
        self._thread = threading.Thread(target=self._run, name="graphedit-job", daemon=True)
        _RUNNING.add(self)
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _progress(self, done: int, total: int) -> bool:
        self._emit(self.progressed, done, total)
        return not self._cancel.is_set()

    def _run(self) -> None:
        try:
            result = self.work(self._progress)
        except (GraphEditError, ValueError, RuntimeError, OSError) as exc:
            self._emit(self.failed, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            return
        finally:
            _RUNNING.discard(self)
        if self._cancel.is_set():
            self._emit(self.cancelled)
        else:
            self._emit(self.done, result)

    def _emit(self, signal: Any, *args: Any) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the view that asked was closed meanwhile: nobody is left to tell
            self._cancel.set()
