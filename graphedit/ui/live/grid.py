"""A grid of small titled images, painted by hand: each title sits right above its image at any size.

Used for feature maps, filters, predictions, reconstructions and the per-unit
decision regions. Pixels stay sharp (nearest neighbour), as a student should
see the 8×8 digits and 3×3 filters the network sees.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

MARGIN = 8
GAP = 8


def to_rgb(image: np.ndarray, lut: np.ndarray | None = None) -> np.ndarray:
    """[H, W] in [0, 1] through a lookup table [256, 3], or [H, W, 3] in [0, 1], as uint8 RGB [H, W, 3]."""
    image = np.nan_to_num(np.asarray(image, dtype=np.float32))
    if image.ndim == 3:
        return (np.clip(image, 0, 1) * 255).astype(np.uint8)
    if lut is None:
        grey = (np.clip(image, 0, 1) * 255).astype(np.uint8)
        return np.stack([grey, grey, grey], -1)
    index = (np.clip(image, 0, 1) * (len(lut) - 1)).round().astype(np.intp)
    return np.ascontiguousarray(lut[index][..., :3], dtype=np.uint8)


class ImageGrid(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.images: list[QImage | None] = []
        self._arrays: list[np.ndarray | None] = []  # the QImages point into these
        self.titles: list[str] = []
        self.colors: list[str | None] = []
        self.columns = 1
        self.max_cell = 160

    @property
    def cells(self) -> list[QImage]:
        return [image for image in self.images if image is not None]

    def set_cells(
        self,
        images: list[np.ndarray | None],
        titles: list[str],
        columns: int,
        colors: list[str | None] | None = None,
        max_cell: int = 160,
    ) -> None:
        """``images`` as uint8 RGB [H, W, 3] (see :func:`to_rgb`), None for an empty cell (to end a row early);
        at most ``max_cell`` pixels wide each."""
        self._arrays = [None if a is None else np.ascontiguousarray(a, dtype=np.uint8) for a in images]
        self.images = [
            None if a is None else QImage(a.data, a.shape[1], a.shape[0], a.strides[0], QImage.Format.Format_RGB888)
            for a in self._arrays
        ]
        self.titles = list(titles) + [""] * (len(images) - len(titles))
        self.colors = list(colors) if colors else [None] * len(images)
        self.columns = max(1, min(columns, len(images) or 1))
        self.max_cell = max_cell
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(480, 320)

    def minimumSizeHint(self) -> QSize:
        return QSize(120, 100)  # cells shrink to fit; the page scrolls only when really low

    def _cell(self) -> tuple[float, float, float]:
        """Cell width, image height and title height for the widget's size."""
        n = len(self.images)
        rows = math.ceil(n / self.columns)
        title_h = self.fontMetrics().height() + 2
        ratio = max((img.height() / max(img.width(), 1) for img in self.cells), default=1.0)
        width = (self.width() - 2 * MARGIN - GAP * (self.columns - 1)) / self.columns
        height_room = (self.height() - 2 * MARGIN - GAP * (rows - 1)) / rows - title_h
        width = max(4.0, min(width, height_room / ratio, float(self.max_cell)))
        return width, width * ratio, title_h

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Base))
        if not self.cells:
            return
        width, height, title_h = self._cell()
        left = (self.width() - (self.columns * width + GAP * (self.columns - 1))) / 2
        text = self.palette().color(QPalette.ColorRole.Text)
        metrics = self.fontMetrics()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for i, image in enumerate(self.images):
            if image is None:
                continue
            row, col = divmod(i, self.columns)
            x = left + col * (width + GAP)
            y = MARGIN + row * (height + title_h + GAP)
            title = metrics.elidedText(self.titles[i], Qt.TextElideMode.ElideRight, int(width + GAP))
            painter.setPen(QColor(self.colors[i]) if self.colors[i] else text)
            painter.drawText(
                QRectF(x - GAP / 2, y, width + GAP, title_h),
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
                title,
            )
            # keep the image's own aspect inside the cell
            scale = min(width / image.width(), height / image.height())
            w, h = image.width() * scale, image.height() * scale
            target = QRectF(x + (width - w) / 2, y + title_h + (height - h) / 2, w, h)
            painter.drawImage(target, image)
            painter.setPen(QPen(QColor(128, 128, 128, 110), 1))
            painter.drawRect(target)
        painter.end()
