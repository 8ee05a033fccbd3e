"""Node-type icons drawn in code: a rounded square in the family colour (the canvas's) with a short label.

Drawn rather than shipped as files so a third-party node pack gets an icon for
free and the icons follow the theme's font.
"""

from __future__ import annotations

import re
from functools import lru_cache

from PySide6.QtCore import QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QIconEngine, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QStyleOption

from graphedit.ui.canvas.style import family_color

FAMILY_TITLES = {
    "data": "Data",
    "dense": "Dense",
    "convolution": "Convolution & pooling",
    "activation": "Activations",
    "normalization": "Normalisation & regularisation",
    "merge": "Merge",
    "sequence": "Sequence",
    "generative": "Generative",
    "loss": "Losses",
    "penalty": "Penalties",
    "metric": "Metrics",
}


def family_title(category: str) -> str:
    return FAMILY_TITLES.get(category, category.replace("_", " ").capitalize())


def abbreviation(title: str) -> str:
    """``MaxPool2d`` → ``MP``, ``Conv2d`` → ``C2``, ``ReLU`` → ``R``: capitals first, then a digit."""
    capitals = re.findall(r"[A-Z]", title)
    digits = re.findall(r"\d", title)
    if len(capitals) >= 2 and not title.isupper() and title[:2] != "Re":
        return "".join(capitals[:2])
    if digits:
        return (title[:1] + digits[0]).upper()
    return title[:1].upper()


@lru_cache(maxsize=256)
def _pixmap(color: str, text: str, size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(color))
    rect = QRectF(1, 1, size - 2, size - 2)
    painter.drawRoundedRect(rect, size * 0.22, size * 0.22)
    font = QFont()
    font.setBold(True)
    font.setPixelSize(int(size * (0.55 if len(text) == 1 else 0.42)))
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return pixmap


class _DrawnIcon(QIconEngine):
    """An icon drawn at the size it is shown, when it is first shown: the palette's ~90 types cost nothing to list
    (drawing each at every size took a tenth of a second of the editor's start)."""

    def __init__(self, color: str, text: str) -> None:
        super().__init__()
        self.color, self.text = color, text

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        pixmap = _pixmap(self.color, self.text, max(1, min(size.width(), size.height())))
        if mode == QIcon.Mode.Disabled and QApplication.instance() is not None:  # greyed as Qt greys a drawn icon
            return QApplication.style().generatedIconPixmap(mode, pixmap, QStyleOption())
        return pixmap

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        painter.drawPixmap(rect, self.pixmap(rect.size() * painter.device().devicePixelRatio(), mode, state))

    def clone(self) -> QIconEngine:
        return _DrawnIcon(self.color, self.text)


def node_icon(category: str, title: str) -> QIcon:
    """The icon of a node type: family colour, short label from its title."""
    return QIcon(_DrawnIcon(family_color(category).name(), abbreviation(title)))


def family_icon(category: str) -> QIcon:
    icon = QIcon()
    for size in (16, 24, 32):
        icon.addPixmap(_pixmap(family_color(category).name(), "", size))
    return icon


def app_icon() -> QIcon:
    icon = QIcon()
    for size in (16, 32, 64, 128):
        icon.addPixmap(_pixmap(family_color("convolution").name(), "G", size))
    return icon
