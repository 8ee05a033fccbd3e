"""Gradient norm per layer: the latest probe as bars, and every layer's norm over training.

Both on a log scale: in a deep plain network the early layers' gradients are
orders of magnitude smaller than the late ones' (they vanish); with skip
connections they stay within a factor of a few (lesson 5).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from graphedit.ui.live.base import graphics_layout, layer_color, style_plot
from graphedit.ui.live.page import LiveView
from graphedit.ui.live.state import LiveState, finite

FLOOR = 1e-12  # a zero gradient is drawn at this norm


class GradientsView(LiveView):
    name = "gradients"
    title = "Gradients"
    min_height = 420

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graphics = graphics_layout(self)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)
        self.bars_plot = self.graphics.addPlot(row=0, col=0)
        self.time_plot = self.graphics.addPlot(row=1, col=0)
        style_plot(self.bars_plot, self, "Gradient norm per layer (latest probe)", "‖∇ weights‖")
        style_plot(self.time_plot, self, "Gradient norm over training", "‖∇ weights‖", "step")
        self.bars_plot.getAxis("left").setLogMode(False, True)  # bars hold log10 values; ticks read 10^k
        self.time_plot.setLogMode(y=True)
        self.bars = pg.BarGraphItem(x=[], y0=[], height=[], width=0.6)
        self.bars_plot.addItem(self.bars)
        self.curves: dict[str, tuple[pg.PlotDataItem, pg.TextItem]] = {}
        self.show_note("Gradient norms appear with the first probe (layers with weights only).")

    def render(self, state: LiveState) -> None:
        grads = (state.probe or {}).get("gradients") or {}
        if not grads:
            self.show_note("Gradient norms appear with the first probe (layers with weights only).")
            return
        self.show_body()
        layers = state.ordered(grads)
        logs = np.array([math.log10(max(grads[n]["grad_norm"], FLOOR)) for n in layers])
        base = math.floor(float(logs.min())) - 0.5
        x = np.arange(len(layers), dtype=float)
        brushes = [pg.mkBrush(layer_color(i, len(layers))) for i in range(len(layers))]
        self.bars.setOpts(x=x, y0=np.full(len(layers), base), height=logs - base, width=0.6, brushes=brushes)
        self.bars_plot.getAxis("bottom").setTicks([[(i, n) for i, n in enumerate(layers)]])
        self.bars_plot.setXRange(-0.6, len(layers) - 0.4, padding=0)
        self.bars_plot.setYRange(base, max(float(logs.max()), base + 1) + 0.3, padding=0)
        if list(self.curves) != layers:
            for curve, label in self.curves.values():
                self.time_plot.removeItem(curve)
                self.time_plot.removeItem(label)
            self.curves = {}
            for i, node_id in enumerate(layers):
                color = layer_color(i, len(layers))
                label = pg.TextItem(node_id, color=color, anchor=(0, 0.5))
                self.time_plot.addItem(label)
                self.curves[node_id] = (self.time_plot.plot(pen=pg.mkPen(color, width=2)), label)
        last = 1.0
        for node_id, (curve, label) in self.curves.items():
            xs, ys = state.grad_history.get(node_id, ([], []))
            values = np.maximum(finite(ys), FLOOR)
            curve.setData(np.asarray(xs, dtype=float), values)
            if len(xs) and np.isfinite(values[-1]):
                label.setPos(xs[-1], math.log10(values[-1]))  # the plot is in log10 units; labels name the lines
                last = max(last, float(xs[-1]))
        self.time_plot.setXRange(0, last * 1.1, padding=0.02)
