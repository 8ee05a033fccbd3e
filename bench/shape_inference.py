"""Shape inference on a generated 500-node graph: a chain of Dense/ReLU with skip connections.

Prints the full inference time and the incremental time after a parameter
edit near the end, last, as ``name: value`` lines (milliseconds, medians).
Goals on a 2-core machine: incremental ≤ 20 ms, full ≤ 500 ms.
"""

from __future__ import annotations

import statistics
import sys
import time

from graphedit.compiler import ShapeInference
from graphedit.model import GraphDocument


def generated_graph(nodes: int = 500) -> GraphDocument:
    """Input → [Dense → ReLU → Add(skip)]* until ``nodes`` nodes."""
    doc = GraphDocument()
    prev = doc.add_node("Input", {"shape": [32]}, node_id="input1")
    count = 1
    while count + 3 <= nodes:
        dense = doc.add_node("Dense", {"units": 32}, position=(count * 50.0, 0.0))
        relu = doc.add_node("ReLU", position=(count * 50.0 + 20, 0.0))
        add = doc.add_node("Add", position=(count * 50.0 + 40, 0.0))
        doc.connect(prev, "y", dense, "x")
        doc.connect(dense, "y", relu, "x")
        doc.connect(relu, "y", add, "in1")
        doc.connect(prev, "y", add, "in2")
        prev = add
        count += 3
    while count < nodes:
        node = doc.add_node("Identity")
        doc.connect(prev, "y", node, "x")
        prev = node
        count += 1
    return doc


def main() -> None:
    doc = generated_graph(500)
    denses = [n for n in doc.topological_order() if doc.node_type(n).type_id == "Dense"]
    target = denses[-2]  # near the end: a few nodes downstream
    si = ShapeInference(doc)
    si.run()  # warm-up: imports, first builds
    full = []
    for _ in range(5):
        t0 = time.perf_counter()
        si.run()
        full.append(time.perf_counter() - t0)
    incremental = []
    for i in range(20):
        doc.set_param(target, "units", 32 if i % 2 else 16)
        t0 = time.perf_counter()
        si.update()
        incremental.append(time.perf_counter() - t0)
    assert not si.errors(), si.errors()[0]
    downstream = len(doc.descendants(target)) + 1
    print(f"nodes: {len(doc)}", file=sys.stderr)
    print(f"nodes_rerun_after_edit: {downstream}")
    print(f"full_ms: {statistics.median(full) * 1000:.1f}")
    print(f"incremental_ms: {statistics.median(incremental) * 1000:.2f}")


if __name__ == "__main__":
    main()
