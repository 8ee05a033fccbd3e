"""How soon the editor paints, and how soon it is usable, against the floors measured in the same run.

Each measurement is a fresh process (as a user's start is), timed from just before it is spawned:

* ``editor``: ``python -m graphedit.cli projects/keras_cnn.gproj`` with ``GRAPHEDIT_STARTUP_TRACE`` set; the
  editor writes the moment of its first paint and the moment it is usable (main window shown, project open,
  painted), then quits (``GRAPHEDIT_STARTUP_QUIT``). Settings, recovery folder and data folder are throwaway ones.
* ``bare_window``: a bare PySide6 ``QWidget`` shown; the moment of its first paint.
* ``import_torch``: ``python -c "import torch"``, to exit.
* ``import_torch_qt``: ``python -c "import torch, PySide6.QtWidgets"``, to exit.

Runs are interleaved (one of each per repetition) and medians compared. The venv is warm, as a user's is after
``pip install`` (which compiles the bytecode): the editor's own modules are compiled first (``compileall``), so an
environment with ``PYTHONDONTWRITEBYTECODE`` set does not compile them again in every measured start.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/startup.py [--reps 5] [--project projects/keras_cnn.gproj]

Prints ``name: value`` lines (seconds), then the ratios. Goals on a 2-core machine: ``editor_first_paint_s`` ≤ 1.0;
``usable_over_torch_qt`` ≤ 1.5.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BARE_WINDOW = """
import os, sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication(sys.argv)
class Probe(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and obj is window:
            with open(os.environ["TRACE"], "a") as f:
                f.write(f"first_paint {time.time():.6f}\\n")
            QTimer.singleShot(0, app.quit)
        return False
window = QWidget()
probe = Probe()
window.installEventFilter(probe)
window.resize(1400, 850)
window.show()
app.exec()
"""


def timed(command: list[str], env: dict[str, str]) -> tuple[float, dict[str, float]]:
    """Seconds to exit, and the trace events as seconds after the spawn."""
    trace = Path(env["TRACE"])
    trace.unlink(missing_ok=True)
    start = time.time()
    subprocess.run(command, env=env, cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    total = time.time() - start
    events = {}
    if trace.exists():
        for line in trace.read_text().splitlines():
            name, when = line.split()[:2]
            events.setdefault(name, float(when) - start)
    return total, events


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--project", default=str(REPO / "projects" / "keras_cnn.gproj"))
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="graphedit-startup-"))
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        "TRACE": str(scratch / "trace.txt"),
        "GRAPHEDIT_STARTUP_TRACE": str(scratch / "trace.txt"),
        "GRAPHEDIT_STARTUP_QUIT": "1",
        "XDG_CONFIG_HOME": str(scratch / "config"),  # fresh settings: no saved layout, no start page pending
        "XDG_DATA_HOME": str(scratch / "data"),
        "XDG_CACHE_HOME": str(scratch / "cache"),
        "GRAPHEDIT_RECOVERY_DIR": str(scratch / "recovery"),
    }
    py = sys.executable
    samples: dict[str, list[float]] = {
        k: [] for k in ("editor_first_paint_s", "editor_usable_s", "bare_window_paint_s", "import_torch_s")
    }
    samples["import_torch_qt_s"] = []
    # bytecode as an installed package has it; then warm the file cache once
    compile_all = [py, "-m", "compileall", "-q", "graphedit", "nodes"]
    subprocess.run(compile_all, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    timed([py, "-c", "pass"], env)
    for _ in range(args.reps):
        _, events = timed([py, "-m", "graphedit.cli", args.project], env)
        samples["editor_first_paint_s"].append(events["first_paint"])
        samples["editor_usable_s"].append(events["usable"])
        _, events = timed([py, "-c", BARE_WINDOW], env)
        samples["bare_window_paint_s"].append(events["first_paint"])
        samples["import_torch_s"].append(timed([py, "-c", "import torch"], env)[0])
        samples["import_torch_qt_s"].append(timed([py, "-c", "import torch, PySide6.QtWidgets"], env)[0])
    median = {k: statistics.median(v) for k, v in samples.items()}
    print(f"reps: {args.reps}")
    print(f"project: {Path(args.project).name}")
    loadavg = Path("/proc/loadavg")
    print(f"load average: {' '.join(loadavg.read_text().split()[:3]) if loadavg.exists() else 'n/a'}")
    for name, value in median.items():
        print(f"{name}: {value:.3f}")
    print(f"first_paint_over_bare_window: {median['editor_first_paint_s'] / median['bare_window_paint_s']:.2f}")
    print(f"usable_over_torch: {median['editor_usable_s'] / median['import_torch_s']:.2f}")
    print(f"usable_over_torch_qt: {median['editor_usable_s'] / median['import_torch_qt_s']:.2f}")
    usable_ok = median["editor_usable_s"] <= 1.5 * median["import_torch_qt_s"]
    print(f"goal_first_paint_le_1s: {'yes' if median['editor_first_paint_s'] <= 1.0 else 'no'}")
    print(f"goal_usable_le_1.5x_torch_qt: {'yes' if usable_ok else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
