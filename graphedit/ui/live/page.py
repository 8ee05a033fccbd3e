"""What every live view shares without plotting: the page class, the colours and the number and image helpers.

The live views dock lists its views and shows this page's class before any view is made, so nothing here imports
pyqtgraph (the plotting helpers are in :mod:`graphedit.ui.live.base`). Colours follow TensorFlow Playground, which the
notes use for decision regions: orange for negative / class 0, blue for positive / class 1, a light grey between.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QStackedLayout, QWidget

from graphedit.ui.live.state import LiveState

ORANGE = (245, 147, 34)
BLUE = (8, 119, 189)
NEUTRAL = (232, 234, 235)
TRAIN = "#4c8bf5"
VAL = "#f5a623"
GOOD = "#3fb950"
BAD = "#f85149"
# distinct colours for classes beyond two and for lines of several layers
CATEGORICAL = [
    (8, 119, 189),
    (245, 147, 34),
    (63, 185, 80),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
]


def fmt(value: float) -> str:
    """A compact number for labels: 0.0123, 1.2e-05, 345."""
    if value == 0 or not np.isfinite(value):
        return f"{value:g}"
    return f"{value:.3g}" if 1e-3 <= abs(value) < 1e4 else f"{value:.2e}"


def small_font(points: int = 7) -> QFont:
    font = QFont()
    font.setPointSize(points)
    return font


def text_color(widget: QWidget) -> str:
    return widget.palette().color(QPalette.ColorRole.WindowText).name()


class LiveView(QWidget):
    """One page of the live views dock: a body, or a message saying why there is nothing to show yet."""

    name = ""  # name and title: from the dock's table of views (graphedit/ui/view_table.py), set when made
    title = ""
    min_height = 300  # below this the body scrolls instead of squeezing its plots flat (a low bottom dock)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._stack = QStackedLayout(self)
        self.note = QLabel(self)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setWordWrap(True)
        self.note.setMargin(24)
        self.note.setStyleSheet("color: palette(placeholder-text);")
        self.body = QWidget()
        self.body.setMinimumHeight(self.min_height)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.body)
        self._stack.addWidget(self.note)
        self._stack.addWidget(self.scroll)
        self.rendered: Hashable = None  # what the view was last drawn from (see drawn_from); None: draw again
        self.selection: list[str] = []
        self.hover: str | None = None

    def show_note(self, text: str) -> None:
        self.note.setText(text)
        self._stack.setCurrentWidget(self.note)

    def show_body(self) -> None:
        self._stack.setCurrentWidget(self.scroll)

    def showing_body(self) -> bool:
        return self._stack.currentWidget() is self.scroll

    def applies(self, state: LiveState) -> bool:
        """Whether this view has anything to show for the run's dataset (before data arrives)."""
        return True

    def render(self, state: LiveState) -> list[Callable[[], None]] | None:  # pragma: no cover - each overrides it
        """Draw ``state``; a view whose drawing is long may return the rest of it in parts, which the dock runs in
        later turns of the editor's event loop (each part repaints its own plots, and input is read between them)."""
        raise NotImplementedError

    def draw(self, state: LiveState) -> None:
        """Draw ``state`` now, every part."""
        for part in self.render(state) or ():
            part()

    def drawn_from(self, state: LiveState) -> Hashable:
        """What this view's picture is drawn from: the dock draws it again only when this changes. Any event by
        default; a view of the probes says so, and the steps between two probes cost it nothing."""
        return state.version

    def set_focus_nodes(self, selection: list[str], hover: str | None) -> bool:
        """Remember the canvas selection and hovered node; True if this view draws differently now."""
        changed = selection != self.selection or hover != self.hover
        self.selection, self.hover = list(selection), hover
        return changed and self.follows_selection()

    def follows_selection(self) -> bool:
        return False

    def focus_node(self, candidates: list[str]) -> str | None:
        """The hovered node if it is a candidate, else the first selected candidate, else the first candidate."""
        if self.hover in candidates:
            return self.hover
        for node_id in self.selection:
            if node_id in candidates:
                return node_id
        return candidates[0] if candidates else None


def as_image(array: Any) -> np.ndarray | None:
    """An image [H, W] or [H, W, 3] from [C, H, W], [H, W] or a flat square vector; None if it is no image."""
    a = np.asarray(array, dtype=np.float32)
    if a.ndim == 1:
        side = int(round(a.size**0.5))
        return a.reshape(side, side) if side * side == a.size and side > 1 else None
    if a.ndim == 2:
        return a
    if a.ndim == 3:
        if a.shape[0] == 1:
            return a[0]
        if a.shape[0] == 3:
            return np.transpose(a, (1, 2, 0))
        return a.mean(0)
    return None


def normalized(image: np.ndarray, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """Scale to [0, 1] between lo and hi (the image's own range by default)."""
    lo = float(np.nanmin(image)) if lo is None else lo
    hi = float(np.nanmax(image)) if hi is None else hi
    if not np.isfinite(lo) or not np.isfinite(hi) or hi - lo < 1e-12:
        return np.zeros_like(image)
    return np.clip((image - lo) / (hi - lo), 0.0, 1.0)
