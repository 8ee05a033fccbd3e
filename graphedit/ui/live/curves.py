"""Loss and metric curves: training per step and per epoch, validation per epoch, earlier runs overlaid.

The x axis is in epochs (a step is a fraction of one), so runs with other
batch sizes line up. Lesson 5 compares a plain deep network with a residual
one by overlaying their runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from graphedit.training.runs import read_metrics
from graphedit.ui.live.base import Legend, graphics_layout, style_plot
from graphedit.ui.live.page import CATEGORICAL, TRAIN, VAL, LiveView, fmt
from graphedit.ui.live.state import LiveState, finite
from graphedit.ui.live.steady import SteadyRange

MARKED_EPOCHS = 30  # per-epoch curves mark each epoch while a run has at most this many


def per_step(curve: Any) -> Any:
    """A curve of every step: drawn at about a point per pixel of what is in view, each the mean of its steps (a
    long run has tens of thousands of steps; drawing them all, or a min and a max per pixel, cost the editor's thread
    most of each redraw)."""
    curve.setDownsampling(auto=True, method="mean")
    curve.opts["autoDownsampleFactor"] = 1.0  # points per pixel (pyqtgraph's default, 5, leaves 5,000 steps whole)
    curve.setClipToView(True)
    return curve


def set_epochs(
    curve: Any, rows: list[dict[str, Any]], value: Callable[[dict[str, Any]], Any], mark: str, legend: Legend
) -> None:
    """A per-epoch curve through ``value`` of each epoch's row, a marker at each epoch while there are few. Past
    MARKED_EPOCHS the line alone: the markers, all set again with each epoch and drawn in every frame, took a third
    of each frame of the editor's thread in a run of many short epochs."""
    symbol = mark if len(rows) <= MARKED_EPOCHS else None
    if curve.opts["symbol"] != symbol:
        curve.setSymbol(symbol)
        legend.refresh()  # its glyph: a line with the marker, or without
    curve.setData(np.array([float(e["epoch"]) for e in rows]), finite([value(e) for e in rows]))


class CurvesView(LiveView):
    min_height = 380

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = QLabel()
        self.header.setWordWrap(True)
        self.log_box = QCheckBox("Log scale")
        self.log_box.setToolTip("Loss on a logarithmic axis: late, small improvements stay visible")
        self.log_box.toggled.connect(self.set_log_scale)
        top = QHBoxLayout()
        top.setContentsMargins(6, 4, 6, 0)
        top.addWidget(self.header, 1)
        top.addWidget(self.log_box)
        self.graphics = graphics_layout(self)
        self.metric_graphics = graphics_layout(self)
        self.loss_legend = Legend()
        self.metric_legend = Legend()
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(top)
        for widget, stretch in ((self.loss_legend, 0), (self.graphics, 3), (self.metric_legend, 0)):
            layout.addWidget(widget, stretch)
        layout.addWidget(self.metric_graphics, 2)
        self.loss_plot = self.graphics.addPlot()
        self.metric_plot = self.metric_graphics.addPlot()
        self.metric_plot.setXLink(self.loss_plot)
        style_plot(self.loss_plot, self, "", "loss", "epoch")
        style_plot(self.metric_plot, self, "", "metric", "epoch")
        self.loss_range = SteadyRange(self.loss_plot)
        self.metric_range = SteadyRange(self.metric_plot, x=False)  # its x follows the loss plot's
        pen_step = pg.mkPen(pg.mkColor(TRAIN).lighter(110), width=1)
        pen_step.setColor(pg.mkColor(76, 139, 245, 90))
        self.step_curve = per_step(self.loss_plot.plot(pen=pen_step))
        self.train_curve = self.loss_plot.plot(
            pen=pg.mkPen(TRAIN, width=2), symbol="o", symbolSize=6, symbolBrush=TRAIN
        )
        self.val_curve = self.loss_plot.plot(pen=pg.mkPen(VAL, width=2), symbol="s", symbolSize=6, symbolBrush=VAL)
        self.loss_legend.addItem(self.step_curve, "loss, train (per step)")
        self.loss_legend.addItem(self.train_curve, "train (per epoch)")
        self.loss_legend.addItem(self.val_curve, "validation")
        self.metric_curves: dict[str, tuple[Any, Any, Any]] = {}
        # the loss of each output of a network with several (a loss node each), drawn beside the total
        self.part_curves: dict[str, tuple[Any, Any, Any]] = {}
        self.overlays: list[Any] = []
        self._drawn_epochs: tuple[int, int] | None = None  # the epochs the per-epoch curves show (list id, count)
        self._keys_drawn: set[str] = set()  # the metrics whose per-epoch curves were drawn for those epochs
        self.show_note("Loss curves appear here when training starts (Run in the toolbar).")

    def set_log_scale(self, on: bool) -> None:
        self.loss_plot.setLogMode(y=bool(on))
        self.loss_plot.getAxis("left").setLabel("loss (log)" if on else "loss")
        self.loss_range.update(force=True)  # the data's extent is in new units

    def render(self, state: LiveState) -> list[Callable[[], None]] | None:
        if not state.steps and not state.epochs and not self.overlays and state.status == "idle":
            self.show_note("Loss curves appear here when training starts (Run in the toolbar).")
            return None
        # a run that has started shows its axes before its first step: the page is laid out and painted whole once,
        # while the worker starts, and the first steps redraw the curves alone (the note's place swapped for the
        # plots took ~30 ms of the editor's thread in the run's first frames, one more time per run)
        self.show_body()
        x = state.epoch_xs(state.steps)
        self.step_curve.setData(x, finite(state.step_loss), connect="finite")
        epochs = [e for e in state.epochs if e.get("train")]
        # most frames bring steps only: the per-epoch curves (their symbols cost most to set) stay as they are
        fresh = self._drawn_epochs != (id(state.epochs), len(state.epochs))
        self._drawn_epochs = (id(state.epochs), len(state.epochs))
        if fresh:
            self._keys_drawn = set()
            set_epochs(self.train_curve, epochs, lambda e: e["train"].get("loss", np.nan), "o", self.loss_legend)
            val = [e for e in epochs if e.get("val")]
            set_epochs(self.val_curve, val, lambda e: e["val"].get("loss", np.nan), "s", self.loss_legend)
        self.loss_range.pin_x = (0.0, float(state.epochs_total)) if state.epochs_total else None
        self.loss_range.update()
        self.header.setText(self._header(state))
        return [lambda: self._render_metrics(state, epochs)]  # the metrics' plot repaints in a turn of its own

    def _metric_keys(self, state: LiveState, epochs: list[dict[str, Any]]) -> list[str]:
        """Metrics and the parts of a composite loss; a single loss node equal to the total is left out."""
        keys: list[str] = []
        source = epochs[-1]["train"] if epochs else {k: v[1][-1] for k, v in state.step_metrics.items()}
        total = source.get("loss")
        for key, value in source.items():
            if key == "loss" or (total is not None and np.isclose(value, total, rtol=1e-6, atol=1e-9)):
                continue
            keys.append(key)
        return keys

    def _render_metrics(self, state: LiveState, epochs: list[dict[str, Any]]) -> None:
        """The metrics' plot, and the loss of each output of a network with several (on the loss plot)."""
        if not state.steps and not state.epochs and state.status != "idle":
            # a run that has not stepped yet: the plots keep their places, emptied (the metrics' plot hidden until
            # the first step and shown again laid both plots out and redrew their axes twice at each run's start)
            for curve in (c for store in (self.metric_curves, self.part_curves) for cs in store.values() for c in cs):
                curve.setData([], [])
            return
        keys = self._metric_keys(state, epochs)
        parts = [k for k in keys if state.categories.get(k) == "loss"]  # each output's loss: on the loss plot
        keys = [k for k in keys if k not in parts]
        self._forget(self.part_curves, parts, self.loss_plot, self.loss_legend)
        self._forget(self.metric_curves, keys, self.metric_plot, self.metric_legend)
        self.metric_graphics.setVisible(bool(keys))
        self.metric_legend.setVisible(bool(keys))
        for i, key in enumerate(parts):
            self._render_key(state, epochs, key, i + len(keys), self.part_curves, self.loss_plot, self.loss_legend)
        for i, key in enumerate(keys):
            single = len(keys) == 1
            self._render_key(state, epochs, key, i, self.metric_curves, self.metric_plot, self.metric_legend, single)
        if parts:
            self.loss_range.update()
        self.metric_range.update()

    @staticmethod
    def _forget(store: dict[str, tuple[Any, Any, Any]], keys: list[str], plot: Any, legend: Legend) -> None:
        """Take off the curves of metrics that this run does not have (an earlier run's, of another graph)."""
        for key in [k for k in store if k not in keys]:
            for curve in store.pop(key):
                plot.removeItem(curve)
                legend.removeItem(curve)

    def _render_key(
        self,
        state: LiveState,
        epochs: list[dict[str, Any]],
        key: str,
        i: int,
        store: dict[str, tuple[Any, Any, Any]],
        plot: Any,
        legend: Legend,
        single: bool = False,
    ) -> None:
        """One loss part or metric: per step (faint), per epoch on training (solid) and validation (dashed)."""
        if key not in store:
            color = TRAIN if single else pg.mkColor(CATEGORICAL[(i + 2) % len(CATEGORICAL)])
            vcolor = VAL if single else color
            faint = pg.mkColor(color)
            faint.setAlpha(90)
            curves = (
                per_step(plot.plot(pen=pg.mkPen(faint, width=1))),
                plot.plot(pen=pg.mkPen(color, width=2), symbol="o", symbolSize=5, symbolBrush=color),
                plot.plot(
                    pen=pg.mkPen(vcolor, width=2, style=Qt.PenStyle.DashLine),
                    symbol="s",
                    symbolSize=5,
                    symbolBrush=vcolor,
                ),
            )
            legend.addItem(curves[1], f"{key}, train")
            legend.addItem(curves[2], f"{key}, validation")
            store[key] = curves
        steps, train, val = store[key]
        xs, ys = state.step_metrics.get(key, ([], []))
        steps.setData(state.epoch_xs(xs), finite(ys), connect="finite")
        if key in self._keys_drawn:  # its per-epoch curves show these epochs already (emptied when one arrives)
            return
        self._keys_drawn.add(key)
        rows = [e for e in epochs if key in e["train"]]
        set_epochs(train, rows, lambda e: e["train"][key], "o", legend)
        vrows = [e for e in epochs if e.get("val") and key in e["val"]]
        set_epochs(val, vrows, lambda e: e["val"][key], "s", legend)

    @staticmethod
    def _header(state: LiveState) -> str:
        parts = []
        if state.epochs:
            last = state.epochs[-1]
            total = f"/{state.epochs_total}" if state.epochs_total else ""
            parts.append(f"epoch {last['epoch']}{total}")
            parts += [f"{k} {fmt(v)}" for k, v in last["train"].items() if k == "loss" or "acc" in k]
            parts += [f"val {k} {fmt(v)}" for k, v in (last.get("val") or {}).items() if k == "loss" or "acc" in k]
        elif state.steps:
            parts.append(f"step {state.steps[-1]}  loss {fmt(state.step_loss[-1])}")
        if state.status not in ("running", "idle"):
            parts.append(state.status.replace("_", " "))
        return "   ·   ".join(parts)

    # ----------------------------------------------------------- overlays
    def overlay_runs(self, run_dirs: list[str]) -> list[str]:
        """Draw each run's per-epoch train/validation loss (from its metrics) dashed; return those drawn."""
        for item in self.overlays:
            self.loss_plot.removeItem(item)
            self.loss_legend.removeItem(item)
        self.overlays = []
        drawn = []
        for i, folder in enumerate(run_dirs):
            rows = read_metrics(folder)
            if not rows:
                continue
            color = pg.mkColor(CATEGORICAL[(i + 2) % len(CATEGORICAL)])
            x = np.array([float(r["epoch"]) for r in rows])
            name = Path(folder).name
            for key, style in (("train_loss", Qt.PenStyle.DashLine), ("val_loss", Qt.PenStyle.DotLine)):
                ys = [r.get(key) for r in rows]
                if all(v is None for v in ys):
                    continue
                item = self.loss_plot.plot(
                    x, finite([np.nan if v is None else v for v in ys]), pen=pg.mkPen(color, width=2, style=style)
                )
                self.loss_legend.addItem(item, f"{name} {'train' if key == 'train_loss' else 'validation'}")
                self.overlays.append(item)
            drawn.append(str(folder))
        self.loss_range.update()
        return drawn
