"""The lesson panel beside the canvas: an opened lesson's title, what to watch, and what to try next.

The gallery's cards say what each example teaches; once one is open, this panel keeps it in view while
the user works: the lesson and its title, what to watch (the example's ``meta.watch``), a button that
shows the live view that makes its point, and what to try next: the example's ``meta.try`` where it has
one, and the next lesson with a button that opens it. For a project that is not a lesson it points to
the gallery.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QDockWidget, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from graphedit.ui.examples_catalog import PROJECTS_DIR, Example, list_examples, read_example
from graphedit.ui.gallery import VIEW_TITLES, open_in_window, show_gallery

if TYPE_CHECKING:
    from graphedit.ui.main_window import MainWindow


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    font = QFont(label.font())
    font.setBold(True)
    label.setFont(font)
    return label


def _text() -> QLabel:
    label = QLabel(wordWrap=True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    return label


class LessonDock(QDockWidget):
    """Follows the window's project: a lesson shows itself, anything else points to the gallery."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__("Lesson", window)
        self.setObjectName("lesson")
        self.window_ = window
        self.example: Example | None = None
        self.next_example: Example | None = None
        self.badge = QLabel()
        self.badge.setStyleSheet("color: palette(placeholder-text);")
        self.title = QLabel(wordWrap=True)
        font = QFont(self.title.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.title.setFont(font)
        self.watch_title = _heading("What to watch")
        self.watch = _text()
        self.show_view = QPushButton()
        self.show_view.clicked.connect(lambda _c=False: self._show_live_view())
        self.try_title = _heading("Try next")
        self.try_text = _text()
        self.next_button = QPushButton()
        self.next_button.clicked.connect(lambda _c=False: self.open_next())
        self.about_title = _heading("About")
        self.about = _text()
        self.gallery_button = QPushButton("Open the lessons gallery…")
        self.gallery_button.clicked.connect(lambda _c=False: show_gallery(window))
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(6)
        for widget in (self.badge, self.title, self.watch_title, self.watch, self.show_view):
            layout.addWidget(widget)
        layout.addSpacing(6)
        for widget in (self.try_title, self.try_text, self.next_button):
            layout.addWidget(widget)
        layout.addSpacing(6)
        for widget in (self.about_title, self.about, self.gallery_button):
            layout.addWidget(widget)
        layout.addStretch(1)
        for button in (self.show_view, self.next_button, self.gallery_button):
            layout.setAlignment(button, Qt.AlignmentFlag.AlignLeft)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        self.setWidget(scroll)
        window.files.loaded.connect(self.refresh)
        self.refresh()

    # ------------------------------------------------------------- public
    def refresh(self) -> None:
        name = getattr(self.window_.files, "example_name", None)
        path = PROJECTS_DIR / f"{name}.gproj" if name else None
        self.example = read_example(path) if path is not None and path.exists() else None
        self.next_example = self._following(self.example)
        self._fill()
        if self.example is not None:  # a lesson just opened: what to watch comes to the front
            self.show()
            self.raise_()

    def open_next(self) -> bool:
        return self.next_example is not None and open_in_window(self.window_, self.next_example.path)

    # ------------------------------------------------------------ helpers
    def _following(self, example: Example | None) -> Example | None:
        if example is None:
            return None
        lessons = [e for e in list_examples() if e.lesson is not None]
        at = next((i for i, e in enumerate(lessons) if e.path.stem == example.path.stem), None)
        if at is None:  # a copy listed under another name (keras_cnn is lesson 6): go by the lesson number
            at = next((i for i, e in enumerate(lessons) if (e.lesson, e.variant) == (example.lesson, "")), None)
        return lessons[at + 1] if at is not None and at + 1 < len(lessons) else None

    def _fill(self) -> None:
        e = self.example
        lesson = e is not None
        for widget in (self.watch_title, self.watch, self.try_title, self.try_text, self.about_title, self.about):
            widget.setVisible(lesson)
        if e is None:
            self.badge.setText("No lesson open")
            self.title.setText("Learn by example")
            self.try_text.clear()
            self.show_view.hide()
            self.next_button.hide()
            self.about.setText("")
            self.gallery_button.setText("Open the lessons gallery…")
            return
        self.badge.setText(e.label)
        self.title.setText(e.title)
        self.watch.setText(e.watch or "Train it (F5) and follow the Live panel.")
        view = VIEW_TITLES.get(e.live_view or "", "")
        self.show_view.setText(f"Show the {view}")
        self.show_view.setVisible(bool(view))
        tried = self._try_text(e)
        self.try_text.setText(tried)
        following = self.next_example
        self.next_button.setText(f"Open {following.label.lower()} →" if following else "")
        self.next_button.setToolTip(f"{following.label}: {following.title}" if following else "")
        self.next_button.setVisible(following is not None)
        self.about.setText(e.description)
        self.gallery_button.setText("All lessons…")

    def _try_text(self, e: Example) -> str:
        extra = ""
        try:
            meta = json.loads(e.path.read_text(encoding="utf-8")).get("meta") or {}
            extra = str(meta.get("try") or "") if isinstance(meta, dict) else ""
        except (OSError, ValueError):
            pass
        if extra:
            return extra
        if self.next_example is not None:
            return (
                "Change one thing and train again (F5): the learning rate, a layer's size, an activation. "
                f"Then go on to {self.next_example.label.lower()}, {self.next_example.title}."
            )
        return "Change one thing and train again (F5): the learning rate, a layer's size, an activation."

    def _show_live_view(self) -> None:
        live = self.window_.live
        name = self.example.live_view if self.example is not None else None
        if name in live.views():
            live.show_view(name)
            live.show()
            live.raise_()
