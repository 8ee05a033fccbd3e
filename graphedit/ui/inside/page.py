"""What every page of the Inside dock shares: a body, or a note saying why it does not apply."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedLayout, QWidget

if TYPE_CHECKING:
    from graphedit.ui.inside.dock import InsideDock


EVAL_NOTE = "Evaluation mode: BatchNorm uses its running statistics and Dropout passes everything."


class InsidePage(QWidget):
    """One page: ``show_model(seen)`` draws it for an :class:`~graphedit.training.inspection.Inspection`."""

    name = ""  # name and title: from the dock's table of views (graphedit/ui/view_table.py), set when made
    title = ""

    def __init__(self, dock: InsideDock, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dock = dock
        self.seen: Any = None
        self._stack = QStackedLayout(self)
        self.note = QLabel()
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setWordWrap(True)
        self.note.setMargin(24)
        self.note.setStyleSheet("color: palette(placeholder-text);")
        self.body = QWidget()
        self._stack.addWidget(self.note)
        self._stack.addWidget(self.body)

    def show_note(self, text: str) -> None:
        self.note.setText(text)
        self._stack.setCurrentWidget(self.note)

    def show_body(self) -> None:
        self._stack.setCurrentWidget(self.body)

    def showing_body(self) -> bool:
        return self._stack.currentWidget() is self.body

    def applies(self, seen: Any) -> tuple[bool, str]:
        """Whether the page can show this model, and why not."""
        return True, ""

    def show_model(self, seen: Any) -> None:
        """Draw the page for a (re)loaded model; the base checks :meth:`applies`."""
        self.seen = seen
        ok, reason = self.applies(seen)
        if not ok:
            self.show_note(f"{self.title} does not apply here: {reason}.")
            return
        self.show_body()
        self.draw()

    def draw(self) -> None:  # pragma: no cover - every page overrides it
        raise NotImplementedError

    def left(self) -> None:
        """The page was hidden (another page or tab): stop what shows on the canvas."""
