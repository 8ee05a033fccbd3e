"""Training from the editor against training headless, and how responsive the editor stays meanwhile.

The same project (a 2-D classifier: spiral, MLP 2-64-64-2, probes on) is trained

* headless, in this process, by ``graphedit.training.session.run_project`` (what ``graphedit train`` runs);
* from the editor: an offscreen MainWindow, its TrainingSession (a spawned worker process) and the live
  views dock showing a view (curves, decision regions), as a user would watch it.

Throughput is the trainer's own samples/s (process start and torch import are not counted); runs
alternate (headless, editor, editor, headless, …) and the medians are compared. The editor's
event-loop latency is the lateness of a 10 ms QTimer while the run trains (its drift: how late
each tick came); a frozen editor shows up as a large p99. Beside it, the editor thread's own CPU time
between ticks: when a tick is late but the thread was not busy, the operating system gave the
core to another process (on a small shared machine, often).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/gui_training.py [--reps 2] [--epochs 50] [--threads 1]

Prints ``name: value`` lines, the ratios and latencies last, with the load average beside them. Goals:
throughput ratio ≥ 0.95 (the median of each editor run against the headless runs next to it) and the editor
thread's busy p99 ≤ 20 ms with any view open (the heavy work — decision regions, histograms — is computed in the
worker; the editor only paints).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import graphs  # noqa: E402

TICK_MS = 10


def make_project(folder: Path, epochs: int, n: int) -> Path:
    from graphedit.model.project import Project, save_project

    doc = graphs.mlp(in_shape=(2,), hidden=(64, 64), classes=2)
    training = {"epochs": epochs, "batch_size": 32, "lr": 0.01, "device": "cpu", "seed": 0}
    project = Project(document=doc, dataset={"name": "spiral", "options": {"n": n, "noise": 0.1}}, training=training)
    return save_project(project, folder / "spiral.gproj")


def headless(path: Path, run_dir: Path) -> float:
    from graphedit.model.project import load_project, project_to_json
    from graphedit.training.session import run_project

    summary = run_project(project_to_json(load_project(path)), path, {}, run_dir=run_dir)
    return float(summary["samples_per_second"])


class Drift:
    """A 10 ms timer that records how late each tick comes while ``active``."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.last: float | None = None
        self.last_cpu = 0.0
        self.active = False
        self.samples: list[float] = []
        self.busy: list[float] = []  # the editor thread's own CPU time between two ticks, ms: its work, not waiting
        self.gui_cpu: list[float] = []  # the editor process's CPU time / wall time of each run
        self.click: list[float] = []  # the editor thread's time in the Run click (docks arranged, worker spawned)
        self.timer.start()

    def begin(self) -> None:
        """The run trains (its worker reported started): measure from the next tick on, not from the last one
        before, whose interval holds the run's start."""
        self.active, self.last = True, None

    def _tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        if self.active and self.last is not None:
            self.samples.append(max(0.0, (now - self.last) * 1000 - TICK_MS))
            self.busy.append((cpu - self.last_cpu) * 1000)
        self.last, self.last_cpu = now, cpu


def editor(window: Any, path: Path, view: str, drift: Drift, timeout_s: float = 600) -> float:
    from PySide6.QtCore import QEventLoop, QTimer

    session = window.session
    assert window.files.open(path, ask=False)
    inside = getattr(window, "inside", None)
    if inside is not None and view in inside.views():  # an Inside view (backprop, embeddings…) open while training
        inside.show()
        inside.raise_()
        inside.show_view(view)
    elif window.live is not None:
        window.live.show()
        window.live.raise_()
        window.live.show_view(view)
    result: dict[str, Any] = {}
    loop = QEventLoop()

    def began(_message: dict[str, Any]) -> None:
        drift.begin()

    def done(message: dict[str, Any]) -> None:
        drift.active = False
        result.update(message.get("summary") or {})

    def failed(message: str, node: str) -> None:
        drift.active = False
        result["error"] = message

    def state_changed(state: str) -> None:
        if state == "idle":
            loop.quit()

    # this run's own slots, disconnected after it: the live views' slots on the same signals stay
    slots = ((session.started, began), (session.finished, done), (session.failed, failed))
    slots += ((session.stateChanged, state_changed),)
    for signal, slot in slots:
        signal.connect(slot)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    cpu = time.process_time()
    wall = time.perf_counter()
    click = time.thread_time()
    window.training.run()
    drift.click.append((time.thread_time() - click) * 1000)
    loop.exec()
    result["gui_cpu"] = (time.process_time() - cpu) / (time.perf_counter() - wall)
    for signal, slot in slots:
        signal.disconnect(slot)
    if "error" in result:
        raise SystemExit(f"the editor's run failed: {result['error']}")
    drift.gui_cpu.append(result["gui_cpu"])
    return float(result["samples_per_second"])


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def _paired(runs: list[tuple[str, float]], i: int) -> float | None:
    """The editor run ``i`` against the mean of the headless runs next to it (before and after): the machine's
    speed drifts over a bench of minutes, and a median over the whole bench compares runs minutes apart."""
    before = next((v for k, v in reversed(runs[:i]) if not k), None)
    after = next((v for k, v in runs[i + 1 :] if not k), None)
    near = [v for v in (before, after) if v is not None]
    return runs[i][1] / statistics.mean(near) if near else None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2, help="pairs of runs per view")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--n", type=int, default=4000, help="points in the spiral dataset")
    parser.add_argument("--threads", type=int, default=1, help="torch threads in each training process")
    parser.add_argument(
        "--views",
        default="curves,regions,activations,gradients",
        help="live views (or Inside views: backprop, embeddings, landscape…) to watch, comma-separated",
    )
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # the spawned worker reads it when it imports torch
    import torch
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    torch.set_num_threads(args.threads)
    app = QApplication.instance() or QApplication([])
    from _window_helpers import FakePrompts

    from graphedit.ui.main_window import MainWindow

    folder = Path(tempfile.mkdtemp(prefix="graphedit-bench-"))
    path = make_project(folder, args.epochs, args.n)
    settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(
        prompts=FakePrompts(), settings=settings, recovery_dir=folder / "recovery", offer_recovery=False
    )
    window.resize(1400, 850)
    window.show()
    app.processEvents()
    drift = Drift()
    views = [v.strip() for v in args.views.split(",") if v.strip()]
    head: list[float] = []
    runs: list[tuple[str, float]] = []  # every run in order: (view, or "" for headless; samples/s)
    gui: dict[str, list[float]] = {v: [] for v in views}
    late: dict[str, list[float]] = {v: [] for v in views}
    cpu: dict[str, list[float]] = {v: [] for v in views}
    busy: dict[str, list[float]] = {v: [] for v in views}
    clicks: dict[str, list[float]] = {v: [] for v in views}
    print(f"project: spiral n={args.n}, MLP 2-64-64-2, batch 32, {args.epochs} epochs, probes on")
    print(f"threads: {args.threads}, live dock: {window.live is not None}, load average: {_load()}")
    for rep in range(args.reps):
        for view in views:
            order = ("headless", "editor") if rep % 2 == 0 else ("editor", "headless")
            for kind in order:
                if kind == "headless":
                    value = headless(path, folder / f"headless-{len(head)}")
                    head.append(value)
                    runs.append(("", value))
                else:
                    drift.samples, drift.busy, drift.gui_cpu, drift.click = [], [], [], []
                    value = editor(window, path, view, drift)
                    gui[view].append(value)
                    late[view] += drift.samples
                    busy[view] += drift.busy
                    cpu[view] += drift.gui_cpu
                    clicks[view] += drift.click
                    runs.append((view, value))
                print(f"  {kind:8s} {view if kind == 'editor' else '':8s} {value:10.0f} samples/s")
    window.close()
    print(f"load average after: {_load()} (other work on the machine makes single runs vary; compare medians)")
    h = statistics.median(head)
    print(f"headless_samples_per_s: {h:.0f}")
    for view in views:
        e = statistics.median(gui[view])
        samples = late[view]
        print(f"editor_{view}_samples_per_s: {e:.0f}")
        paired = [r for r in (_paired(runs, i) for i, (v, _) in enumerate(runs) if v == view) if r is not None]
        spread = f"spread {min(paired):.3f}–{max(paired):.3f}"
        print(f"throughput_ratio_{view}: {statistics.median(paired):.3f}  ({spread}, load {_load()})")
        print(f"throughput_ratio_of_medians_{view}: {e / h:.3f}")
        print(f"throughput_ratio_best_{view}: {max(gui[view]) / max(head):.3f}")  # best of each: least disturbed
        print(f"timer_drift_{view}_p50_ms: {percentile(samples, 0.50):.1f}")
        print(f"timer_drift_{view}_p99_ms: {percentile(samples, 0.99):.1f}")
        print(f"timer_drift_{view}_max_ms: {max(samples, default=float('nan')):.1f}")
        print(f"editor_thread_busy_{view}_p99_ms: {percentile(busy[view], 0.99):.1f}  (load {_load()})")
        print(f"editor_thread_busy_{view}_max_ms: {max(busy[view], default=float('nan')):.1f}")
        print(f"timer_ticks_{view}: {len(samples)}")
        print(f"run_click_busy_{view}_max_ms: {max(clicks[view], default=float('nan')):.0f}")
        print(f"editor_cpu_{view}_percent_of_a_core: {100 * statistics.median(cpu[view]):.0f}")


if __name__ == "__main__":
    main()
