"""The loss landscape: the loss along the line from the initial to the trained weights, and a 2-D slice around them.

Computed on request, off the editor's thread, with progress, and cancellable (what was done stays on
screen). The initial weights are rebuilt from the run's seed; the slice follows two filter-normalised
random directions (Li et al., 2018). The training path needs weight snapshots taken while training,
which this editor does not keep yet, so the page says the path is unavailable. See
:mod:`graphedit.training.landscape`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QSpinBox, QVBoxLayout

from graphedit.ui.background import Job
from graphedit.ui.inside.page import EVAL_NOTE, InsidePage
from graphedit.ui.inside.plots import make_layout
from graphedit.ui.live.base import TRAIN, named_lut, style_plot, text_color

LINE_POINTS = 31  # t from −0.25 to 1.25 in steps of 0.05: t = 0 and t = 1 are points of the line
EXAMPLES = 256


def compute(seen: Any, size: int, progress: Any) -> dict[str, Any]:
    """The line and the slice on a private copy of the model (the editor's copy keeps its weights)."""
    from graphedit.compiler import compile_graph
    from graphedit.training.landscape import initial_state, loss_line, loss_surface

    compiled = compile_graph(seen.document, device="cpu", seed=seen.seed)
    trained = {k: v.detach().clone() for k, v in seen.compiled.root.state_dict().items()}
    compiled.root.load_state_dict(trained)
    batches = [seen.feed(slice(0, EXAMPLES))]
    total = LINE_POINTS + size * size
    line = loss_line(
        compiled, initial_state(seen.document, seen.seed), trained, batches, LINE_POINTS, progress=progress
    )
    if len(line.t) < LINE_POINTS:
        return {"line": line, "surface": None}
    surface = loss_surface(
        compiled, trained, batches, size=size, progress=lambda done, _n: progress(LINE_POINTS + done, total)
    )
    return {"line": line, "surface": surface}


class LandscapePage(InsidePage):
    name = "landscape"
    title = "Loss landscape"

    def __init__(self, dock: Any, parent: Any = None) -> None:
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
        self.centre = pg.ScatterPlotItem([0], [0], symbol="+", size=14, pen=pg.mkPen("w", width=2))
        self.slice_plot.addItem(self.centre)
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
        style_plot(self.slice_plot, self, "log₁₀ loss around the trained weights (+)", "direction η", "direction δ")

    def applies(self, seen: Any) -> tuple[bool, str]:
        if seen is None:
            return False, "the model is not open"
        if seen.compiled.objective is None:
            return False, "the graph has no loss node"
        return True, ""

    def draw(self) -> None:
        trained = "" if self.seen.trained else "The project has no trained weights yet: the line is flat. "
        self.state.setText(
            f"{trained}Training path: unavailable (no weight snapshots were kept during training). {EVAL_NOTE}"
        )

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
        self._style()
        self.line_plot.autoRange()
        self.slice_plot.autoRange()
