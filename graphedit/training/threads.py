"""How many CPU threads a run gives torch, the memory order of its image batches, and the checks of the run
options that need a tool (``--compile``).

The policy, from measurement (bench/train_throughput.py, ``--threads``): torch's own default is one
thread per *logical* CPU, and on small shared machines that was erratic (one LeNet run stalled 3.3×
long while another process held a core). Hyper-threads add nothing to dense float work, so the
default is the number of *physical* cores available to this process. A tiny model gains nothing
from more threads either: its ops are too small to split (torch parallelises an op only above about
32k elements), and the threads' wake-ups and hand-offs cost time on every op; so when one forward
pass of a training batch takes under :data:`TINY_FORWARD_S`, the run uses one thread. And threads
that wait for a core are far worse than fewer threads (measured on a 2-core machine under a load
of 11: two threads ran 20× slower than one), so cores busy with other work are left out. Busy means
busy now: the CPUs' time in ``/proc/stat`` over :data:`BUSY_SAMPLE_S`, less this process's own. The
load average cannot say it: it trails by a minute and counts the run that just ended, so a second
``graphedit train`` straight after a first, or a benchmark's next run, took itself for other work and
ran with half the threads on two cores.

The memory order (``channels_last``, ``auto`` by default): on the CPU, torch's convolutions ran faster on batches
and weights in channels-last order. A training step (forward and backward, one and two threads) took 1.1-1.3× less
time for the Keras CNN, a ResNet block, an Inception block and a U-Net, and whole runs of the Keras CNN and LeNet
1.14-1.30× less (a DenseNet block, mostly concatenations: 0.89-1.06×), so ``auto`` uses it for a network with 2-D
convolutions on the CPU. On an H200 the lessons' small networks ran 5-10 % slower with it, so ``auto`` leaves it
off on GPUs (``on`` is there for large convolutions with mixed precision). It changes no result beyond float
rounding.

``threads`` (the training setting, ``--threads N``) replaces the policy; so do the environment
variables ``GRAPHEDIT_THREADS`` (the test suite sets it to 1 so parallel test workers do not fight)
and ``OMP_NUM_THREADS`` (torchrun sets it to 1 for each rank).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from graphedit.errors import TrainingError

TINY_FORWARD_S = 0.001  # one forward pass of a training batch faster than this: one thread is faster
BUSY_SAMPLE_S = 0.1  # how long the policy watches the CPUs for other processes' work (ticks are 10 ms)
PROC_STAT = Path("/proc/stat")
ENV = "GRAPHEDIT_THREADS"
COMPILERS = ("c++", "g++", "clang++")


def physical_cores() -> int:
    """Physical cores among the CPUs this process may run on (Linux topology; the CPU count elsewhere)."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows: no topology to read without another dependency
        return os.cpu_count() or 1
    cores = set()
    for cpu in cpus:
        topology = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
        try:
            package = (topology / "physical_package_id").read_text().strip()
            core = (topology / "core_id").read_text().strip()
        except OSError:
            return max(1, len(cpus))
        cores.add((package, core))
    return max(1, len(cores))


def cpu_times(cpus: set[int], stat: Path = PROC_STAT) -> tuple[int, int] | None:
    """(busy, all) clock ticks of these logical CPUs since boot, from ``/proc/stat``; None where there is none."""
    try:
        lines = stat.read_text().splitlines()
    except OSError:
        return None
    busy = total = 0
    for line in lines:
        name, _, rest = line.partition(" ")
        if not name.startswith("cpu") or not name[3:].isdigit() or int(name[3:]) not in cpus:
            continue
        try:
            ticks = [int(v) for v in rest.split()[:8]]  # user nice system idle iowait irq softirq steal
            idle = ticks[3] + ticks[4]
        except (ValueError, IndexError):  # not the kernel's format (an emulated /proc): no figure
            return None
        total += sum(ticks)
        busy += sum(ticks) - idle
    return (busy, total) if total else None


def busy_cpus(seconds: float = BUSY_SAMPLE_S) -> float | None:
    """How many of this process's CPUs other processes keep busy, watched for ``seconds``; None off Linux."""
    try:
        cpus = os.sched_getaffinity(0)
    except AttributeError:
        return None
    before, own, start = cpu_times(cpus), time.process_time(), time.perf_counter()
    if before is None:
        return None
    time.sleep(seconds)
    after, own, elapsed = cpu_times(cpus), time.process_time() - own, time.perf_counter() - start
    if after is None or after[1] <= before[1]:
        return None
    share = (after[0] - before[0]) / (after[1] - before[1])
    return max(0.0, share * len(cpus) - own / elapsed)


def idle_cores(cores: int) -> int:
    """Physical cores minus those other processes are using now (at least 1)."""
    busy = busy_cpus()
    if busy is None:  # no /proc/stat (macOS, Windows): the last minute's load average, this process included
        try:
            busy = os.getloadavg()[0]
        except (AttributeError, OSError):
            return cores
    return max(1, min(cores, int(cores - busy + 0.5)))


def choose_threads(
    requested: int, forward_seconds: float | None, cores: int | None = None, idle: int | None = None
) -> tuple[int, str]:
    """The thread count and why: the setting, the environment, a tiny model, or the idle physical cores."""
    if requested > 0:
        return requested, "set by the training setting threads (--threads)"
    for name in (ENV, "OMP_NUM_THREADS"):  # torchrun sets OMP_NUM_THREADS=1 for each rank
        env = os.environ.get(name, "").strip()
        if env.isdigit() and int(env) > 0:
            return int(env), f"set by the environment variable {name}"
    cores = cores or physical_cores()
    if forward_seconds is not None and forward_seconds < TINY_FORWARD_S and cores > 1:
        return 1, f"a tiny model (a forward pass takes {forward_seconds * 1000:.2f} ms): one thread is faster"
    idle = idle_cores(cores) if idle is None else idle
    if idle < cores:
        return idle, f"one per idle physical core ({idle} of {cores}: the others are busy with other work)"
    return cores, f"one per physical core ({cores})"


def time_forward(model: Any, kwargs: dict[str, Any]) -> float | None:
    """The best of three forward passes in evaluation mode, with one thread (no RNG drawn, no state changed)."""
    import torch

    threads = torch.get_num_threads()
    was_training = model.training
    torch.set_num_threads(1)
    model.eval()
    best = None
    try:
        with torch.no_grad():
            for _ in range(3):
                start = time.perf_counter()
                model(**kwargs)
                elapsed = time.perf_counter() - start
                best = elapsed if best is None else min(best, elapsed)
    except Exception:  # noqa: BLE001 - the run itself reports what fails; the policy falls back to the cores
        best = None
    finally:
        model.train(was_training)
        torch.set_num_threads(threads)
    return best


def apply_threads(requested: int, device: Any, model: Any = None, kwargs: dict[str, Any] | None = None) -> dict:
    """Choose and set torch's thread count for a run; returns ``{"threads": n, "thread_policy": why}``."""
    import torch

    timed = time_forward(model, kwargs) if model is not None and kwargs is not None and device.type == "cpu" else None
    threads, why = choose_threads(requested, timed)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return {"threads": threads, "thread_policy": why}


def check_compile(device: Any) -> None:
    """``--compile`` on the CPU needs a C++ compiler (torch.compile generates C++); say so in one line."""
    if device.type != "cpu":
        return
    wanted = os.environ.get("CXX")
    if wanted and shutil.which(wanted):
        return
    if any(shutil.which(name) for name in COMPILERS):
        return
    raise TrainingError(
        "--compile on the CPU needs a C++ compiler, and none was found (c++, g++, clang++ or $CXX). "
        "Fix: install one (apt install g++, xcode-select --install) or train without --compile."
    )


def channels_last_policy(setting: str, device: Any, model: Any) -> tuple[bool, str]:
    """Whether a run keeps image batches and convolution weights in channels-last order, and why."""
    if setting in ("on", "off"):
        return setting == "on", "set by the training setting channels_last"
    import torch

    if device.type != "cpu":
        return False, f"auto: not on {device.type} (the small networks measured ran slower with it)"
    if not any(isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)) for m in model.modules()):
        return False, "auto: the network has no 2-D convolution"
    return True, "auto: 2-D convolutions on the CPU (a step takes 1.1-1.3× less time)"
