"""Activations: per-layer summary, histograms of each layer, and one layer's histogram over time.

This is the notes' figure for lesson 4 (after CS231n): a 10-layer tanh network
with ±0.01 weights has layer means and deviations that shrink to zero layer
after layer, its histograms collapse to a spike at 0; Xavier keeps them wide;
ReLU layers show their dead fraction (exact zeros).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QVBoxLayout, QWidget

from graphedit.ui.live.base import BAD, TRAIN, VAL, LiveView, graphics_layout, layer_color, named_lut, style_plot
from graphedit.ui.live.state import LiveState

MAX_HISTOGRAMS = 10
PER_ROW = 5
TIME_BINS = 48


class ActivationsView(LiveView):
    name = "activations"
    title = "Activations"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graphics = graphics_layout(self)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)
        top = self.graphics.addLayout(row=0, col=0)
        self.summary = top.addPlot(row=0, col=0)
        self.dead = top.addPlot(row=0, col=1)
        style_plot(self.summary, self, "Mean and std per layer", "activation")
        style_plot(self.dead, self, "Dead fraction per layer (exact zeros)", "fraction")
        self.summary.addLegend(offset=(-8, 8), labelTextSize="8pt").setLabelTextColor(self.palette().text().color())
        self.mean_curve = self.summary.plot(
            pen=pg.mkPen(TRAIN, width=2), symbol="o", symbolSize=6, symbolBrush=TRAIN, name="mean"
        )
        self.std_curve = self.summary.plot(
            pen=pg.mkPen(VAL, width=2), symbol="s", symbolSize=6, symbolBrush=VAL, name="std"
        )
        self.spread = pg.ErrorBarItem(pen=pg.mkPen(TRAIN, width=1), beam=0.15)
        self.summary.addItem(self.spread)
        self.dead_bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush=BAD)
        self.dead.addItem(self.dead_bars)
        self.dead.setYRange(0, 1)
        self.hist_layout = self.graphics.addLayout(row=1, col=0)
        self.hist_plots: dict[str, tuple[pg.PlotItem, pg.PlotDataItem]] = {}
        self.time_plot = self.graphics.addPlot(row=2, col=0)
        style_plot(self.time_plot, self, "", "activation", "step")
        self.time_image = pg.ImageItem()
        self.time_image.setLookupTable(named_lut("viridis"))
        self.time_plot.addItem(self.time_image)
        self.graphics.ci.layout.setRowStretchFactor(0, 3)
        self.graphics.ci.layout.setRowStretchFactor(1, 3)
        self.graphics.ci.layout.setRowStretchFactor(2, 3)
        self.show_note("Activation statistics appear with the first probe, a moment after training starts.")

    def follows_selection(self) -> bool:
        return True

    def layers(self, state: LiveState) -> list[str]:
        return state.ordered((state.probe or {}).get("activations") or {})

    def render(self, state: LiveState) -> None:
        acts = (state.probe or {}).get("activations") or {}
        if not acts:
            self.show_note("Activation statistics appear with the first probe, a moment after training starts.")
            return
        self.show_body()
        layers = state.ordered(acts)
        x = np.arange(len(layers), dtype=float)
        means = np.array([acts[n]["mean"] for n in layers], dtype=float)
        stds = np.array([acts[n]["std"] for n in layers], dtype=float)
        self.mean_curve.setData(x, means)
        self.std_curve.setData(x, stds)
        self.spread.setData(x=x, y=means, height=2 * stds)
        zeros = np.array([acts[n]["zeros"] for n in layers], dtype=float)
        self.dead_bars.setOpts(x=x, height=zeros, width=0.6)
        ticks = [[(i, n) for i, n in enumerate(layers)]]
        for plot in (self.summary, self.dead):
            plot.getAxis("bottom").setTicks(ticks)
            plot.setXRange(-0.6, len(layers) - 0.4, padding=0)
        self._render_histograms(state, layers, acts)
        self._render_over_time(state, layers)

    def _shown(self, layers: list[str]) -> list[str]:
        chosen = [n for n in self.selection if n in layers]
        return (chosen or layers)[:MAX_HISTOGRAMS]

    def _render_histograms(self, state: LiveState, layers: list[str], acts: dict) -> None:
        shown = self._shown(layers)
        if list(self.hist_plots) != shown:
            self.hist_layout.clear()
            self.hist_plots = {}
            for i, node_id in enumerate(shown):
                plot = self.hist_layout.addPlot(row=i // PER_ROW, col=i % PER_ROW)
                style_plot(plot, self, node_id)
                plot.getAxis("left").setStyle(showValues=False)
                plot.setMouseEnabled(x=False, y=False)
                color = layer_color(layers.index(node_id), len(layers))
                fill = pg.mkColor(color)
                fill.setAlpha(170)
                curve = plot.plot(stepMode="center", fillLevel=0, pen=pg.mkPen(color, width=1), brush=fill)
                self.hist_plots[node_id] = (plot, curve)
        for node_id, (plot, curve) in self.hist_plots.items():
            act = acts[node_id]
            hist = np.asarray(act["hist"], dtype=float)
            curve.setData(np.asarray(act["edges"], dtype=float), hist / max(hist.sum(), 1.0))
            plot.setTitle(
                f"{node_id}  μ {act['mean']:.2g}  σ {act['std']:.2g}", color=self.palette().text().color().name()
            )

    def _render_over_time(self, state: LiveState, layers: list[str]) -> None:
        node_id = self.focus_node(layers)
        history = list(state.act_history.get(node_id, ())) if node_id else []
        self.time_plot.setTitle(
            f"Histogram of {node_id} over training (colour: share of values)" if node_id else "",
            color=self.palette().text().color().name(),
        )
        if len(history) < 1:
            self.time_image.clear()
            return
        lo = min(float(e[0]) for _, _, e in history)
        hi = max(float(e[-1]) for _, _, e in history)
        if hi - lo < 1e-9:
            hi = lo + 1e-6
        common = np.linspace(lo, hi, TIME_BINS + 1)
        steps = np.array([s for s, _, _ in history], dtype=float)
        columns = []
        for _, hist, edges in history:
            centers = (edges[:-1] + edges[1:]) / 2
            counts, _ = np.histogram(centers, bins=common, weights=hist)
            columns.append(counts / max(counts.sum(), 1.0))
        table = np.array(columns)  # [probes, bins]
        width = max(2, min(240, len(history)))
        grid = np.linspace(steps[0], steps[-1], width)
        pick = np.clip(np.searchsorted(steps, grid, side="right") - 1, 0, len(steps) - 1)
        image = np.sqrt(table[pick].T)  # rows: value bins (upwards), columns: time; sqrt shows thin tails
        self.time_image.setImage(image, levels=(0.0, float(image.max()) or 1.0))
        x0, x1 = steps[0], max(steps[-1], steps[0] + 1)
        self.time_image.setRect(QRectF(x0, lo, x1 - x0, hi - lo))
        self.time_plot.setXRange(x0, x1, padding=0)
        self.time_plot.setYRange(lo, hi, padding=0)
