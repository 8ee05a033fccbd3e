"""Receptive fields: click a unit of a feature map, see the input region that can influence it.

The outline is the theoretical field, from the kernels, strides, paddings and dilations before the
node (:mod:`graphedit.compiler.receptive`); the heat map beside it is the effective field, the size of
the unit's gradient with respect to each input pixel on this example (most of the theoretical field
barely counts: Luo et al., 2016). The Summary lists each conv node's field size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from graphedit.ui.inside.page import EVAL_NOTE, InsidePage
from graphedit.ui.inside.plots import ImageCell, make_layout, picture_of
from graphedit.ui.live.base import grey_lut, named_lut
from graphedit.ui.live.page import BAD

if TYPE_CHECKING:
    from graphedit.ui.inside.dock import InsideDock


class ReceptivePage(InsidePage):
    def __init__(self, dock: InsideDock, parent: QWidget | None = None) -> None:
        super().__init__(dock, parent)
        self.node = QComboBox()
        self.node.setToolTip("The node whose units you click")
        self.node.currentIndexChanged.connect(lambda _: self.draw())
        self.example = QSpinBox()
        self.example.valueChanged.connect(lambda _: self.draw())
        self.about = QLabel()
        self.about.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Node"))
        bar.addWidget(self.node)
        bar.addWidget(QLabel("Example"))
        bar.addWidget(self.example)
        bar.addWidget(self.about, 1)
        self.grid = make_layout(self)
        self.features = ImageCell(self.grid, 0, 0, named_lut("viridis"))
        self.input = ImageCell(self.grid, 0, 1, grey_lut())
        self.effective = ImageCell(self.grid, 0, 2, named_lut("inferno"))
        self.outline = QRectF()
        self.boxes = [pg.QtWidgets.QGraphicsRectItem() for _ in range(2)]
        for box, cell in zip(self.boxes, (self.input, self.effective)):
            box.setPen(pg.mkPen(BAD, width=2))
            cell.view.addItem(box)
        self.marker = pg.QtWidgets.QGraphicsRectItem()
        self.marker.setPen(pg.mkPen(BAD, width=2))
        self.features.view.addItem(self.marker)
        self.grid.scene().sigMouseClicked.connect(self._clicked)
        self.foot = QLabel()
        self.foot.setWordWrap(True)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(6, 2, 6, 4)
        layout.addLayout(bar)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.foot)
        self.unit = (0, 0)
        self.value: torch.Tensor | None = None

    def applies(self, seen: Any) -> tuple[bool, str]:
        if seen is None:
            return False, "the model is not open"
        if not seen.is_image():
            return False, f"the input is {list(seen.x.shape[1:])}, not an image [C, H, W]"
        if not self._nodes(seen):
            return False, "the graph has no convolution or pooling node with a feature map"
        return True, ""

    def _nodes(self, seen: Any) -> list[str]:
        from graphedit.compiler.receptive import conv_fields

        return [n for n in conv_fields(seen.document) if seen.document.node_type(n).type_id.endswith("2d")]

    def show_model(self, seen: Any) -> None:
        if seen is not None and seen is not self.seen and self.applies(seen)[0]:
            nodes = self._nodes(seen)
            self.node.blockSignals(True)
            self.node.clear()
            self.node.addItems(nodes)
            self.node.setCurrentIndex(len(nodes) - 1)
            self.node.blockSignals(False)
            self.example.blockSignals(True)
            self.example.setRange(0, len(seen.x) - 1)
            self.example.blockSignals(False)
        super().show_model(seen)

    def draw(self) -> None:
        if self.seen is None or not self.node.currentText():
            return
        from graphedit.compiler.receptive import receptive_fields

        node_id = self.node.currentText()
        self.field = receptive_fields(self.seen.document)[node_id]
        self.about.setText(f"{node_id}: each unit sees {self.field.text()} input pixels. Click a unit.")
        with torch.no_grad():
            self.value = self._taps(self.seen.x[self.example.value()][None])[node_id][0]
        height, width = self.value.shape[-2:]
        self.unit = (min(self.unit[0], height - 1), min(self.unit[1], width - 1))
        self.features.show(f"{node_id} (channels averaged)", self.value.mean(0).numpy())
        self.select(*self.unit)

    def _taps(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        compiled = self.seen.compiled
        feed = {compiled.input_ids[0]: x, **{t: torch.zeros(len(x), dtype=torch.long) for t in compiled.target_ids}}
        modes = compiled.taps.training
        compiled.taps.eval()
        try:
            return compiled.taps(**feed)
        finally:
            compiled.taps.train(modes)

    def select(self, row: int, col: int) -> None:
        """Outline the field of unit (row, col) and draw its effective field."""
        self.unit = (row, col)
        x = self.seen.x[self.example.value()][None].clone().requires_grad_()
        with torch.enable_grad():
            out = self._taps(x)[self.node.currentText()]
            (grad,) = torch.autograd.grad(out[0, :, row, col].sum(), x)
        self.gradient = grad[0].abs().sum(0)
        top, bottom = self.field.region(row)
        left, right = self.field.region(col)
        height, width = x.shape[-2:]
        self.outline = QRectF(
            max(0.0, left), max(0.0, top), min(width, right) - max(0.0, left), min(height, bottom) - max(0.0, top)
        )
        self.input.show("input, with the theoretical field", picture_of(x[0].detach()))
        self.effective.show("effective field: |∂unit/∂pixel|", self.gradient.numpy())
        for box in self.boxes:
            box.setRect(self.outline)
        self.marker.setRect(QRectF(col, row, 1, 1))
        box = self.outline
        span = f"rows {box.top():g}–{box.bottom():g}, columns {box.left():g}–{box.right():g}"
        self.foot.setText(f"Unit ({row}, {col}) of {self.node.currentText()}: its field covers {span}. {EVAL_NOTE}")

    def _clicked(self, event: Any) -> None:
        if self.value is None or not self.showing_body():
            return
        point = self.features.view.mapSceneToView(event.scenePos())
        row, col = int(np.floor(point.y())), int(np.floor(point.x()))
        height, width = self.value.shape[-2:]
        if 0 <= row < height and 0 <= col < width:
            self.select(row, col)
