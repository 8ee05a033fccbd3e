"""Checks shared by the "seeing inside" view tests: nothing squeezed below its minimum, axes labelled."""

from __future__ import annotations

from _window_helpers import settle
from PySide6.QtWidgets import QHeaderView, QScrollBar, QWidget

SKIPPED = (QHeaderView, QScrollBar)  # sized by their views, whatever their hint


def squeezed(root: QWidget) -> list[str]:
    """Visible widgets under ``root`` smaller than their minimum size hint (what would clip their content)."""
    settle()  # pending layout requests first: what the user sees once the event loop ran
    out = []
    for widget in [root, *root.findChildren(QWidget)]:
        internal = widget.objectName().startswith("qt_")  # parts of a Qt widget (a spin box's line edit)
        if (
            not widget.isVisible()
            or widget.isWindow()
            and widget is not root
            or isinstance(widget, SKIPPED)
            or internal
        ):
            continue
        hint = widget.minimumSizeHint()
        if not hint.isValid():
            continue
        if widget.width() < hint.width() or widget.height() < hint.height():
            name = widget.objectName() or type(widget).__name__
            text = getattr(widget, "text", lambda: "")()
            out.append(f"{name} '{text}' {widget.width()}x{widget.height()} < {hint.width()}x{hint.height()}")
    return out


def axis_labels(plot_item) -> tuple[str, str]:
    """The left and bottom axis labels of a pyqtgraph PlotItem."""
    return plot_item.getAxis("left").labelText, plot_item.getAxis("bottom").labelText
