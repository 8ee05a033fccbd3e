"""The editor on generated projects of 500, 2,000 and 10,000 nodes, offscreen: deep chains and wide graphs.

Two layouts of [Dense → ReLU → Add(skip)] blocks, 8 blocks (25 nodes) to a row:
- ``wide``: every row starts at its own Input (many short paths side by side);
- ``chain``: each row continues the previous one (one path through the whole graph).

Per project (milliseconds, medians):
- ``open_ms``: load the .gproj, build controller, scene and view, show and paint the first frame;
- ``update_ms``: a parameter edit near the end of the graph (≤ 10 nodes downstream) until shapes, labels and the
  repainted frame are current;
- ``frame_pan_ms`` at 100 % (a screenful of nodes) and, for the smallest size, ``frame_zoom_ms`` and
  ``frame_fit_ms`` with every node in view.
Then the growth exponent of ``open_ms`` between consecutive sizes (1.0 is linear; goal ≤ 1.15), also of the fastest
opens, which other processes' load cannot slow.
Goals: open ≤ 1500 ms at 500 nodes, update ≤ 50 ms, frame ≤ 16 ms.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python bench/editor_scale.py [--sizes 500,2000,10000] [--reps 3]``
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from graphedit.model.document import GraphDocument  # noqa: E402
from graphedit.model.project import Project, load_project, save_project  # noqa: E402
from graphedit.ui.canvas import CanvasView  # noqa: E402
from graphedit.ui.controller import EditorController  # noqa: E402

BLOCKS = 8  # blocks to a row


def generated_project(nodes: int = 500, layout: str = "wide") -> Project:
    """Rows of Input → 8 × (Dense → ReLU → Add skip) (``wide``), or one chain snaking through the rows."""
    doc = GraphDocument()
    prev = None
    row = 0
    while len(doc) < nodes:
        y = row * 260.0
        if prev is None or layout == "wide":
            prev = doc.add_node("Input", {"shape": [32]}, (0.0, y))
        col = 1
        for _ in range(BLOCKS):
            if len(doc) + 3 > nodes:
                break
            dense = doc.add_node("Dense", {"units": 32}, (240.0 * col, y))
            relu = doc.add_node("ReLU", None, (240.0 * (col + 1), y))
            add = doc.add_node("Add", None, (240.0 * (col + 2), y + 60))
            doc.connect(prev, "y", dense, "x")
            doc.connect(dense, "y", relu, "x")
            doc.connect(relu, "y", add, "in1")
            doc.connect(prev, "y", add, "in2")
            prev, col = add, col + 3
        else:
            row += 1
            continue
        while len(doc) < nodes:
            node = doc.add_node("Identity", None, (240.0 * col, y))
            doc.connect(prev, "y", node, "x")
            prev, col = node, col + 1
    return Project(document=doc)


def ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000


def measure(app: QApplication, path: Path, reps: int, frames_too: bool) -> dict[str, float]:
    opens = []
    for i in range(reps):
        gc.collect()  # each open pays for its own garbage, not for what earlier steps left (as timeit does)
        t0 = time.perf_counter()
        project = load_project(path)
        controller = EditorController(project.document)
        view = CanvasView(controller)
        view.resize(1600, 900)
        view.show()
        view.set_zoom(1.0)
        view.centerOn(800, 400)
        app.processEvents()
        view.viewport().grab()
        opens.append(time.perf_counter() - t0)
        if i < reps - 1:
            view.close()
            view.deleteLater()
            app.processEvents()

    doc = controller.document
    denses = [n for n in doc.topological_order() if doc.node_type(n).type_id == "Dense"]
    target = denses[-1]
    out: dict[str, float] = {
        "open": ms(opens),
        "best_open": min(opens) * 1000,
        "downstream": len(doc.descendants(target)) + 1,
    }
    updates = []
    for i in range(max(reps, 10)):
        t0 = time.perf_counter()
        controller.set_param(target, "units", 32 if i % 2 else 16, merge=False)
        app.processEvents()
        view.viewport().grab()
        updates.append(time.perf_counter() - t0)
    out["update"] = ms(updates)

    def frames(step) -> list[float]:
        times = []
        for i in range(40):
            step(i)
            t0 = time.perf_counter()
            view.viewport().grab()
            times.append(time.perf_counter() - t0)
        return times

    h = view.horizontalScrollBar()
    out["pan"] = ms(frames(lambda i: h.setValue(h.value() + (15 if (i // 10) % 2 == 0 else -15))))
    if frames_too:
        out["zoom"] = ms(frames(lambda i: view.zoom_by(1.03 if (i // 10) % 2 == 0 else 1 / 1.03)))
        view.zoom_to_fit()
        out["fit"] = ms(
            frames(lambda i: (h.setValue(h.value() + (4 if i % 2 else -4)), view.zoom_by(1.01 if i % 2 else 1 / 1.01)))
        )
    view.close()
    view.deleteLater()
    app.processEvents()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="500,2000,10000")
    parser.add_argument("--layouts", default="wide,chain")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    app = QApplication.instance() or QApplication([])
    folder = Path(tempfile.mkdtemp(prefix="graphedit-bench-"))
    measure(app, save_project(generated_project(60), folder / "warm.gproj"), 1, False)  # imports, first kernels
    worst = 0.0
    for layout in args.layouts.split(","):
        opens, bests = {}, {}
        for n in sizes:
            path = save_project(generated_project(n, layout), folder / f"{layout}{n}.gproj")
            f = measure(app, path, args.reps, frames_too=n == sizes[0])
            opens[n] = f["open"]
            bests[n] = f["best_open"]
            load = os.getloadavg()[0]
            print(f"{layout}{n}_open_ms: {f['open']:.0f}  (load {load:.2f})")
            print(f"{layout}{n}_update_ms: {f['update']:.1f}  ({f['downstream']:.0f} nodes downstream)")
            print(f"{layout}{n}_frame_pan_ms: {f['pan']:.1f}")
            if "zoom" in f:
                print(f"{layout}{n}_frame_zoom_ms: {f['zoom']:.1f}")
                print(f"{layout}{n}_frame_fit_ms: {f['fit']:.1f}")
            sys.stdout.flush()
        for a, b in zip(sizes, sizes[1:]):
            exponent = math.log(opens[b] / opens[a]) / math.log(b / a)
            best = math.log(bests[b] / bests[a]) / math.log(b / a)
            worst = max(worst, exponent)
            print(f"{layout}_open_exponent_{a}_{b}: {exponent:.2f}  (goal <= 1.15; fastest runs: {best:.2f})")
    print(f"worst_open_exponent: {worst:.2f}  (goal <= 1.15)")


if __name__ == "__main__":
    main()
