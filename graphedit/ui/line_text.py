"""LineText: one line of text that changes often while a run trains (a step count, the time left).

A QLabel whose text changes asks its layout for room again, and a layout that was asked lays out its parents in
turn, up to the window: a label in a dock or a toolbar, set with every step read, laid the whole editor out again
many times a second (measured: a millisecond and more of the editor's thread per frame of a run). LineText keeps
the size it was given and repaints only itself; text that does not fit ends in "…".
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget


class LineText(QWidget):
    def __init__(self, width: int = 120, align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft) -> None:
        super().__init__()
        self._text = ""
        self._color: QColor | None = None
        self._width = width
        self.align = align | Qt.AlignmentFlag.AlignVCenter
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def text(self) -> str:
        return self._text

    def setText(self, text: str, color: str | None = None) -> None:  # noqa: N802 - QLabel's name
        new_color = QColor(color) if color else None
        if text == self._text and new_color == self._color:
            return
        self._text, self._color = text, new_color
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(self._width, self.fontMetrics().height() + 6)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(40, self.sizeHint().height())

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(self._text, Qt.TextElideMode.ElideRight, rect.width())
        painter = QPainter(self)
        painter.setPen(self._color or self.palette().windowText().color())
        painter.drawText(rect, int(self.align), shown)
