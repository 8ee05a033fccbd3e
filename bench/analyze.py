"""How long Analyze before Run takes, against the shape inference it builds on, measured side by side.

For every example project and for a long chain (``--chain`` Dense/ReLU pairs): ``shapes`` is a fresh
ShapeInference run (meta tensors), ``analysis`` the static checks on top of an inference already run (what the
editor's Run button pays: the controller keeps the inference current), ``refused_run`` the Run button's own
path without a display: analyse and decide. Medians over ``--reps``.

    .venv/bin/python bench/analyze.py [--reps 5] [--chain 500]

Prints ``name: value`` lines (milliseconds), then ``analysis_over_shapes`` ratios. Goal: the refused run answers
within 200 ms for every example (``worst_refused_run_ms``), and the analysis costs a fraction of a shape run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from graphedit.compiler.analysis import analyze  # noqa: E402
from graphedit.compiler.shapes import ShapeInference  # noqa: E402
from graphedit.model.document import GraphDocument  # noqa: E402
from graphedit.model.project import load_project  # noqa: E402


def chain(n: int) -> GraphDocument:
    doc = GraphDocument()
    prev = doc.add_node("Input", {"shape": [16]}, node_id="x")
    for i in range(n):
        d = doc.add_node("Dense", {"units": 16}, node_id=f"d{i}")
        doc.connect(prev, "y", d, "x")
        prev = doc.add_node("ReLU", {}, node_id=f"r{i}")
        doc.connect(d, "y", prev, "x")
    return doc  # no loss: the analysis has an error to report


def timed(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--chain", type=int, default=500)
    args = parser.parse_args()
    torch.set_num_threads(1)
    cases = [(p.stem, load_project(p)) for p in sorted((REPO / "projects").glob("*.gproj"))]
    docs = [(name, project.document, project.training) for name, project in cases]
    docs.append((f"chain{args.chain}", chain(args.chain), None))
    worst, ratios = 0.0, []
    for name, doc, training in docs:
        shapes_ms = timed(lambda d=doc: ShapeInference(d, observe=False).run(), args.reps)
        inference = ShapeInference(doc, observe=False)
        inference.run()
        analysis_ms = timed(lambda d=doc, i=inference, t=training: analyze(d, i, t), args.reps)
        refused_ms = timed(lambda d=doc, i=inference, t=training: any(p.is_error for p in analyze(d, i, t)), args.reps)
        worst = max(worst, refused_ms)
        ratios.append(analysis_ms / shapes_ms)
        print(f"{name}_shapes_ms: {shapes_ms:.2f}")
        print(f"{name}_analysis_ms: {analysis_ms:.2f}")
        print(f"{name}_analysis_over_shapes: {analysis_ms / shapes_ms:.3f}")
    print(f"worst_refused_run_ms: {worst:.2f}")
    print(f"median_analysis_over_shapes: {statistics.median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
