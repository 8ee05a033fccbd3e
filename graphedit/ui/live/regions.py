"""Decision regions for 2-D inputs: of the whole network with the data points, and of each unit of a node.

As in TensorFlow Playground (lessons 1 and 2): the plane of inputs (x₁, x₂)
is coloured by what the network predicts there — orange for class 0, blue
for class 1 — under the training points; beside it, each unit of the
hovered or selected node gets its own small map, so one sees first-layer
units make straight splits and later units combine them into curves.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from graphedit.ui.live.base import diverging_lut, graphics_layout, style_plot
from graphedit.ui.live.grid import ImageGrid
from graphedit.ui.live.page import BLUE, CATEGORICAL, NEUTRAL, ORANGE, LiveView, text_color
from graphedit.ui.live.state import LiveState

UNIT_COLUMNS = 4
REGION_STRENGTH = 0.55  # how far the region colours go from grey towards the class colours
MAX_UNITS = 16
OVERVIEW_LAYERS = 4  # hidden layers shown when no node is selected
OVERVIEW_UNITS = 8


def class_probability(maps: np.ndarray) -> np.ndarray | None:
    """P(class 1) over the grid from an output of 1 unit (a probability or a logit) or 2 units (logits)."""
    if maps.shape[0] == 2:
        shifted = maps - maps.max(0, keepdims=True)
        e = np.exp(shifted)
        return e[1] / e.sum(0)
    if maps.shape[0] == 1:
        v = maps[0]
        if float(v.min()) >= 0.0 and float(v.max()) <= 1.0:
            return v
        return 1.0 / (1.0 + np.exp(-np.clip(v, -60, 60)))
    return None


def region_colors(maps: np.ndarray, task: str) -> tuple[np.ndarray, Any]:
    """RGB [G, G, 3] uint8 for the network's output maps [units, G, G], and how to colour a point's label."""
    lut = diverging_lut()
    if task == "regression" or (task != "classification" and maps.shape[0] == 1):
        scale = float(np.abs(maps[0]).max()) or 1.0
        t = (maps[0] / scale + 1) / 2
        return _lut(lut, t), lambda v: _lut(lut, np.clip((np.asarray(v, float) / scale + 1) / 2, 0, 1))
    p = class_probability(maps)
    if p is not None:
        return _lut(lut, p), lambda labels: np.where(np.asarray(labels)[:, None] > 0, BLUE, ORANGE)
    e = np.exp(maps - maps.max(0, keepdims=True))
    probs = e / e.sum(0)
    k = maps.shape[0]
    palette = np.array([CATEGORICAL[i % len(CATEGORICAL)] for i in range(k)], dtype=float)
    confidence = np.clip((probs.max(0) - 1 / k) / (1 - 1 / k), 0, 1)[..., None]
    colors = np.array(NEUTRAL, float) + (palette[probs.argmax(0)] - np.array(NEUTRAL, float)) * (
        0.25 + 0.6 * confidence
    )
    return colors.astype(np.uint8), lambda labels: palette[np.asarray(labels, int) % len(palette)]


def _lut(lut: np.ndarray, t: np.ndarray) -> np.ndarray:
    t = np.nan_to_num(np.asarray(t, float), nan=0.5)  # a diverged model's NaN outputs show as undecided
    index = np.clip((t * (len(lut) - 1)).round().astype(int), 0, len(lut) - 1)
    return lut[index]


class RegionsView(LiveView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graphics = graphics_layout(self)
        self.unit_title = QLabel()
        self.unit_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.unit_grid = ImageGrid()
        panel = QWidget()
        panel.setAutoFillBackground(True)
        panel.setBackgroundRole(QPalette.ColorRole.Base)
        side = QVBoxLayout(panel)
        side.setContentsMargins(0, 6, 0, 0)
        side.addWidget(self.unit_title)
        side.addWidget(self.unit_grid, 1)
        layout = QHBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.graphics, 3)
        layout.addWidget(panel, 2)
        self.panel = panel
        self.fit = FitPanel(self)
        layout.addWidget(self.fit.graphics, 5)
        self.fit.graphics.hide()
        self.plot = self.graphics.addPlot(row=0, col=0)
        style_plot(self.plot, self, "Network output", "x₂", "x₁")
        self.plot.setAspectLocked(True)
        self.plot.showGrid(x=False, y=False)
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.points = pg.ScatterPlotItem(size=7, pen=pg.mkPen(30, 30, 30, 170, width=1))
        self.plot.addItem(self.points)
        self._points_key: tuple[bytes, bytes] | None = None
        self._brushes: dict[tuple[int, ...], Any] = {}
        self.lut = diverging_lut()
        self.shown_node: str | None = None
        self.shown_nodes: list[str] = []
        self.show_note("Decision regions are drawn for datasets with 1-D or 2-D inputs (circle, xor, regression1d…).")

    def applies(self, state: LiveState) -> bool:
        return state.info is None or state.feature_shape() in ((1,), (2,))

    def follows_selection(self) -> bool:
        return True

    def render(self, state: LiveState) -> None:
        regions = (state.probe or {}).get("regions") or {}
        maps = regions.get("maps") or {}
        if not maps:
            if not self.applies(state):
                shape = list(state.feature_shape())
                self.show_note(f"Decision regions need 1-D or 2-D inputs; this dataset's inputs are {shape}.")
            else:
                self.show_note("Decision regions appear with the first probe, a moment after training starts.")
            return
        self.show_body()
        grid = regions["grid"]
        one_d = grid.get("dims") == 1
        self.graphics.setVisible(not one_d)
        self.panel.setVisible(not one_d)
        self.fit.graphics.setVisible(one_d)
        if one_d:
            self.fit.render(state, regions)
            return
        rect = QRectF(grid["x"][0], grid["y"][0], grid["x"][1] - grid["x"][0], grid["y"][1] - grid["y"][0])
        order = state.ordered(maps)
        output_id = regions.get("prediction")
        if output_id not in maps:
            output_id = order[-1]
        colors, point_color = region_colors(np.asarray(maps[output_id], dtype=float), state.task())
        # regions lighter than the points, as in Playground, so points on their own side stay visible
        light = (np.array(NEUTRAL, float) + (colors - np.array(NEUTRAL, float)) * REGION_STRENGTH).astype(np.uint8)
        self.image.setImage(light, levels=(0, 255))
        self.image.setRect(rect)
        self.plot.setTitle(
            f"Network output ({output_id}) at step {state.probe.get('step', '?')}", color=text_color(self)
        )
        self._render_points((state.probe or {}).get("points"), point_color)
        self.plot.setRange(rect, padding=0)
        hidden = [n for n in order if n != output_id]
        explicit = [n for n in [self.hover, *self.selection] if n in maps]
        if explicit:
            self._render_units([explicit[0]], maps)
        else:  # every hidden layer, a row each, as Playground draws its neurons
            acts = [n for n in hidden if state.categories.get(n.split(".", 1)[0]) == "activation"]
            self._render_units((acts or hidden)[:OVERVIEW_LAYERS] or [output_id], maps)

    def _render_points(self, points: dict[str, Any] | None, point_color: Any) -> None:
        """The training points, set again only when they or their colours change (they are fixed for a run).

        One brush object per colour: pyqtgraph renders a symbol per brush *object*, so 400 new brushes
        each probe cost ~300 ms of the editor thread and grew its symbol atlas without end."""
        if not points or "x" not in points:
            self.points.clear()
            self._points_key = None
            return
        xy = np.asarray(points["x"], dtype=float)
        labels = points.get("y")
        colors = np.full((len(xy), 3), 80) if labels is None else np.asarray(point_color(labels)).astype(int)
        key = (xy.tobytes(), colors.tobytes())
        if key == self._points_key:
            return
        self._points_key = key
        for color in {tuple(c) for c in colors.tolist()} - self._brushes.keys():
            self._brushes[color] = pg.mkBrush(*color)
        self.points.setData(x=xy[:, 0], y=xy[:, 1], brush=[self._brushes[tuple(c)] for c in colors.tolist()])

    @property
    def unit_cells(self) -> list:
        return self.unit_grid.cells

    def _render_units(self, node_ids: list[str], maps: dict[str, Any]) -> None:
        """Each unit's map, one row per node (at most OVERVIEW_UNITS units a row when several nodes show)."""
        self.shown_nodes = list(node_ids)
        self.shown_node = node_ids[0] if len(node_ids) == 1 else None
        limit = MAX_UNITS if len(node_ids) == 1 else OVERVIEW_UNITS
        layers = [np.asarray(maps[n], dtype=float)[:limit] for n in node_ids]
        columns = UNIT_COLUMNS if len(node_ids) == 1 else max(len(units) for units in layers)
        images: list[np.ndarray | None] = []
        titles = []
        for node_id, units in zip(node_ids, layers):
            for i, unit in enumerate(units):
                scale = float(np.abs(unit).max())
                t = unit / scale if scale > 1e-12 else np.zeros_like(unit)
                images.append(np.flipud(_lut(self.lut, (t + 1) / 2)))  # rows run up the x₂ axis
                titles.append(f"unit {i}" if len(node_ids) == 1 else f"{node_id} · {i}")
            pad = -len(units) % columns
            images += [None] * pad
            titles += [""] * pad
        what = f"<b>{node_ids[0]}</b>: each unit's" if len(node_ids) == 1 else "Hidden units: each one's"
        self.unit_title.setText(
            f"{what} output over the same plane<br><span style='color:gray'>blue positive, orange negative, "
            "grey zero · hover or select a node for its units</span>"
        )
        self.unit_grid.set_cells(images, titles, columns, max_cell=150)


class FitPanel:
    """1-D inputs: the network's output as a curve through the training points, and the units of a node."""

    def __init__(self, view: RegionsView) -> None:
        self.view = view
        self.graphics = graphics_layout(view)
        self.plot = self.graphics.addPlot(row=0, col=0)
        self.units_plot = self.graphics.addPlot(row=1, col=0)
        self.units_plot.setXLink(self.plot)
        style_plot(self.plot, view, " ", "output", "x")
        style_plot(self.units_plot, view, " ", "unit output", "x")
        self.points = self.plot.plot(pen=None, symbol="o", symbolSize=5, symbolBrush=pg.mkBrush(*BLUE, 160))
        self.curve = self.plot.plot(pen=pg.mkPen("#e5322d", width=3))
        self.unit_curves: list[pg.PlotDataItem] = []

    def render(self, state: LiveState, regions: dict[str, Any]) -> None:
        maps, grid = regions["maps"], regions["grid"]
        xs = np.linspace(grid["x"][0], grid["x"][1], int(grid["size"]))
        order = state.ordered(maps)
        output_id = regions.get("prediction") if regions.get("prediction") in maps else order[-1]
        out = np.asarray(maps[output_id], dtype=float)
        p = class_probability(out) if state.task() == "classification" else None
        self.curve.setData(xs, out[0] if p is None else p)
        points = (state.probe or {}).get("points") or {}
        if "x" in points and "y" in points:
            self.points.setData(np.asarray(points["x"], float)[:, 0], np.asarray(points["y"], float))
        color = text_color(self.view)
        what = "P(class 1)" if p is not None else "output"
        self.plot.setTitle(
            f"Network {what} ({output_id}, red) and training points at step {state.probe.get('step', '?')}",
            color=color,
            size="9pt",
        )
        hidden = [n for n in order if n != output_id]
        acts = [n for n in hidden if state.categories.get(n.split(".", 1)[0]) == "activation"]
        node_id = self.view.focus_node(acts + [n for n in hidden if n not in acts] or [output_id])
        self.view.shown_node, self.view.shown_nodes = node_id, [node_id]
        units = np.asarray(maps[node_id], dtype=float)[:MAX_UNITS]
        while len(self.unit_curves) < len(units):
            pen = pg.mkPen(CATEGORICAL[len(self.unit_curves) % len(CATEGORICAL)], width=2)
            self.unit_curves.append(self.units_plot.plot(pen=pen))
        for i, curve in enumerate(self.unit_curves):
            if i < len(units):
                curve.setData(xs, units[i])
            else:
                curve.setData([], [])
        self.units_plot.setTitle(f"Units of {node_id} (hover or select a node)", color=color, size="9pt")
