"""The confusion matrix of each epoch (validation split): rows the true class, columns the predicted one.

Cells are coloured by the share of their row (how often a true class goes
where), and show the counts; a slider steps back through the epochs.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from graphedit.ui.live.base import graphics_layout, named_lut, style_plot
from graphedit.ui.live.page import LiveView
from graphedit.ui.live.state import LiveState

MAX_LABELLED = 20  # classes up to which each cell shows its count


class ConfusionView(LiveView):
    min_height = 340

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = QLabel()
        self.header.setWordWrap(True)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setMinimum(0)
        self.slider.setToolTip("Epoch to show (the latest follows training)")
        self.slider.valueChanged.connect(self._slider_moved)
        self.follow = True
        top = QHBoxLayout()
        top.setContentsMargins(6, 4, 6, 0)
        top.addWidget(self.header, 1)
        top.addWidget(QLabel("Epoch"))
        top.addWidget(self.slider, 1)
        self.graphics = graphics_layout(self)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.graphics, 1)
        self.plot = self.graphics.addPlot()
        style_plot(self.plot, self, "", "true class", "predicted class")
        self.plot.showGrid(x=False, y=False)
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)
        self.plot.setMouseEnabled(x=False, y=False)
        self.image = pg.ImageItem()
        self.image.setLookupTable(named_lut("CET-L12"))  # white → blue
        self.plot.addItem(self.image)
        self.texts: list[pg.TextItem] = []
        self.state: LiveState | None = None
        self.show_note("The confusion matrix appears after the first epoch of a classification run.")

    def applies(self, state: LiveState) -> bool:
        return state.info is None or state.task() == "classification"

    def _slider_moved(self, value: int) -> None:
        if self.state is not None:
            self.follow = value == self.slider.maximum()
            self._draw(self.state, value)

    def render(self, state: LiveState) -> None:
        self.state = state
        if not state.confusions:
            self.show_note("The confusion matrix appears after the first epoch of a classification run.")
            return
        self.show_body()
        last = len(state.confusions) - 1
        self.slider.blockSignals(True)
        self.slider.setMaximum(last)
        if self.follow:
            self.slider.setValue(last)
        self.slider.blockSignals(False)
        self._draw(state, self.slider.value())

    def _draw(self, state: LiveState, index: int) -> None:
        entry = state.confusions[min(index, len(state.confusions) - 1)]
        matrix = np.asarray(entry["matrix"], dtype=float)
        k = len(matrix)
        names = entry.get("class_names") or state.class_names() or [str(i) for i in range(k)]
        share = matrix / np.maximum(matrix.sum(1, keepdims=True), 1.0)
        self.image.setImage(share, levels=(0.0, 1.0))
        self.image.setRect(QRectF(-0.5, -0.5, k, k))
        ticks = [[(i, str(names[i])) for i in range(k)]]
        self.plot.getAxis("bottom").setTicks(ticks)
        self.plot.getAxis("left").setTicks(ticks)
        self.plot.setRange(xRange=(-0.5, k - 0.5), yRange=(-0.5, k - 0.5), padding=0.02)
        total = matrix.sum()
        accuracy = np.trace(matrix) / total if total else 0.0
        self.header.setText(
            f"Epoch {entry.get('epoch', index + 1)}: accuracy {accuracy:.1%} on {int(total)} samples "
            "(colour: share of the true class's row)"
        )
        self._label_cells(matrix, share)

    def _label_cells(self, matrix: np.ndarray, share: np.ndarray) -> None:
        k = len(matrix)
        wanted = k * k if k <= MAX_LABELLED else 0
        while len(self.texts) > wanted:
            self.plot.removeItem(self.texts.pop())
        while len(self.texts) < wanted:
            item = pg.TextItem(anchor=(0.5, 0.5))
            self.plot.addItem(item)
            self.texts.append(item)
        for idx, item in enumerate(self.texts):
            i, j = divmod(idx, k)
            count = int(matrix[i, j])
            item.setText(str(count) if count else "")
            item.setColor("#ffffff" if share[i, j] > 0.55 else "#1d2025")  # on the light or the deep blue
            item.setPos(j, i)
