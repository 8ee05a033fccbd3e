"""Activations: per-layer summary, histograms of each layer, and one layer's histogram over time.

This is the notes' figure for lesson 4 (after CS231n): a 10-layer tanh network
with ±0.01 weights has layer deviations that shrink towards zero layer after
layer (the log-scale plot falls like a staircase) and histograms that
collapse to a spike at 0 on the shared axis; Xavier keeps them wide; ReLU
layers show their dead fraction (exact zeros).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from graphedit.ui.live.base import graphics_layout, layer_color, named_lut, style_plot
from graphedit.ui.live.page import BAD, TRAIN, VAL, LiveView, small_font
from graphedit.ui.live.state import LiveState
from graphedit.ui.live.steady import SteadyRange, settled

MAX_HISTOGRAMS = 10
PER_ROW = 5
TIME_BINS = 60
MAX_TICKS = 14
WAITING = "Activation statistics appear with the first probe, a moment after training starts."
_UNSET = object()


def rebin(hist: np.ndarray, edges: np.ndarray, common: np.ndarray) -> np.ndarray:
    """Counts over ``edges`` spread onto the bins ``common`` (uniform within each bin), via the cumulative sum."""
    cdf = np.concatenate([[0.0], np.cumsum(hist)])
    return np.diff(np.interp(common, edges, cdf, left=0.0, right=float(cdf[-1])))


class ActivationsView(LiveView):
    min_height = 600

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state: LiveState | None = None
        self.header = QLabel()
        self.header.setWordWrap(True)
        self.only_box = QCheckBox("Activation layers only")
        self.only_box.setToolTip("Leave out Dense, Conv, Flatten… and show the outputs of activation functions")
        self.only_box.setChecked(True)
        self.only_box.toggled.connect(self._only_toggled)
        top = QHBoxLayout()
        top.setContentsMargins(6, 4, 6, 0)
        top.addWidget(self.header, 1)
        top.addWidget(self.only_box)
        self.graphics = graphics_layout(self)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.graphics, 1)
        row = self.graphics.addLayout(row=0, col=0)
        self.std_plot = row.addPlot(row=0, col=0)
        self.mean_plot = row.addPlot(row=0, col=1)
        self.dead = row.addPlot(row=0, col=2)
        style_plot(self.std_plot, self, "Std per layer (log)")
        style_plot(self.mean_plot, self, "Mean per layer")
        style_plot(self.dead, self, "Dead (exact zeros)")
        for plot in (self.std_plot, self.mean_plot, self.dead):
            plot.getAxis("bottom").setStyle(tickFont=small_font())
            plot.getAxis("left").setWidth(52)
        self.std_plot.setLogMode(y=True)
        self.std_curve = self.std_plot.plot(pen=pg.mkPen(VAL, width=2), symbol="s", symbolSize=6, symbolBrush=VAL)
        self.mean_curve = self.mean_plot.plot(pen=pg.mkPen(TRAIN, width=2), symbol="o", symbolSize=6, symbolBrush=TRAIN)
        self.dead_bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush=BAD)
        self.dead.addItem(self.dead_bars)
        self.dead.setYRange(0, 1)
        # x: one slot per layer, set when the layers change; y: steady
        self.layer_ranges = [SteadyRange(plot, x=False) for plot in (self.std_plot, self.mean_plot)]
        self.hist_layout = self.graphics.addLayout(row=1, col=0)
        self.hist_layout.setContentsMargins(0, 0, 0, 0)
        self.hist_plots: dict[str, tuple[pg.PlotItem, pg.PlotDataItem, SteadyRange, pg.TextItem]] = {}
        self.time_plot = self.graphics.addPlot(row=2, col=0)
        style_plot(self.time_plot, self, " ", "activation", "step")  # a title row from the start
        self.time_range = SteadyRange(self.time_plot)
        self.time_image = pg.ImageItem()
        self.time_image.setLookupTable(named_lut("viridis"))
        self.time_plot.addItem(self.time_image)
        self.show_note(WAITING)
        # the over-time image's value bins (node, low, high) and each probe's histogram rebinned onto them, by step
        self._bins: tuple[str | None, float, float] = (None, 0.0, 0.0)
        self._rows: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._last: dict[str, Any] = {}  # what the axes and titles were last set to (setting them relayouts)

    def _changed(self, key: str, value: Any) -> bool:
        """Whether ``value`` differs from what was last set under ``key`` (and remember it)."""
        if self._last.get(key, _UNSET) == value:
            return False
        self._last[key] = value
        return True

    def _only_toggled(self, _checked: bool = False) -> None:
        self.rendered = None
        if self.state is not None:
            self.draw(self.state)

    def follows_selection(self) -> bool:
        return True

    def drawn_from(self, state: LiveState) -> Hashable:
        return state.run_dir, state.probes

    def layers(self, state: LiveState) -> list[str]:
        """The nodes summarised: activation functions only (when the box is ticked and there are two or more)."""
        layers = state.ordered((state.probe or {}).get("activations") or {})
        picked = [n for n in layers if state.categories.get(n.split(".", 1)[0]) == "activation"]
        self.only_box.setEnabled(len(picked) >= 2)
        return picked if self.only_box.isChecked() and len(picked) >= 2 else layers

    def render(self, state: LiveState) -> list[Callable[[], None]] | None:
        self.state = state
        acts = (state.probe or {}).get("activations") or {}
        if not acts and state.status == "idle":
            self.show_note(WAITING)
            return None
        if not acts:  # a run before its first probe: the page is laid out and painted now, its plots emptied
            self.show_body()
            self.header.setText(WAITING)
            for curve in (self.std_curve, self.mean_curve):
                curve.clear()
            for _plot, curve, _steady, sigma in self.hist_plots.values():
                curve.clear()
                sigma.setText("")
            self.dead_bars.setOpts(x=[], height=[])
            self.time_image.clear()
            return None
        self.show_body()
        layers = self.layers(state)
        x = np.arange(len(layers), dtype=float)
        self.std_curve.setData(x, np.maximum([acts[n]["std"] for n in layers], 1e-12))
        self.mean_curve.setData(x, np.array([acts[n]["mean"] for n in layers], dtype=float))
        zeros = np.array([acts[n]["zeros"] for n in layers], dtype=float)
        self.dead_bars.setOpts(x=x, height=zeros, width=0.6)
        room = max(2, int(self.std_plot.vb.width() // 42)) if self.std_plot.vb.width() > 0 else MAX_TICKS
        every = max(1, int(np.ceil(len(layers) / min(room, MAX_TICKS))))
        ticks = [[(i, n) for i, n in enumerate(layers) if i % every == 0]]
        if self._changed("ticks", (ticks, len(layers))):  # axes relayout when set: only when they change
            for plot in (self.std_plot, self.mean_plot, self.dead):
                plot.getAxis("bottom").setTicks(ticks)
                plot.setXRange(-0.6, len(layers) - 0.4, padding=0)
        for steady in self.layer_ranges:
            steady.update()
        self.header.setText(
            f"Step {state.probe.get('step', '?')} · {len(layers)} layers' outputs on the probe batch · "
            "select nodes for their histograms"
        )
        # the histograms and the image over time repaint in their own turns (a probe's whole page was ~20 ms)
        return [lambda: self._render_histograms(layers, acts), lambda: self._render_over_time(state, layers)]

    def _shown(self, layers: list[str], acts: dict) -> list[str]:
        chosen = [n for n in self.selection if n in acts]
        return (chosen or layers)[:MAX_HISTOGRAMS]

    def _render_histograms(self, layers: list[str], acts: dict) -> None:
        shown = self._shown(layers, acts)
        if list(self.hist_plots) != shown:
            # a fresh layout: a cleared one keeps the column widths of its old grid
            self.graphics.removeItem(self.hist_layout)
            self.hist_layout = self.graphics.addLayout(row=1, col=0)
            self.hist_layout.setContentsMargins(0, 0, 0, 0)
            self.hist_plots = {}
            columns = min(len(shown), PER_ROW)
            for i, node_id in enumerate(shown):
                plot = self.hist_layout.addPlot(row=i // columns, col=i % columns)
                style_plot(plot, self)
                plot.hideAxis("left")
                plot.setMouseEnabled(x=False, y=False)
                color = layer_color(layers.index(node_id) if node_id in layers else i, len(layers))
                fill = pg.mkColor(color)
                fill.setAlpha(170)
                curve = plot.plot(stepMode="center", fillLevel=0, pen=pg.mkPen(color, width=1), brush=fill)
                plot.setTitle(node_id, color=self.palette().text().color().name(), size="8pt")
                # the spread changes with every probe: drawn in the plot's corner, since a title's new text
                # relayouts the whole grid (and redraws every axis)
                sigma = pg.TextItem(color=self.palette().text().color(), anchor=(0, 0))
                sigma.setParentItem(plot.getViewBox())
                self.hist_plots[node_id] = (plot, curve, SteadyRange(plot), sigma)
        # one x axis for all, so a layer whose values shrink towards 0 shows as a spike
        lo = min(acts[n]["min"] for n in shown)
        hi = max(acts[n]["max"] for n in shown)
        for node_id, (_plot, curve, steady, sigma) in self.hist_plots.items():
            act = acts[node_id]
            hist = np.asarray(act["hist"], dtype=float)
            share = hist / max(hist.sum(), 1.0)
            curve.setData(np.asarray(act["edges"], dtype=float), share)
            steady.update(x=(lo, hi), y=(0.0, float(share.max(initial=0.0)) or 1.0))
            sigma.setText(f"σ {act['std']:.2g}")

    def _render_over_time(self, state: LiveState, layers: list[str]) -> None:
        node_id = self.focus_node(layers)
        history = list(state.act_history.get(node_id, ())) if node_id else []
        title = f"Histogram of {node_id} over training (brighter: more values there)" if node_id else ""
        color = self.palette().text().color().name()
        if self._changed("time title", (title, color)):
            self.time_plot.setTitle(title, color=color, size="9pt")
        if not history:
            self.time_image.clear()
            return
        lo = min(float(e[0]) for _, _, e in history)
        hi = max(float(e[-1]) for _, _, e in history)
        if hi - lo < 1e-9:
            hi = lo + 1e-6
        # the value bins stay put while the values stay inside them: each probe rebins its own histogram only
        same = self._bins[0] == node_id
        fitted = settled((self._bins[1], self._bins[2]) if same else None, lo, hi)
        if fitted is not None:
            self._bins, self._rows = (node_id, *fitted), {}
        _, lo, hi = self._bins
        common = np.linspace(lo, hi, TIME_BINS + 1)
        steps = np.array([s for s, _, _ in history], dtype=float)
        rows = {}
        for step, hist, edges in history:  # the histogram itself is the key: a new run's step 1 is rebinned again
            kept = self._rows.get(step)
            rows[step] = (
                kept
                if kept is not None and kept[0] is hist
                else (hist, rebin(hist, edges, common) / max(hist.sum(), 1.0))
            )
        self._rows = rows
        table = np.array([row for _, row in rows.values()])
        width = max(2, min(240, len(history)))
        grid = np.linspace(steps[0], steps[-1], width)
        pick = np.clip(np.searchsorted(steps, grid, side="right") - 1, 0, len(steps) - 1)
        image = np.sqrt(table[pick].T)  # rows: value bins (upwards), columns: time; sqrt shows thin tails
        self.time_image.setImage(image, levels=(0.0, float(image.max()) or 1.0))
        x0, x1 = steps[0], max(steps[-1], steps[0] + 1)
        self.time_image.setRect(QRectF(x0, lo, x1 - x0, hi - lo))
        total = state.steps_total()
        self.time_range.pin_x = (0.0, float(total)) if total else None  # the run's width from the start
        self.time_range.update(x=(x0, x1), y=(lo, hi))
