"""In-loop ratios on one shared core: GraphEdit and the hand-written loop train at the same time, on the same CPU.

bench/train_throughput.py runs the two sides one after the other, and on a shared host that compares two paces:
here each vCPU is slowed on its own, and a run's time drifts by up to 70 % within a minute. This bench starts
both sides at once, as two processes pinned to one core, each with one torch thread. The scheduler switches
between them every few milliseconds, so whatever pace the core has, both sides get it. Each side counts the
samples it trained per CPU second of its training loop (``time.process_time`` over the loop, as
train_throughput's ``_cpu`` figures), over the runs that began and ended while the other side was running too.

Pairs (``--pairs``), each a ratio of the left side's samples per CPU second to the right side's:

* ``ge:hand``: GraphEdit's ``run_project`` (recorder, default probes) against the hand loop: the in-loop ratio
  (goal ≥ 0.98);
* ``nop:ge``: GraphEdit without probes against GraphEdit with the default probes, minus 1: the probe overhead
  (goal ≤ 0.05), what probes cost directly and indirectly (caches they evict);
* ``hand:hand`` and ``ge:ge``: the same side twice, the method's own error (A/A), printed beside the figures.
  On the 2-core development host a round's A/A ratio still strays by up to 8 %, a different amount in each
  round (each process has its own memory layout, as each run in one process does): take the median of several
  rounds. bench/instructions.py counts instructions instead, a figure that repeats to 0.01 %.

Each pair runs ``--rounds`` times for ``--seconds`` each; medians and spread are printed with the load average.

    .venv/bin/python bench/same_core.py [--seconds 30] [--rounds 3] [--cases residual_mlp,lenet,keras_cnn,image_folder]
        [--pairs ge:hand,nop:ge,hand:hand] [--cpu N]
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

import torch
from throughput_hand import CPU
from train_throughput import CASES, LAYOUT, SIDES, Case, load, spread  # beside this script

# what GraphEdit's loop adds, both loops in one memory order (`auto` would train the convolution cases
# channels-last, which the hand loop does not: train_throughput measures that gain)
LAYOUT["channels_last"] = "off"


def worker(args: argparse.Namespace) -> None:
    """``--worker SIDE``: build the case, warm up, wait for the go, then train until the deadline, one line a run."""
    os.sched_setaffinity(0, {args.cpu})
    torch.set_num_threads(1)
    tmp = Path(tempfile.mkdtemp(prefix="graphedit-same-core-"))
    try:
        case = Case(args.case, tmp, args.epochs)
        run = case.side(args.worker)
        run()
        print("ready", flush=True)
        deadline = float(sys.stdin.readline())
        while time.time() < deadline:
            start = time.time()
            run()
            record = {"start": start, "end": time.time(), "cpu": CPU[0], "samples": case.epochs * case.samples}
            print(json.dumps(record), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def duel(case: str, left: str, right: str, args: argparse.Namespace) -> float:
    """One round: both sides on one core for ``--seconds``; left's samples per CPU second over right's."""
    argv = [sys.executable, __file__, "--case", case, "--cpu", str(args.cpu)]
    if args.epochs:
        argv += ["--epochs", str(args.epochs)]
    procs = [
        subprocess.Popen([*argv, "--worker", side], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for side in (left, right)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdin is not None
            if proc.stdout.readline().strip() != "ready":
                raise SystemExit(f"a {case} worker failed before its runs (exit {proc.wait()})")
        deadline = time.time() + args.seconds
        for proc in procs:
            proc.stdin.write(f"{deadline}\n")  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
        runs = [[json.loads(line) for line in proc.stdout] for proc in procs]  # type: ignore[union-attr]
    finally:
        for proc in procs:
            proc.wait(timeout=600)
    if not all(runs):
        raise SystemExit(f"{case}: a side finished no run in {args.seconds} s; give more --seconds or fewer --epochs")
    begin = max(r[0]["start"] for r in runs)
    end = min(r[-1]["end"] for r in runs)  # after this, one side trains alone
    speeds = []
    for side_runs in runs:
        both = [r for r in side_runs if r["start"] >= begin and r["end"] <= end]
        if not both:
            raise SystemExit(f"{case}: no run fell where both sides ran; give more --seconds or fewer --epochs")
        speeds.append(sum(r["samples"] for r in both) / sum(r["cpu"] for r in both))
    return speeds[0] / speeds[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--pairs", default="ge:hand,nop:ge,hand:hand")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of one round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, help="epochs of a run (default: each case's own)")
    parser.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)), help="the core both sides share")
    parser.add_argument("--worker", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    pairs = [tuple(p.split(":")) for p in args.pairs.split(",")]
    print(f"torch: {torch.__version__}  core: {args.cpu}  rounds: {args.rounds} × {args.seconds:.0f} s  load: {load()}")
    for case in [c.strip() for c in args.cases.split(",") if c.strip()]:
        for left, right in pairs:
            ratios = [duel(case, left, right, args) for _ in range(args.rounds)]
            name = {("nop", "ge"): "probe_overhead"}.get((left, right), f"{left}_vs_{right}")
            value = statistics.median(ratios) - (name == "probe_overhead")
            shown = [r - (name == "probe_overhead") for r in ratios]
            print(f"{case}_{name}_same_core: {value:.3f} {spread(shown)}", flush=True)


if __name__ == "__main__":
    main()
