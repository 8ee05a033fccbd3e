"""A computation off the editor's thread: started on request, reporting progress, cancellable.

``Job(work)`` runs ``work(progress)`` in a Python thread; ``progress(done, total)`` emits
:attr:`Job.progressed` and returns ``False`` once :meth:`Job.cancel` was called, so the work can stop
early. The result arrives through :attr:`Job.done`, an error's first line through :attr:`Job.failed`;
both are delivered on the editor's thread (queued signals). Used by the per-node profile, t-SNE and
the loss landscape.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from graphedit.errors import GraphEditError


class Job(QObject):
    progressed = Signal(int, int)
    done = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, work: Callable[[Callable[[int, int], bool]], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.work = work
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="graphedit-job", daemon=True)
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
        if self._cancel.is_set():
            self._emit(self.cancelled)
        else:
            self._emit(self.done, result)

    def _emit(self, signal: Any, *args: Any) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the view that asked was closed meanwhile: nobody is left to tell
            self._cancel.set()
