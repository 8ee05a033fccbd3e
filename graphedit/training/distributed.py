"""Training on several processes or machines with PyTorch's own engine (DESIGN.md decision 11).

``graphedit train PROJECT --nproc-per-node N`` does not train itself: :func:`launch` starts
``torchrun`` (``python -m torch.distributed.run``), which starts N copies of ``graphedit train``
on this machine (and waits for ``--nnodes M`` machines at ``--rdzv-endpoint``). Each copy sees
torchrun's environment, builds the model from the project JSON with the same seed, joins the
process group (gloo on the CPU, NCCL on CUDA) and trains it wrapped in
DistributedDataParallel. Every rank draws the same shuffled order and takes its own slice of
each global batch, so N processes see exactly the batches one process would, split between them
(``batch_size`` stays the global batch). Rank 0 alone writes the run record and the weights and
reports progress. A rank that dies makes torchrun end the others; the launcher turns that into
one line, and the project file is only ever written by rank 0 after training finished.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import Any

from graphedit.errors import TrainingError
from graphedit.model.training_options import ALL_GPUS

ENV_WORLD = "WORLD_SIZE"
CPU_PROCESSES = "GRAPHEDIT_CPU_PROCESSES"
"""A developer setting: the editor trains a ``cpu`` run over this many processes (gloo), as it trains ``cuda:all``
over the GPUs; the same path, testable on a machine without GPUs."""
OWN_LINES = ("epoch ", "resuming ", "graphedit ")  # lines the ranks print themselves (progress, errors)


@dataclass(frozen=True)
class Distributed:
    """This process's place in a torchrun job."""

    rank: int
    world_size: int
    local_rank: int

    @property
    def main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls) -> Distributed | None:
        """The job torchrun started this process in, or None outside torchrun (or a job of one)."""
        try:
            world = int(os.environ.get(ENV_WORLD, "1"))
            rank = int(os.environ.get("RANK", "0"))
            local = int(os.environ.get("LOCAL_RANK", "0"))
        except ValueError:
            return None
        return cls(rank, world, local) if world > 1 else None

    def device(self, wanted: str) -> str:
        """Each rank's device: its own GPU by local rank when CUDA is asked for or available, else the CPU."""
        import torch

        if wanted in ("auto", "cuda", ALL_GPUS) and torch.cuda.is_available():
            return f"cuda:{self.local_rank % torch.cuda.device_count()}"
        return "cpu" if wanted == "auto" else wanted

    def join(self, device: str) -> None:
        import torch
        import torch.distributed as dist

        if device.startswith("cuda"):  # this rank's GPU is the current one (NCCL's and CUDA's defaults go there)
            torch.cuda.set_device(torch.device(device))
        if not dist.is_initialized():
            dist.init_process_group(backend="nccl" if device.startswith("cuda") else "gloo")

    def leave(self, finished: bool = False) -> None:
        """Leave the group; after a finished run, once every rank has finished (a rank that tore its connections
        down while another was still in its last collective made that one abort, now and then)."""
        import torch.distributed as dist

        if dist.is_initialized():
            if finished:
                dist.barrier()
            dist.destroy_process_group()

    def shard(self, X: Any, y: Any) -> tuple[Any, Any]:
        """This rank's slice of a global batch (raises TrainingError when it does not split evenly)."""
        if isinstance(X, dict):  # named inputs and targets: each field cut the same way
            pairs = [self.shard(x, None)[0] for x in X.values()], [self.shard(t, None)[0] for t in (y or {}).values()]
            return dict(zip(X, pairs[0])), (dict(zip(y, pairs[1])) if y is not None else None)
        n = X.shape[0]
        if n % self.world_size:
            raise TrainingError(
                f"a batch of {n} examples does not split evenly over {self.world_size} processes. Fix: make the "
                f"batch size and the training set size multiples of {self.world_size}."
            )
        part = n // self.world_size
        cut = slice(self.rank * part, (self.rank + 1) * part)
        if isinstance(y, (tuple, list)):
            return X[cut], type(y)(t[cut] for t in y)
        return X[cut], (y[cut] if y is not None else None)

    def mean(self, values: list[float]) -> list[float]:
        """The mean of each value over all ranks (each rank saw an equal share of the examples)."""
        import torch
        import torch.distributed as dist

        if not values:
            return values
        tensor = torch.tensor(values, dtype=torch.float64)
        dist.all_reduce(tensor)
        return (tensor / self.world_size).tolist()


def local_processes(device: str) -> tuple[int, str]:
    """How many processes a run on ``device`` takes on this machine, and their backend: every GPU for ``cuda:all``
    (NCCL), ``$GRAPHEDIT_CPU_PROCESSES`` for ``cpu`` (gloo), else one."""
    if device == ALL_GPUS:
        import torch

        if not torch.cuda.is_available():
            raise TrainingError(
                "device 'cuda:all' was asked for but CUDA is not available. Fix: choose the device auto or cpu."
            )
        return torch.cuda.device_count(), "nccl"
    if device == "cpu":
        try:
            return max(1, int(os.environ.get(CPU_PROCESSES) or 1)), "gloo"
        except ValueError:
            return 1, "gloo"
    return 1, ""


def launch_command(
    train_args: list[str], nproc_per_node: int, nnodes: int = 1, rdzv_endpoint: str | None = None
) -> list[str]:
    """The torchrun command line that runs ``graphedit train`` with ``train_args`` on every rank."""
    if nproc_per_node < 1 or nnodes < 1:
        raise TrainingError("--nproc-per-node and --nnodes must be 1 or more. Fix: raise the number.")
    command = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={nproc_per_node}"]
    if nnodes > 1 or rdzv_endpoint:
        if not rdzv_endpoint:
            raise TrainingError("training on several machines needs --rdzv-endpoint HOST:PORT. Fix: add it.")
        command += [f"--nnodes={nnodes}", "--rdzv-backend=c10d", f"--rdzv-endpoint={rdzv_endpoint}"]
    else:
        command += ["--nnodes=1", "--rdzv-backend=c10d", f"--rdzv-endpoint=127.0.0.1:{free_port()}"]
    return [*command, "-m", "graphedit.cli", "train", *train_args]


def launch(command: list[str], timeout: float | None = None) -> int:
    """Run torchrun, passing the ranks' own lines through to stderr and keeping torchrun's logs out of sight.

    A failed rank becomes one TrainingError line (torchrun has already ended the other ranks).
    """
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True, bufsize=1)
    kept: list[str] = []
    fired = threading.Event()

    def kill() -> None:
        fired.set()
        process.kill()

    timer = threading.Timer(timeout, kill) if timeout else None
    if timer is not None:
        timer.start()
    try:
        assert process.stderr is not None
        for line in process.stderr:
            kept.append(line)
            if line.startswith(OWN_LINES):
                sys.stderr.write(line)
                sys.stderr.flush()
        code = process.wait()
    finally:
        if timer is not None:
            timer.cancel()
    if code == 0:
        return 0
    if fired.is_set():
        raise TrainingError(f"distributed training did not finish within {timeout:.0f} s. Fix: check the ranks.")
    raise TrainingError(f"distributed training failed: {_rank_failure(''.join(kept))} The project file is unchanged.")


def _rank_failure(stderr: str) -> str:
    """The first 'graphedit train: ...' line a rank printed, else torchrun's own summary."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if "graphedit train:" in line:
            return line.split("graphedit train:", 1)[1].strip()
    for line in lines:
        if "exitcode" in line or "error" in line.lower():
            return line + "."
    return (lines[-1] + ".") if lines else "a rank ended without a message."


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
