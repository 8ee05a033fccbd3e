"""Distributed training on the CPU: samples/s of 2 processes (gloo) vs 1 on the same global batch.

    .venv/bin/python bench/ddp.py [--project projects/07_lenet.gproj] [--epochs 3] [--batch-size 64] [--reps 2]

Both sides run ``graphedit train`` as a user would (``--nproc-per-node 2`` for two), each rank
and the single process with one torch thread, so the figure says what a second core buys through
DistributedDataParallel. Prints ``name: value`` lines, the load average beside; the in-loop rate is
the trainer's own samples/s (start-up excluded), the wall ratio includes torchrun's start.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _train(project: Path, epochs: int, batch: int, nproc: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / project.name
        shutil.copy(project, copy)
        command = [sys.executable, "-m", "graphedit.cli", "train", str(copy), "--epochs", str(epochs)]
        command += ["--batch-size", str(batch), "--no-probes", "--json", "--quiet"]
        if nproc > 1:
            command += ["--nproc-per-node", str(nproc)]
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"bench/ddp.py: training failed:\n{done.stderr[-2000:]}")
        return float(json.loads(done.stdout)["samples_per_second"]), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=ROOT / "projects" / "07_lenet.gproj")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--reps", type=int, default=2)
    args = parser.parse_args()
    one, two, wall_one, wall_two = [], [], [], []
    for _ in range(args.reps):  # interleaved
        rate, wall = _train(args.project, args.epochs, args.batch_size, 1)
        one.append(rate)
        wall_one.append(wall)
        rate, wall = _train(args.project, args.epochs, args.batch_size, 2)
        two.append(rate)
        wall_two.append(wall)
    print(f"project: {args.project.name}  global batch {args.batch_size}  (load {os.getloadavg()[0]:.2f})")
    print(f"samples_per_s_1proc: {statistics.median(one):.1f}  (spread {min(one):.1f}-{max(one):.1f})")
    print(f"samples_per_s_2proc: {statistics.median(two):.1f}  (spread {min(two):.1f}-{max(two):.1f})")
    print(f"ddp_speedup: {statistics.median(two) / statistics.median(one):.3f}")
    print(f"wall_ratio_1_over_2: {statistics.median(wall_one) / statistics.median(wall_two):.3f}")


if __name__ == "__main__":
    main()
