"""The latent plane of a variational autoencoder (lesson 13): where the encoder puts each digit, what the decoder
makes of each point.

Left, the mean code μ of a few hundred validation examples, one dot each,
coloured by class: with a 2-D code the classes form clusters around the
origin, pulled together by the KL term. Right, the decoder's output at each
point of an 8×8 grid over the same plane (the dashed square on the left), as
one mosaic whose axes are the z values: walking across it morphs one digit
into the next. Fed by the probe's ``latent`` payload
(:class:`graphedit.training.probe_extras.Latent`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from graphedit.ui.live import grid
from graphedit.ui.live.base import graphics_layout, grey_lut, style_plot
from graphedit.ui.live.page import BLUE, CATEGORICAL, LiveView, normalized
from graphedit.ui.live.state import LiveState

NOTE = (
    "Press Run: the latent plot (μ of the validation examples) and samples decoded from a grid of z appear "
    "with the first probe. It needs a Reparameterize node with a 2-D code, as in lesson 13's VAE."
)
GAP = 1  # pixels between the decoded samples of the mosaic


def tick(value: float) -> str:
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def class_color(label: int) -> tuple[int, int, int]:
    return CATEGORICAL[int(label) % len(CATEGORICAL)]


def mosaic(samples: np.ndarray, lo: float, hi: float, background: tuple[int, int, int]) -> np.ndarray:
    """``samples`` [K, K, H, W] (row i: the i-th z₂ from below) as one RGB image [rows, columns, 3] whose row 0 is
    the bottom of the plane (pyqtgraph draws image rows upwards in a plot), each sample upright in its cell."""
    k_rows, k_cols, h, w = samples.shape[:4]
    out = np.empty((k_rows * (h + GAP) - GAP, k_cols * (w + GAP) - GAP, 3), dtype=np.uint8)
    out[:] = background
    lut = grey_lut()
    for i in range(k_rows):
        for j in range(k_cols):
            cell = grid.to_rgb(normalized(samples[i, j], lo, hi), None if samples.ndim == 5 else lut)
            top = i * (h + GAP)
            out[top : top + h, j * (w + GAP) : j * (w + GAP) + w] = np.flipud(cell)
    return out


class LatentView(LiveView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = QLabel()
        self.header.setWordWrap(True)
        self.header.setContentsMargins(8, 4, 8, 0)
        self.key = QLabel()  # the colour key of the classes
        self.key.setWordWrap(True)
        self.key.setContentsMargins(8, 0, 8, 0)
        self.graphics = graphics_layout(self)
        # its size hint (480 high) would make the wrapped header's height-for-width overflow a low dock
        self.graphics.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.header)
        layout.addWidget(self.key)
        layout.addWidget(self.graphics, 1)
        self.scatter_plot = self.graphics.addPlot(row=0, col=0)
        self.mosaic_plot = self.graphics.addPlot(row=0, col=1)
        style_plot(self.scatter_plot, self, "μ of the validation examples", "z₂", "z₁")
        style_plot(self.mosaic_plot, self, "Decoded from a grid of z", "z₂", "z₁")
        for plot in (self.scatter_plot, self.mosaic_plot):
            plot.setAspectLocked(True)
            plot.setMenuEnabled(False)
        self.mosaic_plot.showGrid(x=False, y=False)
        self.scatter = pg.ScatterPlotItem(size=6, pen=pg.mkPen(255, 255, 255, 90, width=0.5))
        self.scatter_plot.addItem(self.scatter)
        ink = self.palette().color(QPalette.ColorRole.WindowText)
        self.extent = pg.PlotCurveItem(pen=pg.mkPen(ink, width=1, style=Qt.PenStyle.DashLine))
        self.scatter_plot.addItem(self.extent)
        self.image = pg.ImageItem()
        self.mosaic_plot.addItem(self.image)
        self._brushes: dict[int, Any] = {}
        self.show_note(NOTE)

    def applies(self, state: LiveState) -> bool:
        if state.probe is not None:
            return "latent" in state.probe
        return state.info is None or not state.categories or "generative" in state.categories.values()

    def render(self, state: LiveState) -> None:
        probe = state.probe or {}
        block = probe.get("latent")
        if not block or "mu" not in block:
            if probe and "generative" in state.categories.values():
                self.show_note("The latent plot needs a 2-D code: give μ and log σ² 2 units each (lesson 13).")
            else:
                self.show_note(NOTE)
            return
        self.show_body()
        mu = np.asarray(block["mu"], dtype=float)
        labels = block.get("labels")
        names = state.class_names()
        self._render_scatter(mu, None if labels is None else np.asarray(labels, dtype=int), names)
        xs, ys = self._render_mosaic(block)
        if xs is not None:
            x0, x1, y0, y1 = xs[0], xs[-1], ys[0], ys[-1]
            self.extent.setData([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0])
        else:
            self.extent.setData([], [])
        node = block.get("node") or "Reparameterize"
        coloured = ", coloured by class" if labels is not None else ""
        right = (
            f"; right: the decoder's output at each z of the {len(xs)}×{len(ys)} grid inside the dashed square "
            "(drawn on the inputs' grey scale)"
            if xs is not None
            else ""
        )
        self.header.setText(
            f"Step {probe.get('step', '?')}: left, μ — the input of <b>{node}</b> — for {len(mu)} validation "
            f"examples{coloured}{right}."
        )

    def _render_scatter(self, mu: np.ndarray, labels: np.ndarray | None, names: list[str] | None) -> None:
        if labels is None or len(labels) != len(mu):
            self.scatter.setData(x=mu[:, 0], y=mu[:, 1], brush=pg.mkBrush(*BLUE, 200))
            self.key.setText("")
            self.key.hide()
            return
        brushes = [self._brush(int(c)) for c in labels]
        self.scatter.setData(x=mu[:, 0], y=mu[:, 1], brush=brushes)
        parts = []
        for c in np.unique(labels):
            name = names[c] if names and 0 <= c < len(names) else str(c)
            r, g, b = class_color(c)
            parts.append(f"<span style='color:rgb({r},{g},{b})'>●</span>&nbsp;{name}")
        self.key.setText("Classes: " + "&nbsp;&nbsp; ".join(parts))
        self.key.show()

    def _brush(self, label: int) -> Any:
        if label not in self._brushes:
            self._brushes[label] = pg.mkBrush(*class_color(label), 210)
        return self._brushes[label]

    def _render_mosaic(self, block: dict[str, Any]) -> tuple[np.ndarray | None, np.ndarray | None]:
        samples = block.get("samples")
        z = block.get("grid")
        self.mosaic_plot.setVisible(samples is not None)
        if samples is None or z is None:
            self.image.clear()
            return None, None
        samples = np.asarray(samples, dtype=np.float32)
        z = np.asarray(z, dtype=float)
        xs, ys = z[0, :, 0], z[:, 0, 1]
        lo, hi = block.get("pixel_range") or (float(samples.min()), float(samples.max()))
        base = self.palette().color(QPalette.ColorRole.Base)
        picture = mosaic(samples, lo, hi, (base.red(), base.green(), base.blue()))
        h, w = samples.shape[2:4]
        # drawn in pixels, so every sample stays square whatever the z ranges; the ticks name each cell's z
        rect = QRectF(0, 0, picture.shape[1], picture.shape[0])
        self.image.setImage(picture, levels=(0, 255))
        self.image.setRect(rect)
        self.mosaic_plot.setRange(rect, padding=0.02)
        self.mosaic_plot.getAxis("bottom").setTicks([[(j * (w + GAP) + w / 2, tick(v)) for j, v in enumerate(xs)]])
        self.mosaic_plot.getAxis("left").setTicks([[(i * (h + GAP) + h / 2, tick(v)) for i, v in enumerate(ys)]])
        return xs, ys
