"""Instructions per trained sample, GraphEdit against the hand-written loop, counted by valgrind.

bench/train_throughput.py compares times, and on a shared host a run's time drifts by up to 70 % within a minute
and each vCPU is slowed on its own. The instructions a loop executes do not depend on the CPU's pace: valgrind's
callgrind counts them, here only inside each measured loop (the same brackets as train_throughput's ``_cpu``
figures: the hand loop's, and GraphEdit's fit from its started event to its finished event, the recorder's last
write and the last probe included). Each side runs in its own process under valgrind, one torch thread, after
an uncounted one-epoch warm-up of the same loop. What instructions leave out: memory stalls and caches, which the
same kernels on the same tensors share, and what one side waits for (disk, other processes).

Figures, each side's instructions per trained sample:

* ``<case>_ratio_instructions``: hand / GraphEdit, the in-loop ratio (goal ≥ 0.98), and ``_no_probes``: the
  same without probes, as ``graphedit train`` runs;
* ``<case>_probe_overhead_instructions``: GraphEdit with the default probes / without, minus 1 (goal ≤ 0.05);
* ``<case>_hand_repeat``: a second hand process over the first, minus 1: how exactly counts repeat (``--repeat``).

Valgrind hides AVX-512 from the program, so torch runs its AVX2 kernels on both sides, and oneDNN is switched off
on both (its generated kernels run some 200× slower under valgrind), so convolutions run torch's own. Even so a
convolution epoch takes about 4 minutes here, so the image cases count one epoch (``COUNTED_EPOCHS``), where
GraphEdit's fixed costs (first and last probe, the last write) weigh more than in train_throughput's 3-epoch
runs; the residual MLP counts its 60, 2-3 minutes. ``--epochs`` sets every case's. About 40 minutes in all.
Needs valgrind and a C compiler (``apt-get install valgrind gcc``).

    .venv/bin/python bench/instructions.py [--cases residual_mlp,lenet,keras_cnn,image_folder] [--epochs N]
        [--repeat]
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import throughput_hand
import torch
from train_throughput import CASES, LAYOUT, SIDES, Case  # beside this script

# what GraphEdit's loop adds, both loops in one memory order (`auto` would train the convolution cases
# channels-last, which the hand loop does not: train_throughput measures that gain)
LAYOUT["channels_last"] = "off"

COUNTED_EPOCHS = {"lenet": 1, "keras_cnn": 1, "image_folder": 1}  # else train_throughput's (CASES)
TOGGLE = """#include <valgrind/callgrind.h>
void count_start(void) { CALLGRIND_START_INSTRUMENTATION; }
void count_stop(void) { CALLGRIND_STOP_INSTRUMENTATION; }
void count_mark(void) { CALLGRIND_DUMP_STATS_AT("end of the last epoch"); }
"""


def worker(args: argparse.Namespace) -> None:
    """``--worker SIDE`` (under valgrind): warm up uncounted, then one counted run; prints its trained samples."""
    torch.set_num_threads(1)
    torch.backends.mkldnn.enabled = False  # oneDNN's generated kernels run some 200× slower under valgrind
    tmp = Path(tempfile.mkdtemp(prefix="graphedit-instructions-"))
    try:
        case = Case(args.case, tmp, args.epochs or COUNTED_EPOCHS.get(args.case))
        run = case.side(args.worker)
        epochs, case.epochs = case.epochs, 1
        start = time.perf_counter()
        run()  # one epoch warms up what a loop sets up on its first pass
        print(f"{args.case} {args.worker}: warmed up in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        case.epochs = epochs
        lib = ctypes.CDLL(args.lib)
        throughput_hand.COUNTING[:] = [lib.count_start, lib.count_stop, lib.count_mark]
        start = time.perf_counter()
        run()
        print(f"{args.case} {args.worker}: counted in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        print(json.dumps({"samples": case.epochs * case.samples, "epochs": case.epochs, "probes": case.probes}))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def totals(path: Path) -> int:
    """The instructions counted in one of callgrind's profiles ("summary:" is 0 in these)."""
    return sum(int(line.split()[1]) for line in path.read_text().splitlines() if line.startswith("totals:"))


def counted(side: str, case: str, epochs: int | None, lib: Path, folder: Path, tag: str = "") -> tuple[float, ...]:
    """One side's counted loop, from its own valgrind process: instructions per trained sample in the loop and after
    it (GraphEdit's last probe and last write: callgrind's dump at the last epoch ends the loop's part); epochs."""
    out = folder / f"{case}-{side}{tag}.callgrind"
    argv = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]
    argv += [sys.executable, __file__, "--worker", side, "--case", case, "--lib", str(lib)]
    argv += ["--epochs", str(epochs)] if epochs else []
    env = {**os.environ, "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=3600)
    if proc.returncode != 0:
        raise SystemExit(f"{case} {side} failed under valgrind:\n{proc.stderr[-3000:]}")
    run = json.loads(proc.stdout.strip().splitlines()[-1])
    loop_part = out.with_name(out.name + ".1")  # written by the dump at the last epoch (GraphEdit's side)
    loop, after = (totals(loop_part), totals(out)) if loop_part.exists() else (totals(out), 0)
    return loop / run["samples"], after / run["samples"], run["epochs"], run["probes"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--epochs", type=int, help="epochs of a counted run (default: each case's own)")
    parser.add_argument("--repeat", action="store_true", help="count the hand side twice: how exactly counts repeat")
    parser.add_argument("--keep", type=Path, help="keep callgrind's profiles here (callgrind_annotate reads them)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="valgrind processes at once")
    parser.add_argument("--worker", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--lib", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    if shutil.which("valgrind") is None or shutil.which("cc") is None:
        print("instructions: skipped (needs valgrind and a C compiler: apt-get install valgrind gcc)")
        return
    tmp = Path(tempfile.mkdtemp(prefix="graphedit-instructions-"))
    try:
        (tmp / "toggle.c").write_text(TOGGLE)
        lib = tmp / "toggle.so"
        subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", str(lib), str(tmp / "toggle.c")], check=True)
        print(f"torch: {torch.__version__}  valgrind: {subprocess.getoutput('valgrind --version')}  one thread")
        folder = args.keep or tmp
        folder.mkdir(parents=True, exist_ok=True)
        cases = [c.strip() for c in args.cases.split(",") if c.strip()]
        jobs = [(case, side, "") for case in cases for side in SIDES]
        jobs += [(case, "hand", "-again") for case in cases] if args.repeat else []
        with ThreadPoolExecutor(args.jobs) as pool:  # counts do not depend on what else runs
            futures = {job: pool.submit(counted, job[1], job[0], args.epochs, lib, folder, job[2]) for job in jobs}
            per_sample = {job: future.result() for job, future in futures.items()}
        for case in cases:
            (ge, ge_end, epochs, probes), (nop, nop_end, _, _), (hand, _, _, _) = (
                per_sample[(case, side, "")] for side in SIDES
            )
            print(
                f"{case}: {epochs:.0f} counted epochs, {probes:.0f} probes (the last, after the loop, included; "
                "their schedule follows the run's times, here under valgrind); instructions per sample: graphedit "
                f"{ge:.0f} in the loop and {ge_end:.0f} after it (without probes {nop:.0f} and {nop_end:.0f}), "
                f"hand {hand:.0f}"
            )
            print(f"{case}_ratio_instructions: {hand / ge:.4f} (goal ≥ 0.98; the loop, as the run's timed seconds)")
            print(f"{case}_ratio_instructions_with_end: {hand / (ge + ge_end):.4f} (the last probe and write too)")
            print(f"{case}_ratio_instructions_no_probes: {hand / nop:.4f} (`graphedit train`, which runs no probes)")
            print(f"{case}_probe_overhead_instructions: {ge / nop - 1:.4f} (goal ≤ 0.05)")
            print(f"{case}_probe_overhead_instructions_with_end: {(ge + ge_end) / (nop + nop_end) - 1:.4f}")
            if args.repeat:
                print(f"{case}_hand_repeat: {per_sample[(case, 'hand', '-again')][0] / hand - 1:+.5f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
