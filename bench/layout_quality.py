"""How readable the example projects' drawings are, before and after the layered layout.

For each project in ``projects/``, two counts of its drawing (:func:`graphedit.model.geometry.drawing_faults`):
- ``crossings``: pairs of wires that cross (wires that share a node are not counted);
- ``through``: wires that pass through a card.

``before`` is the examples as they were laid out before (``bench/layout_before.json``: each node's position
then), drawn as the canvas drew every wire then, a plain curve; ``after`` is
:func:`graphedit.model.layout.layered_layout` with the wires as the canvas draws them now (routed around the
cards when the curve would cross one). An example whose nodes are no longer those of the stored positions
(rebuilt with blocks since) is counted in ``examples_rebuilt_since`` and left out. Also ``layout_ms``: the
slowest example's layout (median of --reps).
Goal: ``through`` 0 everywhere after, ``crossings`` no worse than before on every example.

Run: ``.venv/bin/python bench/layout_quality.py [--reps 3] [--only 05b_deep_residual]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from graphedit.model.geometry import drawing_faults
from graphedit.model.layout import layered_layout
from graphedit.model.project import load_project

ROOT = Path(__file__).resolve().parents[1]
BEFORE = Path(__file__).with_name("layout_before.json")


def measure(path: Path, before: dict[str, list[float]], reps: int = 1) -> dict[str, float]:
    document = load_project(path).document
    old = {n: tuple(xy) for n, xy in before.items()}
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        positions = layered_layout(document)
        times.append((time.perf_counter() - start) * 1000)
    if set(old) != set(document.node_ids()):
        return {"layout_ms": statistics.median(times)}  # rebuilt since (with blocks): another graph, no before
    crossings_before, through_before = drawing_faults(document, old, routed=False)
    crossings_after, through_after = drawing_faults(document, positions)
    return {
        "crossings_before": crossings_before,
        "crossings_after": crossings_after,
        "through_before": through_before,
        "through_after": through_after,
        "layout_ms": statistics.median(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--only", default="", help="one example's name")
    args = parser.parse_args()
    before = json.loads(BEFORE.read_text(encoding="utf-8"))
    totals: dict[str, float] = {}
    worse = rebuilt = 0
    for name in sorted(before):
        if args.only and name != args.only:
            continue
        row = measure(ROOT / "projects" / f"{name}.gproj", before[name], args.reps)
        if "crossings_before" not in row:
            rebuilt += 1
            continue
        for key in ("crossings", "through"):
            for when in ("before", "after"):
                print(f"{name}.{key}_{when}: {row[f'{key}_{when}']}")
                totals[f"{key}_{when}"] = totals.get(f"{key}_{when}", 0) + row[f"{key}_{when}"]
        worse += row["crossings_after"] > row["crossings_before"]
        totals["layout_ms"] = max(totals.get("layout_ms", 0.0), row["layout_ms"])
    for key in ("crossings", "through"):
        print(f"total.{key}_before: {totals[f'{key}_before']}")
        print(f"total.{key}_after: {totals[f'{key}_after']}")
        print(f"total.{key}_ratio: {totals[f'{key}_after'] / max(totals[f'{key}_before'], 1):.2f}")
    print(f"examples_with_more_crossings: {worse}")
    print(f"examples_rebuilt_since: {rebuilt}")  # their graph changed (blocks): no before to compare with
    print(f"layout_ms_slowest: {totals['layout_ms']:.1f}")


if __name__ == "__main__":
    main()
