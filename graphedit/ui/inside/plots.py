"""Small plots the Inside pages share: a tensor drawn as an image or as bars, with labelled axes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtWidgets import QWidget

from graphedit.ui.live.base import diverging_lut, graphics_layout, style_plot
from graphedit.ui.live.page import BLUE, ORANGE, fmt

MAX_BARS = 64


def value_text(value: torch.Tensor) -> str:
    """One example's value for a badge: a number, a short vector, or its shape and mean."""
    v = value[0] if value.dim() > 0 and value.shape[0] == 1 else value
    v = v.detach().float()
    if v.numel() == 1:
        return fmt(float(v))
    if v.numel() <= 3:
        return "[" + ", ".join(fmt(float(x)) for x in v.flatten()) + "]"
    shape = "×".join(map(str, v.shape))
    return f"{shape} μ {fmt(float(v.mean()))}"


def as_picture(value: torch.Tensor) -> np.ndarray | None:
    """``[H, W]`` for one example's value with two or more spatial-like dimensions (channels averaged)."""
    v = value[0] if value.dim() > 0 and value.shape[0] == 1 else value
    v = v.detach().float()
    if v.dim() == 3:
        return v.mean(0).numpy()
    if v.dim() == 2 and min(v.shape) > 1:
        return v.numpy()
    return None


class TensorPlot:
    """One plot cell: a tensor as a diverging image (feature maps), or as bars (vectors, numbers)."""

    def __init__(self, layout: pg.GraphicsLayoutWidget, widget: QWidget, row: int, col: int) -> None:
        self.widget = widget
        self.plot: pg.PlotItem = layout.addPlot(row=row, col=col)
        self.plot.setMenuEnabled(False)
        self.image = pg.ImageItem()
        self.image.setLookupTable(diverging_lut())
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8)
        self.plot.addItem(self.image)
        self.plot.addItem(self.bars)

    def show(self, title: str, value: torch.Tensor | None, what: str = "value") -> None:
        self.plot.setTitle(title, size="9pt")
        picture = None if value is None else as_picture(value)
        if value is None:
            self.image.hide()
            self.bars.setOpts(x=[], height=[])
            style_plot(self.plot, self.widget, title, what, "unit")
            return
        if picture is not None:
            peak = float(np.abs(picture).max()) or 1.0
            self.image.setImage(picture, levels=(-peak, peak))
            self.image.show()
            self.bars.setOpts(x=[], height=[])
            self.plot.invertY(True)
            self.plot.setAspectLocked(True)
            style_plot(self.plot, self.widget, title, "row", "column")
        else:
            whole = value.detach().float().flatten()
            flat = whole[:MAX_BARS].numpy()
            if len(whole) > MAX_BARS:
                title += f" (first {MAX_BARS} of {len(whole)} units)"
                self.plot.setTitle(title, size="9pt")
            self.image.hide()
            brushes = [pg.mkBrush(*(BLUE if h >= 0 else ORANGE)) for h in flat]
            self.bars.setOpts(x=np.arange(len(flat)), height=flat, width=0.8, brushes=brushes)
            self.plot.invertY(False)
            self.plot.setAspectLocked(False)
            style_plot(self.plot, self.widget, title, what, "unit")
        self.plot.autoRange()
        if picture is None and value.numel() == 1:  # one bar: room either side, not a bar filling the plot
            self.plot.setXRange(-2, 2, padding=0)


def make_layout(widget: QWidget) -> pg.GraphicsLayoutWidget:
    return graphics_layout(widget)


def labels(plot: Any) -> tuple[str, str]:
    return plot.getAxis("left").labelText, plot.getAxis("bottom").labelText


class ImageCell:
    """A picture with a title above it, in a GraphicsLayoutWidget (no axes: pixels are the axes)."""

    def __init__(self, layout: pg.GraphicsLayoutWidget, row: int, col: int, lut: Any = None) -> None:
        self.title = layout.addLabel("", row=2 * row, col=col, size="8pt")
        self.view: pg.ViewBox = layout.addViewBox(row=2 * row + 1, col=col, lockAspect=True, invertY=True)
        self.view.setMouseEnabled(False, False)
        self.view.setMenuEnabled(False)
        self.image = pg.ImageItem()
        if lut is not None:
            self.image.setLookupTable(lut)
        self.view.addItem(self.image)

    def show(self, title: str, picture: np.ndarray | None, levels: tuple[float, float] | None = None) -> None:
        self.title.setText(title)
        if picture is None:
            self.image.clear()
            return
        self.image.setImage(picture, levels=levels if levels is not None else (picture.min(), picture.max()))
        self.view.autoRange(padding=0.02)


def picture_of(image: torch.Tensor) -> np.ndarray:
    """``[C, H, W]`` → what ImageItem draws: ``[H, W]`` (one channel) or ``[H, W, 3]``."""
    image = image.detach().float()
    if image.shape[0] == 3:
        return image.permute(1, 2, 0).numpy()
    return image.mean(0).numpy()
