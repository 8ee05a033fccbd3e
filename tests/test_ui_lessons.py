"""Lessons in front: graphedit with no file opens on the gallery with the Keras CNN behind it; a lesson
opened from the start page shows its title, what to watch and what to try next in the Lesson panel."""

from __future__ import annotations

import pytest
from _window_helpers import make_window, screenshot
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from graphedit.ui.examples_catalog import list_examples

pytestmark = pytest.mark.gui


def test_make_run_opens_the_editor_without_a_file():
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "$(BIN)/graphedit $(FILE)" in run and "FILE ?=\n" in makefile  # no file unless asked for


def test_a_lesson_opened_from_the_start_page_shows_in_the_lesson_panel(qtbot, tmp_path):
    from graphedit.ui.app import open_initial

    window = make_window(qtbot, tmp_path)
    window.resize(1280, 720)
    open_initial(window, None)
    qtbot.waitUntil(lambda: getattr(window, "start_page", None) is not None, timeout=2000)  # from the event loop
    page = window.start_page
    assert "conv1" in window.controller.document  # the Keras CNN behind the gallery
    qtbot.waitUntil(page.isVisible, timeout=2000)
    lenet = next(e for e in list_examples() if e.path.stem == "07_lenet")
    card = next(c for c in page.gallery.visible_cards() if c.example.path == lenet.path)
    page.gallery.scroll.ensureWidgetVisible(card)
    QTest.mouseClick(card.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.isVisible(), timeout=2000)

    lesson = window.lesson
    qtbot.waitUntil(lambda: not lesson.visibleRegion().isEmpty(), timeout=2000)
    assert lesson.title.text() == lenet.title and lesson.badge.text() == "Lesson 7"
    assert lesson.watch.text() == lenet.watch and lesson.watch.isVisible()
    assert lesson.try_text.isVisible() and lesson.try_text.text()
    following = lesson.next_example
    assert following is not None and following.path.stem == "07b_siamese_digits"  # the variant of lesson 7
    assert following.title in lesson.try_text.text()
    assert "lesson 7b" in lesson.next_button.text() and following.title in lesson.next_button.toolTip()
    body = lesson.widget().widget()
    assert body.width() <= lesson.widget().viewport().width()  # nothing runs off the panel's right edge
    assert window.live.current_view() == lenet.live_view
    screenshot(window, "lesson_from_start_page.png")

    QTest.mouseClick(lesson.next_button, Qt.MouseButton.LeftButton)  # on to the next lesson
    qtbot.waitUntil(lambda: lesson.title.text() == following.title, timeout=3000)
    assert window.files.example_name == following.path.stem


def test_a_project_that_is_no_lesson_points_to_the_gallery(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    lesson = window.lesson
    assert lesson.example is None and not lesson.watch.isVisibleTo(lesson)
    assert lesson.gallery_button.isVisibleTo(lesson)
