"""The training process: the entry point the editor spawns (DESIGN.md decision 7). No Qt is imported here.

Events travel to the editor as plain picklable dicts ``{"type": "started" | "step" | "epoch" | "probe" |
"finished" | "failed", ...fields of the event...}`` through a one-way pipe. A feeder thread does the
sending, as in ``multiprocessing.Queue``, so a slow editor never blocks a training step; unlike a
Queue, the editor holds no write end of the pipe, so a process that dies (even in the middle of a
message) reads as end-of-file there instead of a wait that never ends.

Pause and stop arrive through one shared integer (:data:`RUN`, :data:`PAUSE`, :data:`STOP`) that
the trainer reads between steps without a lock.
"""

from __future__ import annotations

import gc
import multiprocessing
import queue
import threading
import time
import traceback
from typing import Any

from graphedit.training.events import FinishedEvent, to_message

RUN, PAUSE, STOP = 0, 1, 2
PARENT_CHECK_S = 1.0  # how often a paused or running worker checks that the editor is still there
STEP_BATCH_S = 0.05  # step events go out together at most this often (the editor draws at ~30 Hz anyway)


class SharedControl:
    """Answers the trainer's ``wait_if_paused()`` and ``should_stop()`` from the shared state."""

    def __init__(self, state: Any, on_pause: Any = None) -> None:
        self.state = state
        self.on_pause = on_pause  # called once when a pause begins (the worker sends what it holds back)
        self.parent = multiprocessing.parent_process()
        self.next_check = 0.0
        self.orphaned = False

    def _parent_gone(self) -> bool:
        now = time.monotonic()
        if self.parent is not None and now >= self.next_check:
            self.next_check = now + PARENT_CHECK_S
            self.orphaned = not self.parent.is_alive()
        return self.orphaned

    def should_stop(self) -> bool:
        return self.state.value == STOP or self._parent_gone()

    def wait_if_paused(self) -> None:
        if self.state.value == PAUSE and self.on_pause is not None:
            self.on_pause()
        while self.state.value == PAUSE and not self._parent_gone():
            time.sleep(0.02)


class Sender:
    """Sends dicts through a connection from a feeder thread; ``close()`` flushes what is left."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.pending: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._feed, name="graphedit-events", daemon=True)
        self.thread.start()

    def put(self, message: dict[str, Any]) -> None:
        self.pending.put(message)

    def _feed(self) -> None:
        while True:
            message = self.pending.get()
            if message is None:
                return
            try:
                self.conn.send(message)
            except (OSError, EOFError):  # the editor is gone: nobody to tell
                return
            except Exception as exc:  # an event that does not pickle must not end the stream
                self.conn.send({"type": "warning", "message": f"an event could not be sent: {exc}"})

    def close(self, timeout: float = 10.0) -> None:
        self.pending.put(None)
        self.thread.join(timeout)
        self.conn.close()


def event_message(event: Any) -> dict[str, Any] | None:
    """The dict an event travels as (:func:`graphedit.training.events.to_message`); ``None`` for events the
    editor does not need (the worker sends ``finished`` itself, with the run folder)."""
    return None if isinstance(event, FinishedEvent) else to_message(event)


class Forwarder:
    """The worker's observer: events become messages; step events are sent in batches.

    A batch is one ``"step"`` message holding the newest step's fields and, under ``"batch"``, every
    step since the last one (oldest first): a few messages a second instead of hundreds keeps the
    pickling and the editor's reading off the training loop.
    """

    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        self.steps: list[dict[str, Any]] = []
        self.due = 0.0

    def __call__(self, event: Any) -> None:
        message = event_message(event)
        if message is None:
            return
        if message["type"] == "step":
            self.steps.append(message)
            now = time.monotonic()
            if now >= self.due:
                self.due = now + STEP_BATCH_S
                self.flush()
            return
        self.flush()
        self.sender.put(message)

    def flush(self) -> None:
        if self.steps:
            batch = [{k: s[k] for k in ("step", "epoch", "loss", "metrics")} for s in self.steps]
            self.sender.put({**self.steps[-1], "batch": batch})
            self.steps = []


def worker_main(
    conn: Any,
    state: Any,
    project_json: dict[str, Any],
    project_path: str | None,
    overrides: dict[str, Any] | None,
    run_dir: str,
    resume: bool = False,
    probes: bool = True,
) -> None:
    """Train one run and report it; the last message is always ``finished`` or ``failed``."""
    sender = Sender(conn)
    forward = Forwarder(sender)
    try:
        from graphedit.errors import GraphEditError
        from graphedit.training.session import run_project

        summary = run_project(
            project_json,
            project_path,
            overrides,
            [forward],
            SharedControl(state, on_pause=forward.flush),
            run_dir=run_dir,
            resume=resume,
            probes=probes,
        )
        forward.flush()
        sender.put({"type": "finished", "summary": summary, "run_dir": run_dir})
    except GraphEditError:
        pass  # run_project sent it as a "failed" event already
    except BaseException as exc:  # noqa: BLE001 — whatever happens, the editor hears about it
        forward.flush()
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        sender.put({"type": "failed", "message": f"the training process failed: {detail}", "node_id": None})
    finally:
        sender.close()
        gc.freeze()  # the process exits now: collecting torch's objects at exit took ~2 s, and the editor waits
