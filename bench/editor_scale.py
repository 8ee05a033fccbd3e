"""The editor on a 500-node project, offscreen.

Measures (milliseconds, medians):
- ``open_ms``: load the .gproj, build controller, scene and view, show and paint the first frame;
- ``update_ms``: a parameter edit until shapes, labels and the repainted frame are current;
- ``frame_pan_ms`` / ``frame_zoom_ms`` at 100 % (a screenful of nodes) and ``frame_fit_ms`` with all
  500 nodes in view, each rendering the viewport to an image after scrolling or zooming.
Goals: open ≤ 1500 ms, update ≤ 50 ms, frame ≤ 16 ms. Figures are printed last as ``name: value`` lines.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python bench/editor_scale.py``
"""

from __future__ import annotations

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

ROWS, BLOCKS = 20, 8  # 20 rows of Input → 8 × (Dense → ReLU → Add skip) = 500 nodes


def generated_project() -> Project:
    doc = GraphDocument()
    for row in range(ROWS):
        y = row * 260.0
        prev = doc.add_node("Input", {"shape": [32]}, (0.0, y))
        col = 1
        for _ in range(BLOCKS):
            dense = doc.add_node("Dense", {"units": 32}, (240.0 * col, y))
            relu = doc.add_node("ReLU", None, (240.0 * (col + 1), y))
            add = doc.add_node("Add", None, (240.0 * (col + 2), y + 60))
            doc.connect(prev, "y", dense, "x")
            doc.connect(dense, "y", relu, "x")
            doc.connect(relu, "y", add, "in1")
            doc.connect(prev, "y", add, "in2")
            prev, col = add, col + 3
    assert len(doc) == 500, len(doc)
    return Project(document=doc)


def ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000


def main() -> None:
    app = QApplication.instance() or QApplication([])
    folder = Path(tempfile.mkdtemp(prefix="graphedit-bench-"))
    path = save_project(generated_project(), folder / "big.gproj")

    opens = []
    for _ in range(3):
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
        if len(opens) < 3:
            view.close()
            view.deleteLater()
            app.processEvents()

    # an edit in the middle of one row: its downstream shapes, labels and the frame
    doc = controller.document
    target = [n for n in doc.topological_order() if doc.node_type(n).type_id == "Dense"][3]
    downstream = len(doc.descendants(target)) + 1
    updates = []
    for i in range(20):
        t0 = time.perf_counter()
        controller.set_param(target, "units", 32 if i % 2 else 16, merge=False)
        app.processEvents()
        view.viewport().grab()
        updates.append(time.perf_counter() - t0)

    def frames(step) -> list[float]:
        out = []
        for i in range(40):
            step(i)
            t0 = time.perf_counter()
            view.viewport().grab()
            out.append(time.perf_counter() - t0)
        return out

    h = view.horizontalScrollBar()
    pan = frames(lambda i: h.setValue(h.value() + (15 if (i // 10) % 2 == 0 else -15)))
    zoom = frames(lambda i: view.zoom_by(1.03 if (i // 10) % 2 == 0 else 1 / 1.03))
    view.zoom_to_fit()
    fit_zoom = view.zoom()
    fit = frames(lambda i: (h.setValue(h.value() + (4 if i % 2 else -4)), view.zoom_by(1.01 if i % 2 else 1 / 1.01)))

    print(f"nodes: {len(doc)}, edges: {len(doc.edges())}, fit zoom {fit_zoom:.2f}", file=sys.stderr)
    print(f"nodes_rerun_after_edit: {downstream}")
    print(f"open_ms: {ms(opens):.0f}")
    print(f"update_ms: {ms(updates):.1f}")
    print(f"frame_pan_ms: {ms(pan):.1f}")
    print(f"frame_zoom_ms: {ms(zoom):.1f}")
    print(f"frame_fit_ms: {ms(fit):.1f}")
    print(f"frame_ms: {max(ms(pan), ms(zoom), ms(fit)):.1f}")


if __name__ == "__main__":
    main()
