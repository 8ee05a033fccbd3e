"""Colours, fonts and sizes of the canvas, in one place."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QColor, QFont

from graphedit.model.geometry import HEADER_H, NODE_WIDTH, ROW_H  # noqa: F401  (the card's sizes: one place)

GRID = 20.0
PORT_R = 5.5
RADIUS = 7.0

BACKGROUND = QColor("#1d2025")
DOT = QColor("#3b4048")
BODY = QColor("#2a2e35")
BODY_MUTED = QColor("#24262a")
BORDER = QColor("#121418")
SELECTED = QColor("#f5a524")
ERROR = QColor("#e5484d")
TEXT = QColor("#e8eaed")
TEXT_DIM = QColor("#9aa3ad")
WIRE = QColor("#8b93a0")
WIRE_BLOCKED = QColor("#5c626b")
LABEL_BG = QColor("#30353d")
FIT = QColor("#4cd07d")
REFUSE = QColor("#e5484d")

FAMILY = {
    "data": "#3f8f57",
    "dense": "#3b6fb6",
    "convolution": "#7c52b3",
    "activation": "#c47a2a",
    "normalization": "#2a8a8f",
    "merge": "#a8507a",
    "sequence": "#6f8a2c",
    "generative": "#b0584a",
    "loss": "#99513a",
    "penalty": "#7a6a55",
    "metric": "#4f7ea6",
}


def family_color(category: str) -> QColor:
    return QColor(FAMILY.get(category, "#5b6573"))


@cache
def font(size: float = 9.0, bold: bool = False) -> QFont:
    f = QFont("DejaVu Sans")
    f.setPointSizeF(size)
    f.setBold(bold)
    return f


def snap(value: float, step: float = GRID) -> float:
    return round(value / step) * step
