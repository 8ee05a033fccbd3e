"""Gradient norm per layer: the latest probe as bars, and every layer's norm over training.

Both on a log scale: in a deep plain network the early layers' gradients are
orders of magnitude smaller than the late ones' (they vanish); with skip
connections they stay within a factor of a few (lesson 5).
"""

from __future__ import annotations

import math
from collections.abc import Hashable

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from graphedit.ui.live.base import graphics_layout, layer_color, style_plot
from graphedit.ui.live.page import LiveView
from graphedit.ui.live.state import LiveState, finite
from graphedit.ui.live.steady import SteadyRange

FLOOR = 1e-12  # a zero gradient is drawn at this norm


class GradientsView(LiveView):
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
        for plot in (self.bars_plot, self.time_plot):  # a fixed width: new tick labels never relayout the plots
            plot.getAxis("left").setWidth(64)
        self.time_plot.setLogMode(y=True)
        self.bars = pg.BarGraphItem(x=[], y0=[], height=[], width=0.6)
        self.bars_plot.addItem(self.bars)
        self.bars_range = SteadyRange(self.bars_plot, x=False)  # x: a slot per layer, set when the layers change
        self.time_range = SteadyRange(self.time_plot)
        self.layers: list[str] = []
        self.curves: dict[str, tuple[pg.PlotDataItem, pg.TextItem]] = {}
        self.show_note("Gradient norms appear with the first probe (layers with weights only).")

    def drawn_from(self, state: LiveState) -> Hashable:
        return state.run_dir, state.probes

    def render(self, state: LiveState) -> None:
        grads = (state.probe or {}).get("gradients") or {}
        if not grads:
            self.show_note("Gradient norms appear with the first probe (layers with weights only).")
            return
        self.show_body()
        layers = state.ordered(grads)
        if list(self.curves) != layers:
            for curve, label in self.curves.values():
                self.time_plot.removeItem(curve)
                self.time_plot.removeItem(label)
            self.curves = {}
            for i, node_id in enumerate(layers):
                color = layer_color(i, len(layers))
                label = pg.TextItem(node_id, color=color, anchor=(0, 0.5))
                self.time_plot.addItem(label)
                # one pixel wide: a wider line of hundreds of probes cost most of each repaint (Qt strokes it)
                self.curves[node_id] = (self.time_plot.plot(pen=pg.mkPen(color, width=1)), label)
        last, lows, highs = 1.0, [], []
        for node_id, (curve, label) in self.curves.items():
            xs, ys = state.grad_history.get(node_id, ([], []))
            values = np.maximum(finite(ys), FLOOR)
            curve.setData(np.asarray(xs, dtype=float), values)
            shown = np.log10(values[np.isfinite(values)])  # the plot is in log10 units
            if len(shown):
                lows.append(float(shown.min()))
                highs.append(float(shown.max()))
            if len(xs) and np.isfinite(values[-1]):
                label.setPos(xs[-1], math.log10(values[-1]))  # labels name the lines at their ends
                last = max(last, float(xs[-1]))
        logs = np.array([math.log10(max(grads[n]["grad_norm"], FLOOR)) for n in layers])
        # both plots span the norms seen so far in the run: the latest probe's alone jump by decades, and each
        # new range would redraw the axis
        low, high = min([*lows, float(logs.min())]), max([*highs, float(logs.max())])
        total = state.steps_total()  # the run's width from the start, with room on the right for the labels
        self.time_range.pin_x = (0.0, total * 1.1) if total else None
        self.time_range.update(x=(0.0, last * 1.1), y=(low, high))
        base = math.floor(low) - 0.5
        x = np.arange(len(layers), dtype=float)
        brushes = [pg.mkBrush(layer_color(i, len(layers))) for i in range(len(layers))]
        self.bars.setOpts(x=x, y0=np.full(len(layers), base), height=logs - base, width=0.6, brushes=brushes)
        if layers != self.layers:  # an axis rebuilds its labels when its ticks are set: only when they change
            self.layers = layers
            self.bars_plot.getAxis("bottom").setTicks([[(i, n) for i, n in enumerate(layers)]])
            self.bars_plot.setXRange(-0.6, len(layers) - 0.4, padding=0)
        self.bars_range.update(y=(base, max(high, base + 1) + 0.3))
