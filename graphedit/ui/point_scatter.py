"""A scatter of 2-D points coloured by class (or by target value): the dataset preview of 2-D data.

The colours are the TensorFlow Playground's (orange for class 0 or low values, blue for class 1 or high),
so the preview reads like the decision regions the Live panel draws later. It paints with QPainter: a
few thousand points need no plotting library.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

LOW, HIGH = QColor("#f59322"), QColor("#0877bd")
MORE = ("#2e7d32", "#8e24aa", "#c62828", "#6d4c41", "#00838f", "#9e9d24", "#5c6bc0", "#d81b60")
RADIUS = 3.0
MARGIN = 10.0


def _mix(t: float) -> QColor:
    return QColor.fromRgbF(*(LOW.getRgbF()[i] * (1 - t) + HIGH.getRgbF()[i] * t for i in range(3)))


class PointScatter(QWidget):
    """Points ``[M, 2]`` with one value each: whole numbers are classes, others a colour scale."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.points = np.zeros((0, 2), np.float32)
        self.colors: list[QColor] = []
        self.legend: list[tuple[str, QColor]] = []
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(320, 320)

    def set_points(self, points: Any, values: Any = None, class_names: list[str] | None = None) -> None:
        self.points = np.asarray(points, np.float32).reshape(-1, 2)
        values = np.zeros(len(self.points), np.float32) if values is None else np.asarray(values, np.float64)
        classes = bool(len(values)) and np.all(values == np.round(values)) and values.min() >= -1 and values.max() < 64
        if classes:
            kinds = sorted({int(v) for v in values})
            palette = {k: QColor(MORE[i % len(MORE)]) for i, k in enumerate(kinds)}
            if len(kinds) <= 2:  # two classes as in the Playground: low orange, high blue
                palette = {k: (LOW, HIGH)[i] for i, k in enumerate(kinds)}
            self.colors = [palette[int(v)] for v in values]
            names = class_names or []
            self.legend = [(names[k] if 0 <= k < len(names) else str(k), palette[k]) for k in kinds]
        else:
            lo, hi = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
            span = hi - lo or 1.0
            self.colors = [_mix((float(v) - lo) / span) for v in values]
            self.legend = [(f"{lo:.3g}", LOW), (f"{hi:.3g}", HIGH)]
        self.update()

    def paintEvent(self, event: Any) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), self.palette().base())
        if len(self.points):
            side = min(self.width(), self.height()) - 2 * MARGIN
            box = QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)
            painter.setPen(self.palette().mid().color())
            painter.drawRect(box)
            lo, hi = self.points.min(0), self.points.max(0)
            span = np.where(hi - lo > 0, hi - lo, 1.0)
            xy = (self.points - lo) / span
            painter.setPen(QColor(255, 255, 255, 200))
            for (x, y), color in zip(xy.tolist(), self.colors):
                painter.setBrush(color)
                painter.drawEllipse(QPointF(box.left() + x * side, box.bottom() - y * side), RADIUS, RADIUS)
            fm = self.fontMetrics()
            top = box.top() + 4
            for name, color in self.legend[:8]:
                painter.setBrush(color)
                painter.drawEllipse(QPointF(box.left() + 10, top + fm.height() / 2), RADIUS + 1, RADIUS + 1)
                painter.setPen(self.palette().text().color())
                painter.drawText(QPointF(box.left() + 18, top + fm.ascent()), name)
                painter.setPen(QColor(255, 255, 255, 200))
                top += fm.height() + 2
        painter.end()
