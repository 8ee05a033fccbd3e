"""Blocks at ResNet-50 size: four stages of a Bottleneck definition (16 copies), opened, inferred and edited.

Printed as ``name: value`` (milliseconds, medians of ``--reps``):
- ``open_ms``: read and check the .gproj (its blocks included);
- ``infer_full_ms``: shape inference of the whole graph, from nothing;
- ``infer_edit_inside_ms``: after an edit inside the Bottleneck definition that keeps its port shapes (a
  BatchNorm's eps), until every instance and what follows is current (goal ≤ 20 ms);
- ``infer_edit_flat_ms``: the reference: the same edit on one BatchNorm of the flat torchvision import;
- ``editor_open_ms``: load, controller, canvas, first painted frame (offscreen);
- ``nodes_top`` / ``nodes_flat``: nodes on the top-level canvas with blocks and without.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python bench/blocks.py [--reps 5]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import torch  # noqa: E402
from block_nets import resnet_data  # noqa: E402

from graphedit.compiler.shapes import ShapeInference  # noqa: E402
from graphedit.model.project import library_of, load_project, project_from_json, save_project  # noqa: E402


def ms(values: list[float]) -> float:
    return round(1000 * statistics.median(values), 2)


def edit_inside(reps: int, path: Path) -> tuple[float, float]:
    project = load_project(path)
    inference = ShapeInference(project.document)
    started = time.perf_counter()
    inference.run()
    full = time.perf_counter() - started
    inner = library_of(project.document).definitions["Bottleneck"].document
    times = []
    for i in range(reps):
        inner.set_param("bn2", "eps", 1e-5 if i % 2 else 2e-5)
        started = time.perf_counter()
        inference.update()
        times.append(time.perf_counter() - started)
    assert not inference.errors(), inference.errors()
    return full, ms(times)


def edit_flat(reps: int) -> tuple[float, int]:
    from zoo_helpers import torchvision_models

    from graphedit.importers.fx_import import FxImporter

    model = torchvision_models().resnet50(num_classes=10).eval()
    document = FxImporter(model, (torch.randn(1, 3, 64, 64),)).run().doc
    inference = ShapeInference(document)
    inference.run()
    target = next(n for n in document.node_ids() if document.node_type(n).type_id == "BatchNorm")
    times = []
    for i in range(reps):
        document.set_param(target, "eps", 1e-5 if i % 2 else 2e-5)
        started = time.perf_counter()
        inference.update()
        times.append(time.perf_counter() - started)
    return ms(times), len(document)


def editor_open(reps: int, path: Path) -> float:
    from PySide6.QtWidgets import QApplication

    from graphedit.ui.canvas import CanvasView
    from graphedit.ui.controller import EditorController

    app = QApplication.instance() or QApplication([])
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        project = load_project(path)
        view = CanvasView(EditorController(project.document))
        view.resize(1600, 900)
        view.show()
        app.processEvents()
        view.viewport().grab()
        times.append(time.perf_counter() - started)
        view.close()
        view.deleteLater()
        app.processEvents()
    return ms(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--no-flat", action="store_true", help="skip the flat-import reference (needs torchvision)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="graphedit-bench-blocks-"))
    path = save_project(project_from_json(resnet_data(50, classes=10, size=64), "bench"), folder / "resnet50.gproj")
    opens = []
    for _ in range(args.reps):
        started = time.perf_counter()
        project = load_project(path)
        opens.append(time.perf_counter() - started)
    print(f"nodes_top: {len(project.document)}")
    print(f"open_ms: {ms(opens)}")
    fulls, edits = [], []
    for _ in range(args.reps):
        full, edit = edit_inside(20, path)
        fulls.append(full)
        edits.append(edit / 1000)
    print(f"infer_full_ms: {ms(fulls)}")
    print(f"infer_edit_inside_ms: {ms(edits)}")
    if not args.no_flat:
        try:
            flat, count = edit_flat(20)
            print(f"nodes_flat: {count}")
            print(f"infer_edit_flat_ms: {flat}")
        except Exception as exc:  # the reference needs torchvision; the figures above stand without it
            print(f"infer_edit_flat_ms: skipped ({type(exc).__name__}: {exc})")
    print(f"editor_open_ms: {editor_open(args.reps, path)}")


if __name__ == "__main__":
    main()
