"""The editor's training process for a run over several local processes (DESIGN.md decisions 7 and 11). No Qt.

When the device is ``cuda:all`` (every GPU of this machine), or ``cpu`` with the developer setting
``GRAPHEDIT_CPU_PROCESSES`` (``training.distributed.local_processes``), the editor spawns :func:`launcher_main`
in place of the one-process worker. It starts one rank per process (spawn), each building the model from the
project JSON and training its share of every global batch under DistributedDataParallel (NCCL on GPUs, gloo on
the CPU), and

* relays rank 0's messages to the editor as they are (bytes, never unpickled on the way), so the live views,
  the Runs panel and the progress bar see what a one-process run shows; only rank 0 probes and records the run;
* hands the editor's pause and stop to rank 0, which tells every rank at the same step (a broadcast), so the
  ranks stop together and rank 0 records the run as stopped;
* ends the run itself once every rank has exited: ``finished`` with rank 0's summary, or one ``failed`` line on
  the rank that failed first (a rank that vanished without a word is the cause: the others' lost connections
  only follow from it), after ending the ranks still alive. The editor's project is never written here.
"""

from __future__ import annotations

import contextlib
import gc
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from graphedit.training.distributed import Distributed, free_port
from graphedit.training.events import FailedEvent
from graphedit.ui.runner.worker import PAUSE, RUN, STOP, Forwarder, Sender, SharedControl

GRACE_S = 3.0  # after a rank fails, the others have this long to report their own failure before they are ended
WATCH_S = 0.25  # how often the launcher looks at its ranks and at the editor
RELAY_JOIN_S = 30.0  # the editor reads rank 0's last messages before the launcher's own end message
CUDA_EVERY = 10  # on GPUs the ranks agree on pause and stop every this many steps (each agreement is a host sync)


def launcher_main(
    conn: Any,
    state: Any,
    project_json: dict[str, Any],
    project_path: str | None,
    overrides: dict[str, Any] | None,
    run_dir: str,
    resume: bool,
    processes: int,
    backend: str,
) -> None:
    """Train one run over ``processes`` local ranks and report it; the last message is ``finished`` or ``failed``."""
    ctx = multiprocessing.get_context("spawn")
    port = free_port()
    overrides = _per_rank(overrides, project_json, processes)
    events, events_writer = ctx.Pipe(duplex=False)
    ranks: list[Any] = []
    results: list[Any] = []
    try:
        for rank in range(processes):
            reader, writer = ctx.Pipe(duplex=False)
            first = rank == 0
            args = (rank, processes, port, writer, events_writer if first else None, state if first else None)
            job = (project_json, project_path, overrides, run_dir, resume)
            process = ctx.Process(target=rank_main, args=(*args, *job), name=f"graphedit-rank-{rank}")
            process.start()
            writer.close()
            ranks.append(process)
            results.append(reader)
        events_writer.close()  # rank 0 holds the only write end: its exit ends the relay
        relay = threading.Thread(target=_relay, args=(events, conn), name="graphedit-relay", daemon=True)
        relay.start()
        outcome = _watch(ranks, results, backend)
        relay.join(RELAY_JOIN_S)
        if outcome is not None and not relay.is_alive():
            if outcome["type"] == "failed":
                _record_failure(run_dir, outcome)
            conn.send(outcome)
    except BaseException as exc:  # noqa: BLE001 — whatever happens, the editor hears about it
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        with contextlib.suppress(OSError, EOFError):
            conn.send({"type": "failed", "message": f"the training processes failed to start: {detail}"})
    finally:
        for process in ranks:
            if process.is_alive():
                process.kill()
            process.join(2.0)
        conn.close()


def _relay(events: Any, conn: Any) -> None:
    """Rank 0's messages to the editor, byte for byte (a message cut short by a dying rank ends the relay)."""
    try:
        while True:
            conn.send_bytes(events.recv_bytes())
    except (EOFError, OSError):
        return


def _watch(ranks: list[Any], results: list[Any], backend: str) -> dict[str, Any] | None:
    """Wait for every rank; the run's end message (None when the editor went away)."""
    alive = dict(enumerate(ranks))
    reports: dict[int, dict[str, Any]] = {}
    failures: list[tuple[int, str, str | None]] = []  # (rank, message, node) in the order seen
    vanished: list[tuple[int, str]] = []  # ranks that ended without a report: the cause when there is one
    ended: set[int] = set()  # ranks the launcher ended
    deadline = 0.0
    parent = multiprocessing.parent_process()
    while alive:
        wait([p.sentinel for p in alive.values()] + [r for r in results if not r.closed], WATCH_S)
        for rank, process in list(alive.items()):
            _read(results[rank], rank, reports)
            if process.exitcode is None:
                continue
            del alive[rank]
            _read(results[rank], rank, reports)  # a rank reports just before it exits
            report = reports.get(rank, {})
            if "message" in report:
                failures.append((rank, str(report["message"]), report.get("node_id")))
            elif process.exitcode != 0 and rank not in ended:
                vanished.append((rank, _death(process.exitcode)))
        if (failures or vanished) and not deadline:
            deadline = time.monotonic() + GRACE_S
        gone = parent is not None and not parent.is_alive()
        if gone or (deadline and time.monotonic() > deadline):
            for rank, process in alive.items():
                ended.add(rank)
                process.kill()
        if gone:
            return None
    world = len(ranks)
    if vanished:
        rank, how = vanished[0]
        return {
            "type": "failed",
            "message": f"distributed training failed: rank {rank} of {world} stopped unexpectedly ({how}); the "
            "other ranks were ended. Your graph is unchanged. Fix: if the system ran out of memory, lower the batch "
            "size, then run again.",
            "node_id": None,
        }
    if failures:
        rank, message, node = failures[0]
        return {"type": "failed", "message": f"distributed training failed (rank {rank} of {world}): {message}",
                "node_id": node}  # fmt: skip
    summary = reports.get(0, {}).get("summary")
    if summary is None:
        return {"type": "failed", "message": "distributed training failed: rank 0 ended without a summary.",
                "node_id": None}  # fmt: skip
    summary = {**summary, "backend": backend}
    return {"type": "finished", "summary": summary, "run_dir": summary.get("run", "")}


def _read(reader: Any, rank: int, reports: dict[int, dict[str, Any]]) -> None:
    if reader.closed:
        return
    try:
        while reader.poll(0):
            reports[rank] = reader.recv()
    except (EOFError, OSError):
        reader.close()


def _death(code: int) -> str:
    if code < 0:
        try:
            return f"exit code {code}, killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"exit code {code}, signal {-code}"
    return f"exit code {code}, no report"


def _record_failure(run_dir: str, outcome: dict[str, Any]) -> None:
    """The run folder says why the run failed, as a one-process run's does (rank 0 may not have said it)."""
    folder = Path(run_dir)
    if not folder.is_dir():
        return
    failed = {"status": "failed", "message": outcome["message"], "node_id": outcome.get("node_id")}
    tmp = folder / "summary.json.tmp"
    with contextlib.suppress(OSError):
        tmp.write_text(json.dumps(failed, indent=1), encoding="utf-8")
        tmp.replace(folder / "summary.json")


def _per_rank(overrides: dict[str, Any] | None, project_json: dict[str, Any], processes: int) -> dict[str, Any]:
    """The ranks share the machine's cores: an automatic thread count becomes each rank's share of them."""
    overrides = dict(overrides or {})
    if not (overrides.get("threads") or (project_json.get("training") or {}).get("threads")):
        overrides["threads"] = max(1, (os.cpu_count() or 1) // processes)
    return overrides


class RankControl:
    """Pause and stop, agreed by every rank at the same step: rank 0 reads the editor's buttons (``local``) and
    broadcasts them, the others follow. On GPUs they agree every :data:`CUDA_EVERY` steps (a host sync each)."""

    def __init__(self, local: SharedControl | None, distributed: Distributed) -> None:
        self.local = local
        self.distributed = distributed
        self.calls = 0
        self.agreed = RUN
        self._device: str | None = None

    def _wanted(self) -> int:
        if self.local is None:
            return RUN
        return STOP if self.local.should_stop() else int(self.local.state.value)

    def _agree(self, value: int) -> int:
        import torch
        import torch.distributed as dist

        if self._device is None:
            nccl = dist.get_backend() == "nccl"
            self._device = f"cuda:{self.distributed.local_rank % torch.cuda.device_count()}" if nccl else "cpu"
        tensor = torch.tensor([value], dtype=torch.int32, device=self._device)
        dist.broadcast(tensor, 0)
        return int(tensor.item())

    def wait_if_paused(self) -> None:
        self.calls += 1
        if self._device is not None and self._device != "cpu" and self.calls % CUDA_EVERY:
            return
        told = False
        while True:
            self.agreed = self._agree(self._wanted())
            if self.agreed != PAUSE:
                return
            if not told and self.local is not None and self.local.on_pause is not None:
                self.local.on_pause()  # the editor sees every step before the pause
                told = True
            time.sleep(0.05)

    def should_stop(self) -> bool:
        return self.agreed == STOP


def rank_main(
    rank: int,
    world: int,
    port: int,
    results: Any,
    events: Any,
    state: Any,
    project_json: dict[str, Any],
    project_path: str | None,
    overrides: dict[str, Any],
    run_dir: str,
    resume: bool,
) -> None:
    """One rank: train its share; rank 0 sends the events (``events``); each rank's report goes to ``results``."""
    _die_with_parent()
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
        LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE=str(world),
    )  # fmt: skip
    distributed = Distributed(rank, world, rank)
    sender = Sender(events) if events is not None else None
    forward = Forwarder(sender) if sender is not None else None
    observers = [] if forward is None else [lambda event: None if isinstance(event, FailedEvent) else forward(event)]
    local = SharedControl(state, on_pause=forward.flush) if state is not None and forward is not None else None
    code = 1
    try:
        from graphedit.errors import GraphEditError
        from graphedit.training.session import failure_node, run_project

        try:
            summary = run_project(
                project_json,
                project_path,
                overrides,
                observers,
                RankControl(local, distributed),
                run_dir=run_dir,
                resume=resume,
                probes=rank == 0,
                distributed=distributed,
            )
            report: dict[str, Any] = {"summary": summary}
            code = 0
        except GraphEditError as exc:
            report = {"message": str(exc), "node_id": failure_node(exc)}
        if forward is not None:
            forward.flush()
    except BaseException as exc:  # noqa: BLE001 — whatever happens, the launcher hears about it
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        report = {"message": f"the training process failed: {detail}", "node_id": None}
    finally:
        if sender is not None:
            sender.close()
    results.send(report)
    results.close()
    gc.freeze()  # the process exits now: collecting torch's objects at exit takes long
    sys.exit(code)


def _die_with_parent() -> None:
    """A rank ends with its launcher, even one killed outright (the editor's second Stop, or a crash)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    parent = multiprocessing.parent_process()
    if parent is not None:

        def watch() -> None:
            parent.join()
            os._exit(1)

        threading.Thread(target=watch, name="graphedit-parent", daemon=True).start()
