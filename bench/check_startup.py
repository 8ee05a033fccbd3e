"""`graphedit check` wall time beside a bare ``python -c "import torch"``, measured interleaved in one run.

Each repetition starts fresh interpreters in turn: the floor (import torch), ``graphedit check`` on a project, and
``graphedit --help``. Prints medians (seconds), the spread (max − min) and the ratio check / floor (goal ≤ 1.5),
with the load average beside them, and which heavy modules ``check`` loaded.

Run: ``.venv/bin/python bench/check_startup.py [--reps 7] [--project projects/keras_cnn.gproj]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch._dynamo", "sympy", "onnx", "onnxruntime", "sklearn", "scipy", "PySide6", "pyqtgraph")


def wall(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def loaded_by_check(project: str) -> list[str]:
    code = (
        "import sys; from graphedit.cli import main; main(['check', sys.argv[1]]); "
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code, project], cwd=ROOT, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1].split() if out.strip() else []


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--project", default="projects/keras_cnn.gproj")
    args = parser.parse_args()
    runs = {
        "import_torch": [sys.executable, "-c", "import torch"],
        "check": [sys.executable, "-m", "graphedit.cli", "check", args.project],
        "help": [sys.executable, "-m", "graphedit.cli", "--help"],
    }
    for argv in runs.values():  # warm the file cache once
        wall(argv)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.reps):
        for name, argv in runs.items():
            times[name].append(wall(argv))
    load = os.getloadavg()[0]
    floor = statistics.median(times["import_torch"])
    for name, values in times.items():
        spread = max(values) - min(values)
        print(f"{name}_s: {statistics.median(values):.3f}  (spread {spread:.3f}, load {load:.2f})")
    print(f"check_vs_import_torch: {statistics.median(times['check']) / floor:.2f}  (goal <= 1.5)")
    print(f"check_loads: {' '.join(loaded_by_check(args.project)) or 'none of ' + ', '.join(HEAVY)}")


if __name__ == "__main__":
    main()
