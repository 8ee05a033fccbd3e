"""Sweep scaling and overhead: 8 short trials with --jobs 1 vs --jobs 2, and one trial vs the same run alone.

    .venv/bin/python bench/sweep.py [--trials 8] [--epochs 8] [--reps 2]

Prints ``name: value`` lines: ``speedup_jobs2`` (wall time of the sweep with one job over the
sweep with two; goal >= 1.6 on 2 cores) and ``trial_overhead`` (what one more trial adds to a one-job
sweep — twice the trials less the trials, so the sweep's start once is left out and printed apart as
``sweep_start_s`` — over ``run_project`` of the same project in this process after a warm-up: the price
of the study and the trial process per trial; goal <= 0.10). The load average is
printed beside. ``machine_ceiling_2_processes`` is the same run in two processes at once against one
alone (two runs' work over the slower one's time): what this machine gives two processes, the most
``speedup_jobs2`` could be.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graphedit.model.project import load_project, project_to_json  # noqa: E402
from graphedit.training.session import run_project  # noqa: E402
from graphedit.training.sweep import Sweep, SweepConfig  # noqa: E402
from graphedit.training.sweep_space import parse_param  # noqa: E402


def _project(folder: Path, epochs: int) -> tuple[dict, Path]:
    path = folder / "mlp.gproj"
    shutil.copy(ROOT / "projects" / "residual_mlp.gproj", path)
    project = project_to_json(load_project(path))
    project["dataset"]["options"]["n"] = 2000
    project["training"].update(epochs=epochs, batch_size=32)
    return project, path


def _sweep_seconds(trials: int, jobs: int, epochs: int) -> float:
    """The sweep's wall time; every trial must complete (a trial that fails at once would flatter the speed-up)."""
    with tempfile.TemporaryDirectory() as tmp:
        project, path = _project(Path(tmp), epochs)
        params = [parse_param("lr=0.001..0.1:log"), parse_param("seed=0,1")]
        config = SweepConfig(params=params, trials=trials, jobs=jobs, sampler="random", pruner="none")
        start = time.perf_counter()
        rows = Sweep(project, path, config).run()
        seconds = time.perf_counter() - start
        failed = [row for row in rows if row.state != "complete"]
        if failed:
            raise SystemExit(f"{len(failed)} of {len(rows)} trials did not complete: {failed[0].message}")
        return seconds


def _alone_seconds(epochs: int) -> float:
    import torch

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        project, path = _project(Path(tmp), epochs)
        run_project(project, path)  # warm-up: imports and first-call costs
        start = time.perf_counter()
        run_project(project, path)
        return time.perf_counter() - start


def _timed_run(epochs: int, barrier, results) -> None:  # noqa: ANN001 - multiprocessing objects
    """In a child process: warm up, wait for the other child, then time one run (the ceiling's half)."""
    import torch

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        project, path = _project(Path(tmp), epochs)
        run_project(project, path)
        barrier.wait()
        start = time.perf_counter()
        run_project(project, path)
        results.put(time.perf_counter() - start)


def _pair_seconds(epochs: int) -> float:
    """The same run in two processes at once, each one thread: the slower one's seconds."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    children = [context.Process(target=_timed_run, args=(epochs, barrier, results)) for _ in range(2)]
    for child in children:
        child.start()
    times = [results.get(timeout=600) for _ in children]
    for child in children:
        child.join(60)
    return max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--reps", type=int, default=2)
    args = parser.parse_args()
    one, two, alone, pair, twice = [], [], [], [], []
    for _ in range(args.reps):  # interleaved, so a busy moment hits both sides
        one.append(_sweep_seconds(args.trials, 1, args.epochs))
        twice.append(_sweep_seconds(2 * args.trials, 1, args.epochs))
        two.append(_sweep_seconds(args.trials, 2, args.epochs))
        alone.append(_alone_seconds(args.epochs))
        pair.append(_pair_seconds(args.epochs))
    load = os.getloadavg()[0]
    print(f"jobs1_s: {statistics.median(one):.2f}  (load {load:.2f})")
    print(f"jobs2_s: {statistics.median(two):.2f}")
    print(f"speedup_jobs2: {statistics.median(one) / statistics.median(two):.3f}  (goal >= 1.6)")
    # what two processes of this run gain on this machine with no sweep at all: the most a sweep could
    print(f"machine_ceiling_2_processes: {2 * statistics.median(alone) / statistics.median(pair):.3f}")
    # twice the trials less the trials: what one more trial costs, the sweep's fixed start (the trial process and
    # its torch import, the study) cancelled out
    per_trial = (statistics.median(twice) - statistics.median(one)) / args.trials
    print(f"per_trial_s: {per_trial:.2f}  run_alone_s: {statistics.median(alone):.2f}")
    print(f"sweep_start_s: {statistics.median(one) - args.trials * per_trial:.2f}  (once per sweep)")
    print(f"trial_overhead: {per_trial / statistics.median(alone) - 1:.3f}  (goal <= 0.10)")


if __name__ == "__main__":
    main()
