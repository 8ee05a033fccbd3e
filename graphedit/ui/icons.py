"""Node-type icons drawn in code: a rounded square in the family colour (the canvas's) with a short label.

Drawn rather than shipped as files so a third-party node pack gets an icon for
free and the icons follow the theme's font.
"""

from __future__ import annotations

import re
from functools import lru_cache

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap

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


def node_icon(category: str, title: str) -> QIcon:
    """The icon of a node type: family colour, short label from its title."""
    icon = QIcon()
    for size in (16, 24, 32, 48):
        icon.addPixmap(_pixmap(family_color(category).name(), abbreviation(title), size))
    return icon


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
