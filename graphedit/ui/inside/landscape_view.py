"""The loss landscape: the loss along the line from the initial to the trained weights, and a 2-D slice around them.

Computed on request, off the editor's thread, with progress, and cancellable (what was done stays on
screen). The slice follows two filter-normalised random directions (Li et al., 2018). The training path
needs weight snapshots: a run started while this view is open (or on its lesson) keeps up to 20 in its
run folder (:mod:`graphedit.training.inside_probes`), and the slice shows them projected onto its plane,
ending at the trained weights (0, 0). Without them the initial weights are rebuilt from the run's seed,
the straight segment from them to the trained weights is drawn instead, and the page says the path is
unavailable. See :mod:`graphedit.training.landscape`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QSpinBox, QVBoxLayout, QWidget

from graphedit.ui.background import Job
from graphedit.ui.inside.page import EVAL_NOTE, InsidePage
from graphedit.ui.inside.plots import make_layout
from graphedit.ui.live.base import named_lut, style_plot
from graphedit.ui.live.page import TRAIN, text_color

if TYPE_CHECKING:
    from graphedit.ui.inside.dock import InsideDock


LINE_POINTS = 31  # t from −0.25 to 1.25 in steps of 0.05: t = 0 and t = 1 are points of the line
EXAMPLES = 256


def snapshots_of(seen: Any) -> list[tuple[str, dict[str, Any]]]:
    """The weight snapshots the trained weights' run kept (``[]``: none, or not of this graph)."""
    from pathlib import Path

    from graphedit.training.inside_probes import SNAPSHOTS, load_snapshots

    if not seen.trained or not seen.weights_path:
        return []
    try:
        snapshots = load_snapshots(Path(seen.weights_path).parent / SNAPSHOTS)
    except Exception:  # noqa: BLE001 - a damaged file: the path is unavailable, the landscape still shows
        return []
    keys = {k for k, v in seen.compiled.root.state_dict().items() if v.is_floating_point()}
    return [s for s in snapshots if set(s[1]) == keys]


def compute(seen: Any, size: int, progress: Any) -> dict[str, Any]:
    """The line and the slice on a private copy of the model (the editor's copy keeps its weights)."""
    from graphedit.compiler import compile_graph
    from graphedit.training.landscape import initial_state, loss_line, loss_surface, project_path

    compiled = compile_graph(seen.document, device="cpu", seed=seen.seed)
    trained = {k: v.detach().clone() for k, v in seen.compiled.root.state_dict().items()}
    compiled.root.load_state_dict(trained)
    batches = [seen.feed(slice(0, EXAMPLES))]
    total = LINE_POINTS + size * size
    snapshots = snapshots_of(seen)
    start = initial_state(seen.document, seen.seed)
    if snapshots:  # the run's own initial weights (a run may start from other weights than the seed's)
        start = {k: snapshots[0][1].get(k, v).to(v.dtype) for k, v in start.items()}
    line = loss_line(compiled, start, trained, batches, LINE_POINTS, progress=progress)
    if len(line.t) < LINE_POINTS:
        return {"line": line, "surface": None, "path": [], "kept": bool(snapshots)}
    surface = loss_surface(
        compiled, trained, batches, size=size, progress=lambda done, _n: progress(LINE_POINTS + done, total)
    )
    floats = {k: v for k, v in trained.items() if v.is_floating_point()}
    if snapshots:
        path = project_path([{k: s[k].to(v.dtype) for k, v in floats.items()} for _, s in snapshots], floats, surface)
    else:
        path = project_path([{k: start[k] for k in floats}, floats], floats, surface)
    return {"line": line, "surface": surface, "path": path, "kept": bool(snapshots)}


class LandscapePage(InsidePage):
    def __init__(self, dock: InsideDock, parent: QWidget | None = None) -> None:
        super().__init__(dock, parent)
        self.size = QSpinBox()
        self.size.setRange(3, 21)
        self.size.setValue(9)
        self.size.setToolTip("Points along each direction of the 2-D slice (the cost grows with its square)")
        self.compute_button = QPushButton("Compute")
        self.compute_button.setToolTip(f"Evaluate the loss on {EXAMPLES} examples at each point, off the editor")
        self.compute_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.state = QLabel()
        self.state.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Grid"))
        bar.addWidget(self.size)
        bar.addWidget(self.compute_button)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.progress, 1)
        self.grid = make_layout(self)
        self.line_plot: pg.PlotItem = self.grid.addPlot(row=0, col=0)
        self.slice_plot: pg.PlotItem = self.grid.addPlot(row=0, col=1)
        for plot in (self.line_plot, self.slice_plot):
            plot.setMenuEnabled(False)
        self.line_curve = self.line_plot.plot([], [], pen=pg.mkPen(TRAIN, width=2), symbol="o", symbolSize=4)
        for t in (0.0, 1.0):  # the initial and the trained weights
            self.line_plot.addItem(
                pg.InfiniteLine(t, angle=90, pen=pg.mkPen(TRAIN, style=pg.QtCore.Qt.PenStyle.DashLine))
            )
        self.image = pg.ImageItem()
        self.image.setLookupTable(named_lut("viridis"))
        self.slice_plot.addItem(self.image)
        self.isocurves: list[pg.IsocurveItem] = []
        self.path_curve = self.slice_plot.plot([], [], pen=pg.mkPen("#ff7f0e", width=2), symbol="o", symbolSize=5)
        self.path_curve.setZValue(10)
        self.path_start = pg.ScatterPlotItem(symbol="s", size=10, pen=pg.mkPen("w"), brush=pg.mkBrush("#ff7f0e"))
        self.path_start.setZValue(11)
        self.slice_plot.addItem(self.path_start)
        self.centre = pg.ScatterPlotItem([0], [0], symbol="+", size=14, pen=pg.mkPen("w", width=2))
        self.centre.setZValue(12)
        self.slice_plot.addItem(self.centre)
        self.path: list[tuple[float, float]] = []
        self._style()
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(6, 2, 6, 4)
        layout.addLayout(bar)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.state)
        self.job: Job | None = None
        self.result: dict[str, Any] | None = None

    def _style(self) -> None:
        style_plot(self.line_plot, self, "loss from initial (t = 0) to trained (t = 1)", "loss", "t")
        style_plot(
            self.slice_plot,
            self,
            "log₁₀ loss around the trained weights (+), path from ■",
            "direction η",
            "direction δ",
        )

    def applies(self, seen: Any) -> tuple[bool, str]:
        if seen is None:
            return False, "the model is not open"
        if seen.compiled.objective is None:
            return False, "the graph has no loss node"
        return True, ""

    def draw(self) -> None:
        trained = "" if self.seen.trained else "The project has no trained weights yet: the line is flat. "
        kept = snapshots_of(self.seen)
        if kept:
            path = f"Training path: {len(kept)} weight snapshots of the run ({kept[0][0]} to {kept[-1][0]})."
        else:
            path = (
                "Training path: unavailable (the run kept no weight snapshots: train with this view open); "
                "the dashed segment runs from the initial weights (rebuilt from the seed) to the trained ones."
            )
        self.state.setText(f"{trained}{path} {EVAL_NOTE}")

    def start(self) -> None:
        if self.seen is None or (self.job is not None and self.job.is_running()):
            return
        seen, size = self.seen, self.size.value()
        self.progress.setRange(0, LINE_POINTS + size * size)
        self.progress.setValue(0)
        self.job = Job(lambda progress: compute(seen, size, progress), self)
        self.job.progressed.connect(lambda done, _total: self.progress.setValue(done))
        self.job.done.connect(self._done)
        self.job.cancelled.connect(self._cancelled)
        self.job.failed.connect(lambda message: self._over(f"The landscape failed: {message}"))
        self.compute_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.job.start()

    def cancel(self) -> None:
        if self.job is not None and self.job.is_running():
            self.job.cancel()

    def _over(self, text: str) -> None:
        self.compute_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.setFormat(text)

    def _cancelled(self) -> None:
        self._over("cancelled")

    def _done(self, result: dict[str, Any]) -> None:
        self._over("done")
        self.result = result
        line = result["line"]
        self.line_curve.setData(line.t, line.loss)
        surface = result["surface"]
        for item in self.isocurves:
            item.setParentItem(None)
            if item.scene() is not None:
                item.scene().removeItem(item)
        self.isocurves = []
        if surface is not None:
            grid = np.array(surface.loss, dtype=float)
            a, b = surface.a, surface.b
            step_a, step_b = (a[-1] - a[0]) / max(len(a) - 1, 1), (b[-1] - b[0]) / max(len(b) - 1, 1)
            shown = np.log10(np.clip(grid, 1e-12, None))  # the loss spans decades away from the minimum
            self.image.setImage(shown.T, levels=(float(shown.min()), float(shown.max())))
            self.image.setRect(a[0] - step_a / 2, b[0] - step_b / 2, step_a * len(a), step_b * len(b))
            for level in np.linspace(shown.min(), shown.max(), 8)[1:-1]:
                curve = pg.IsocurveItem(data=shown.T, level=float(level), pen=pg.mkPen(text_color(self), width=1))
                curve.setParentItem(self.image)
                self.isocurves.append(curve)
        self.path = list(result.get("path") or [])
        if self.path and surface is not None:
            reach = max(max(abs(a), abs(b)) for a, b in self.path)
            if reach < 0.1 * max(abs(surface.a[0]), 1e-12):  # hidden under the centre's mark: say why
                self.progress.setFormat(
                    f"done · the path projects within {reach:.2g} of the centre: two random directions are nearly "
                    "orthogonal to it in this many dimensions (Li et al., 2018)"
                )
        if self.path:
            xs, ys = [p[0] for p in self.path], [p[1] for p in self.path]
            style = pg.QtCore.Qt.PenStyle.SolidLine if result.get("kept") else pg.QtCore.Qt.PenStyle.DashLine
            self.path_curve.setData(xs, ys)
            self.path_curve.setPen(pg.mkPen("#ff7f0e", width=2, style=style))
            self.path_start.setData([xs[0]], [ys[0]])
        else:
            self.path_curve.setData([], [])
            self.path_start.setData([], [])
        self._style()
        self.line_plot.autoRange()
        self.slice_plot.autoRange()
