"""The Experiments panel's plots: trials over time, parallel coordinates of parameters against the objective, and
parameter importance. Each takes the sweep's rows (:class:`graphedit.training.sweep.TrialRow`) and redraws."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QStackedLayout, QWidget

from graphedit.errors import GraphEditError
from graphedit.model.experiment import SweepParam
from graphedit.training.sweep_results import axis_ticks, best_so_far, importances, scaled
from graphedit.ui.live.base import graphics_layout, style_plot
from graphedit.ui.live.page import TRAIN, VAL, small_font, text_color

PRUNED = (150, 150, 150)
Curves = dict[int, list[tuple[int, float]]]  # trial number -> (epoch, objective) as the trial reported them
MAX_TRIAL_TICKS = 25  # up to this many trials, each is a tick of the history's axis


class SweepView(QWidget):
    """A plot, or a line saying why there is nothing to plot yet."""

    title = ""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._stack = QStackedLayout(self)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setMargin(12)
        self.graphics = graphics_layout(self)
        self.plot = self.graphics.addPlot()
        self._stack.addWidget(self.note)
        self._stack.addWidget(self.graphics)
        self.params: list[SweepParam] = []
        self.objective, self.direction = "val.loss", "minimize"

    def style(self, title: str, left: str, bottom: str) -> None:
        """Axis labels and colours; values as they are (pyqtgraph's setLabel turns SI prefixes back on, and with
        them a stale scale that showed a loss of 0.65 as 650)."""
        style_plot(self.plot, self, title, left, bottom)
        for side in ("left", "bottom"):
            axis = self.plot.getAxis(side)
            axis.setSIPrefixEnableRanges(())
            axis.updateAutoSIPrefix()

    def show_note(self, text: str) -> None:
        self.note.setText(text)
        self._stack.setCurrentWidget(self.note)

    def show_plot(self) -> None:
        self._stack.setCurrentWidget(self.graphics)

    def update_rows(
        self, rows: list[Any], params: list[SweepParam], objective: str, direction: str, curves: Curves
    ) -> None:
        """Redraw from the sweep's rows; ``curves`` holds each trial's objective per epoch, as reported so far."""
        self.params, self.objective, self.direction = params, objective, direction
        self.plot.clear()
        self.render(rows, curves)

    def render(self, rows: list[Any], curves: Curves) -> None:
        raise NotImplementedError


class HistoryView(SweepView):
    """The objective of each trial by trial number, the best so far as a step line, pruned trials grey."""

    title = "Trials over time"

    def render(self, rows: list[Any], curves: Curves) -> None:
        done = [r for r in rows if r.state == "complete" and r.value is not None]
        pruned = [r for r in rows if r.state == "pruned" and curves.get(r.number)]
        if not done and not pruned:
            self.show_note("Each finished trial appears here: its objective, and the best value so far.")
            return
        self.show_plot()
        self.style("", self.objective, "trial")
        self.plot.addLegend(offset=(-10, 10), labelTextColor=text_color(self))
        if pruned:
            self.plot.plot(
                [r.number for r in pruned],
                [curves[r.number][-1][1] for r in pruned],
                pen=None,
                symbol="x",
                symbolBrush=PRUNED,
                symbolPen=PRUNED,
                name="pruned (last value)",
            )
        if done:
            self.plot.plot(
                [r.number for r in done],
                [r.value for r in done],
                pen=None,
                symbol="o",
                symbolSize=8,
                symbolBrush=TRAIN,
                name="trial",
            )
            numbers = sorted({r.number for r in done + pruned})
            if len(numbers) <= MAX_TRIAL_TICKS:  # whole trial numbers, not 0.5 steps
                self.plot.getAxis("bottom").setTicks([[(n, str(n)) for n in numbers]])
            else:
                self.plot.getAxis("bottom").setTicks(None)
            best = best_so_far(rows, self.direction)
            xs, ys = [], []
            for i, (n, v) in enumerate(best):  # a step: the best holds until a better trial comes
                if i:
                    xs.append(n)
                    ys.append(ys[-1])
                xs.append(n)
                ys.append(v)
            self.plot.plot(xs, ys, pen=pg.mkPen(VAL, width=2), name="best so far")


class CurvesView(SweepView):
    """Each trial's objective epoch by epoch as it trains (what the pruner compares); pruned trials grey."""

    title = "Trial curves"

    def render(self, rows: list[Any], curves: Curves) -> None:
        if not any(curves.values()):
            self.show_note("Each trial's objective appears here epoch by epoch while it trains.")
            return
        self.show_plot()
        self.style("", self.objective, "epoch")
        epochs = sorted({e for points in curves.values() for e, _ in points})
        self.plot.getAxis("bottom").setTicks(
            [[(e, str(e)) for e in epochs]] if len(epochs) <= MAX_TRIAL_TICKS else None
        )
        states = {r.number: r.state for r in rows}
        for number, points in sorted(curves.items()):
            state = states.get(number, "running")
            if state == "pruned":
                pen = pg.mkPen(PRUNED, width=1, style=pg.QtCore.Qt.PenStyle.DashLine)
            elif state == "complete":
                pen = pg.mkPen(TRAIN, width=1.5)
            else:
                pen = pg.mkPen(VAL, width=2.5)  # still training
            xs, ys = [e for e, _ in points], [v for _, v in points]
            self.plot.plot(xs, ys, pen=pen, symbol="o", symbolSize=4, symbolBrush=pen.color(), symbolPen=None)
        legend = self.plot.addLegend(offset=(-10, 10), labelTextColor=text_color(self))
        legend.clear()
        for pen, text in (
            (pg.mkPen(VAL, width=2.5), "training"),
            (pg.mkPen(TRAIN, width=1.5), "complete"),
            (pg.mkPen(PRUNED, width=1, style=pg.QtCore.Qt.PenStyle.DashLine), "pruned"),
        ):
            legend.addItem(pg.PlotDataItem(pen=pen), text)  # keys only: not plotted


class ParallelView(SweepView):
    """One vertical axis per parameter and one for the objective; each trial a line through its values.

    Every axis has its own scale (a log range on a log scale, a list by position), labelled at its
    ends or choices; complete trials are coloured by their objective (bright: better), pruned ones grey.
    """

    title = "Parameters"

    def render(self, rows: list[Any], curves: Curves) -> None:
        shown = [r for r in rows if r.state in ("complete", "pruned") and all(p.name in r.params for p in self.params)]
        if not self.params or not shown:
            self.show_note("Each finished trial appears here as a line through its parameter values and objective.")
            return
        self.show_plot()
        names = [p.name for p in self.params] + [self.objective]
        better = "lowest" if self.direction == "minimize" else "highest"
        title = f"one line per trial, coloured by {self.objective} (yellow: {better}; grey dashes: pruned)"
        self.style(title, "each axis scaled to its own range", "")
        bottom = self.plot.getAxis("bottom")
        bottom.setTicks([list(enumerate(names))])
        self.plot.getAxis("left").setTicks([[(0.0, "low"), (0.5, ""), (1.0, "high")]])
        values = [r.value for r in shown if r.state == "complete" and r.value is not None]
        lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
        colors = pg.colormap.get("viridis")
        k = len(self.params)
        for i in range(k + 1):
            self.plot.addItem(pg.InfiniteLine(pos=i, angle=90, pen=pg.mkPen(text_color(self), width=1)))
        for i, param in enumerate(self.params):
            for y, text in axis_ticks(param):
                self._label(i, y, text)
        self._label(k, 0.0, f"{lo:.4g}")
        self._label(k, 1.0, f"{hi:.4g}")
        for row in sorted(shown, key=lambda r: r.state != "pruned"):  # pruned first, so the coloured lines lie on top
            ys = [scaled(p, row.params[p.name]) for p in self.params]
            if any(y is None for y in ys):
                continue
            if row.state == "complete" and row.value is not None:
                t = 0.5 if hi == lo else (row.value - lo) / (hi - lo)
                good = 1.0 - t if self.direction == "minimize" else t
                pen = pg.mkPen(colors.map(0.15 + 0.85 * good, mode="qcolor"), width=2)
                ys.append(t)
            else:
                pen = pg.mkPen(PRUNED, width=1, style=pg.QtCore.Qt.PenStyle.DashLine)
            self.plot.plot(np.arange(len(ys)), ys, pen=pen)
        self.plot.setXRange(-0.5, k + 0.6, padding=0)
        self.plot.setYRange(-0.08, 1.08, padding=0)

    def _label(self, x: float, y: float, text: str) -> None:
        item = pg.TextItem(text, color=text_color(self), anchor=(0, 0.5))
        item.setFont(small_font(8))
        item.setPos(x + 0.03, y)
        self.plot.addItem(item)


class ImportanceView(SweepView):
    """Each parameter's share of the objective's variance (Optuna's fANOVA), as horizontal bars."""

    title = "Importance"

    def render(self, rows: list[Any], curves: Curves) -> None:
        if not self.params:
            self.show_note("Mark parameters for sweeping and run a sweep: here you see which of them mattered.")
            return
        try:
            shares = importances(rows, self.params, self.direction)
        except GraphEditError as exc:
            self.show_note(f"No importance yet: {exc}")
            return
        self.show_plot()
        names = list(reversed(list(shares)))  # the largest on top
        self.style("", "", "importance (fANOVA: share of the objective's variance)")
        self.plot.getAxis("left").setTicks([list(enumerate(names))])
        widths = [shares[n] for n in names]
        self.plot.addItem(pg.BarGraphItem(x0=0, y=np.arange(len(names)), height=0.6, width=widths, brush=TRAIN))
        self.plot.setXRange(0, max(1e-9, max(widths)) * 1.1, padding=0)
        self.plot.setYRange(-0.6, len(names) - 0.4, padding=0)
