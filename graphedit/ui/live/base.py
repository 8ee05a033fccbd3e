"""What every plotting live view shares: pyqtgraph's settings, plot styling, the legend and colour maps.

Imported only when a plot is made (the views' page class and colours are in :mod:`graphedit.ui.live.page`, which
the live views dock needs before any view is made).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QGraphicsItem, QLabel, QWidget

from graphedit.ui.live.page import BLUE, NEUTRAL, ORANGE

pg.setConfigOptions(antialias=True, imageAxisOrder="row-major")


def diverging_lut(n: int = 256) -> np.ndarray:
    """Orange (low) → grey (middle) → blue (high), as uint8 RGB rows."""
    cmap = pg.ColorMap([0.0, 0.5, 1.0], [ORANGE, NEUTRAL, BLUE])
    return cmap.getLookupTable(0.0, 1.0, n, alpha=False)


def grey_lut(n: int = 256) -> np.ndarray:
    ramp = np.linspace(0, 255, n).astype(np.uint8)
    return np.stack([ramp, ramp, ramp], 1)


def named_lut(name: str, n: int = 256) -> np.ndarray:
    return pg.colormap.get(name).getLookupTable(0.0, 1.0, n, alpha=False)


def layer_color(i: int, n: int) -> QColor:
    """Early layers dark purple, late layers yellow (viridis), so depth reads as colour."""
    rgb = pg.colormap.get("viridis").map(0.1 + 0.85 * i / max(1, n - 1), mode="byte")
    return QColor(int(rgb[0]), int(rgb[1]), int(rgb[2]))


def style_plot(item: pg.PlotItem, widget: QWidget, title: str = "", left: str = "", bottom: str = "") -> None:
    """Axis labels and colours from the widget's palette, so plots read in light and dark themes."""
    text = widget.palette().color(QPalette.ColorRole.WindowText)
    if title:
        item.setTitle(title, color=text.name(), size="9pt")
    for side, label in (("left", left), ("bottom", bottom)):
        axis = item.getAxis(side)
        axis.setTextPen(text)
        axis.setPen(pg.mkPen(text.darker(140) if text.lightness() > 128 else text.lighter(260)))
        if label:
            axis.setLabel(label, color=text.name())
        # "loss (x0.001)" reads as a different quantity; and pyqtgraph still rescales the ticks of an axis without
        # units whose values lie in (0, 1) when the prefix is only disabled: no range may have one
        axis.setSIPrefixEnableRanges(((0.0, 0.0),))
        axis.enableAutoSIPrefix(False)
        # an axis draws its grid over the whole plot: kept as a picture until its range or ticks change, a curve's
        # redraw no longer repaints every tick label and grid line on the editor's thread
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        # two levels of ticks and grid lines, not three: a moved axis draws its grid again over the whole plot, and the
        # third, finest level was half of that (measured by redrawing the curves view's axes: 5.0 → 2.5 ms)
        axis.setStyle(maxTickLevel=1)
    item.showGrid(x=True, y=True, alpha=0.15)


class Legend(QLabel):
    """A legend as a line of text above a plot, so it never hides a curve: a glyph in each curve's colour and
    dash pattern, then its name. Mirrors pyqtgraph's ``addItem``/``removeItem``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: list[tuple[Any, str]] = []
        self.setWordWrap(True)
        self.setContentsMargins(8, 2, 8, 0)

    def addItem(self, item: Any, name: str) -> None:  # noqa: N802 - pyqtgraph's name
        self.entries.append((item, name))
        self.refresh()

    def removeItem(self, item: Any) -> None:  # noqa: N802
        self.entries = [(i, n) for i, n in self.entries if i is not item]
        self.refresh()

    def refresh(self) -> None:
        """Draw the entries again (a curve's pen or marker changed)."""
        parts = []
        for item, name in self.entries:
            pen = pg.mkPen(item.opts.get("pen"))
            line = {Qt.PenStyle.DashLine: "╍", Qt.PenStyle.DotLine: "┅"}.get(pen.style(), "━")
            mark = {"o": "●", "s": "■"}.get(item.opts.get("symbol"), line)
            color = pen.color()
            color.setAlpha(255)
            parts.append(f"<span style='color:{color.name()}'>{line}{mark}{line}</span>&nbsp;{name}")
        self.setText("&nbsp;&nbsp;&nbsp; ".join(parts))


def graphics_layout(widget: QWidget) -> pg.GraphicsLayoutWidget:
    view = pg.GraphicsLayoutWidget()
    view.setBackground(widget.palette().color(QPalette.ColorRole.Base))
    view.ci.layout.setContentsMargins(4, 4, 4, 4)
    view.ci.layout.setSpacing(6)
    view.setMinimumSize(120, 80)  # not the scene's minimum: in a scroll area that would widen the page past the dock
    return view
