"""Shape inference, compile and project load at 500, 2,000 and 10,000 nodes: deep chains and wide graphs.

Two generated graphs per size:
- ``chain``: Input → [Dense → ReLU → Add(skip)]* — one path as deep as the graph;
- ``wide``: one Input fanning out to [Dense → ReLU → Add(skip)] branches — as wide as the graph.

Per graph it prints (milliseconds, medians of ``--reps``): ``full`` (a fresh ShapeInference, as check, compile and
the editor's open pay), ``incremental`` after a parameter edit with few nodes downstream (goal ≤ 20 ms at every
size), ``incremental_mid`` after an edit half-way down (proportional to what lies downstream: its per-node cost is
printed), ``compile`` (layers built, fx graphs emitted) and ``load`` (parse and insert a saved .gproj). Then the
growth exponent between consecutive sizes, log(t₂/t₁) / log(n₂/n₁) (1.0 is linear; goal ≤ 1.15; also of the
fastest runs, which other processes' load cannot slow: on a shared machine the medians' exponents wander by ±0.3), and
the goal on the largest chain: full inference of 10,000 nodes ≤ 3 s.

Run: ``.venv/bin/python bench/shape_inference.py [--sizes 500,2000,10000] [--reps 3]``
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
from collections.abc import Callable
from pathlib import Path

from graphedit.compiler import ShapeInference, compile_graph
from graphedit.model import GraphDocument
from graphedit.model.project import Project, load_project, save_project


def _block(doc: GraphDocument, prev: str, x: float, y: float) -> str:
    dense = doc.add_node("Dense", {"units": 32}, position=(x, y))
    relu = doc.add_node("ReLU", position=(x + 240, y))
    add = doc.add_node("Add", position=(x + 480, y + 60))
    doc.connect(prev, "y", dense, "x")
    doc.connect(dense, "y", relu, "x")
    doc.connect(relu, "y", add, "in1")
    doc.connect(prev, "y", add, "in2")
    return add


def generated_graph(nodes: int = 500, shape: str = "chain") -> GraphDocument:
    """A ``chain`` or ``wide`` graph of exactly ``nodes`` nodes (see the module doc)."""
    doc = GraphDocument()
    source = doc.add_node("Input", {"shape": [32]}, node_id="input1")
    prev, count = source, 1
    while count + 3 <= nodes:
        row = 0 if shape == "chain" else count // 3
        prev = _block(doc, prev if shape == "chain" else source, 720.0 * (count // 3 if shape == "chain" else 1), row)
        count += 3
    while count < nodes:
        node = doc.add_node("Identity")
        doc.connect(prev, "y", node, "x")
        prev, count = node, count + 1
    return doc


BEST: dict[str, float] = {}  # the fastest run of the last median_ms per label: what other processes' load cannot add to


def median_ms(action: Callable[[], object], reps: int, label: str = "") -> float:
    times = []
    for _ in range(reps):
        gc.collect()  # each run pays for its own garbage, not for what earlier steps left (as timeit does)
        t0 = time.perf_counter()
        action()
        times.append(time.perf_counter() - t0)
    BEST[label] = min(times) * 1000
    return statistics.median(times) * 1000


def incremental_ms(doc: GraphDocument, target: str, reps: int) -> float:
    si = ShapeInference(doc)
    si.run()
    times = []
    for i in range(max(reps, 10)):
        doc.set_param(target, "units", 16 if i % 2 == 0 else 32)
        t0 = time.perf_counter()
        si.update()
        times.append(time.perf_counter() - t0)
    assert not si.errors(), si.errors()[0]
    si.close()
    return statistics.median(times) * 1000


def measure(nodes: int, shape: str, reps: int, folder: Path) -> dict[str, float]:
    gc.collect()
    t0 = time.perf_counter()
    doc = generated_graph(nodes, shape)
    build_ms = (time.perf_counter() - t0) * 1000
    order = doc.topological_order()
    denses = [n for n in order if doc.node_type(n).type_id == "Dense"]
    near_end = denses[-1] if shape == "wide" else denses[-2]  # a few nodes downstream
    middle = denses[len(denses) // 2]
    path = save_project(Project(document=doc), folder / f"{shape}{nodes}.gproj")
    out = {
        "build": build_ms,
        "full": median_ms(lambda: ShapeInference(doc, observe=False).run(), reps, "full"),
        "incremental": incremental_ms(doc, near_end, reps),
        "incremental_downstream": len(doc.descendants(near_end)) + 1,
        "incremental_mid": incremental_ms(doc, middle, reps),
        "mid_downstream": len(doc.descendants(middle)) + 1,
        "compile": median_ms(lambda: compile_graph(doc), max(1, reps // 2), "compile"),
        "load": median_ms(lambda: load_project(path), reps, "load"),
    }
    out.update({f"best_{key}": BEST[key] for key in ("full", "compile", "load")})
    out["best_build"] = build_ms
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="500,2000,10000")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--shapes", default="chain,wide")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="graphedit-bench-"))
    ShapeInference(generated_graph(50)).run()  # warm-up: imports, first meta kernels
    worst = 0.0
    for shape in args.shapes.split(","):
        figures = {}
        for n in sizes:
            f = figures[n] = measure(n, shape, args.reps, folder)
            load = os.getloadavg()[0]
            print(f"{shape}{n}_full_ms: {f['full']:.1f}  (load {load:.2f})")
            print(f"{shape}{n}_incremental_ms: {f['incremental']:.2f}  ({f['incremental_downstream']} nodes rerun)")
            per = f["incremental_mid"] / f["mid_downstream"] * 1000
            print(
                f"{shape}{n}_incremental_mid_ms: {f['incremental_mid']:.1f}  "
                f"({f['mid_downstream']} nodes rerun, {per:.0f} µs each)"
            )
            print(f"{shape}{n}_compile_ms: {f['compile']:.0f}")
            print(f"{shape}{n}_load_ms: {f['load']:.0f}")
            print(f"{shape}{n}_build_ms: {f['build']:.0f}")
            sys.stdout.flush()
        for a, b in zip(sizes, sizes[1:]):
            for key in ("full", "compile", "load", "build"):
                exponent = math.log(figures[b][key] / figures[a][key]) / math.log(b / a)
                best = math.log(figures[b][f"best_{key}"] / figures[a][f"best_{key}"]) / math.log(b / a)
                worst = max(worst, exponent) if key != "build" else worst
                print(f"{shape}_{key}_exponent_{a}_{b}: {exponent:.2f}  (goal <= 1.15; fastest runs: {best:.2f})")
    print(f"worst_exponent: {worst:.2f}  (goal <= 1.15)")
    if "chain" in args.shapes and max(sizes) >= 10_000:
        print("goal: chain10000_full_ms <= 3000; incremental_ms <= 20 at every size")


if __name__ == "__main__":
    main()
