"""Workspace layouts: Build, Train and Inspect from the toolbar, kept per user; at 1280×720 no visible widget is
smaller than its minimum size hint and no label is cut off; in Train the live views have half the window."""

from __future__ import annotations

import contextlib

import pytest
from _window_helpers import copy_example, make_window, screenshot, settle
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractScrollArea, QLabel, QScrollArea, QWidget

pytestmark = pytest.mark.gui
SIZES = ((1280, 720), (1920, 1080))


def click_workspace(qtbot, window, name: str) -> None:
    bar = window.workspaces.toolbar
    QTest.mouseClick(bar.widgetForAction(window.workspaces.actions[name]), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.workspaces.current == name, timeout=2000)
    settle()  # the docks settle in the event loop after a rearrangement


def in_scroll_area(widget: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea):  # its contents, scroll bars and headers
            return True
        parent = parent.parentWidget()
    return False


def cramped(window) -> list[str]:
    """Visible widgets smaller than their minimum size hint, and plain labels whose text does not fit."""
    found = []
    for area in window.findChildren(QScrollArea):  # a body wider than a scroll area that never scrolls sideways
        body, off = area.widget(), area.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        if area.isVisible() and off and body is not None and body.width() > area.viewport().width():
            found.append(f"{type(area.parentWidget()).__name__}: body {body.width()} > {area.viewport().width()}")
    for widget in window.findChildren(QWidget):
        if not widget.isVisible() or widget.isWindow() or in_scroll_area(widget):
            continue  # inside a scroll area, a widget may be larger than what shows: it scrolls
        if widget.objectName() == "qt_spinbox_lineedit":
            continue  # a spin box sizes its own line edit (always below its hint); the spin box itself is checked
        hint = widget.minimumSizeHint()
        name = f"{type(widget).__name__} {widget.objectName() or ''} {getattr(widget, 'text', lambda: '')()!r}"
        if hint.isValid() and (widget.width() < hint.width() or widget.height() < hint.height()):
            found.append(f"{name}: {widget.width()}×{widget.height()} < hint {hint.width()}×{hint.height()}")
        if isinstance(widget, QLabel) and widget.text() and not widget.wordWrap() and widget.pixmap().isNull():
            if widget.textFormat() == Qt.TextFormat.RichText or "<" in widget.text():
                needed = widget.sizeHint().width() - 2 * widget.margin()
            else:
                needed = widget.fontMetrics().horizontalAdvance(widget.text())
            if needed > widget.contentsRect().width() + 1:
                found.append(f"{name}: text needs {needed}px, has {widget.contentsRect().width()}px")
    return found


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.slow
def test_each_workspace_fits_the_window_and_train_gives_the_live_views_half(qtbot, tmp_path, size):
    window = make_window(qtbot, tmp_path)
    window.resize(*size)
    assert window.files.open(copy_example(tmp_path), ask=False)
    qtbot.waitUntil(lambda: window.size().width() == size[0], timeout=2000)
    for name in ("build", "train", "inspect"):
        click_workspace(qtbot, window, name)
        with contextlib.suppress(qtbot.TimeoutError):  # the event loop lays out the docks a workspace shows
            qtbot.waitUntil(lambda: cramped(window) == [], timeout=3000)
        problems = cramped(window)
        assert problems == [], (name, problems)
        screenshot(window, f"workspace_{name}_{size[0]}x{size[1]}.png")
        if name == "train":
            live = window.live.geometry()
            assert live.width() * live.height() >= 0.5 * window.width() * window.height()
            assert not window.palette.isVisible() and window.training.settings_dock.isVisible()


def test_train_live_views_grow_with_the_window(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    window.resize(1280, 720)
    click_workspace(qtbot, window, "train")
    small = window.live.height()
    window.resize(1600, 1000)
    qtbot.waitUntil(lambda: window.live.height() > small + 150, timeout=2000)


def test_the_workspace_and_its_arrangement_are_kept_per_user(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    click_workspace(qtbot, window, "inspect")
    window.code_view.hide()  # the user's own change to this workspace
    window.close()
    again = make_window(qtbot, tmp_path)  # the same settings file: the same user, later
    assert again.workspaces.current == "inspect" and again.workspaces.actions["inspect"].isChecked()
    assert not again.code_view.isVisible()
    click_workspace(qtbot, again, "build")
    assert again.palette.isVisible()
    QTest.keyClick(again, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)  # Ctrl+3: back to Inspect
    qtbot.waitUntil(lambda: again.workspaces.current == "inspect", timeout=2000)
    assert not again.code_view.isVisible()
    again.workspaces.reset()
    assert again.code_view.isVisible()


def test_a_new_2d_project_shows_its_data_uncut_in_build_and_train(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    window.resize(1280, 720)
    assert window.new_project("points")
    preview = window.training.settings_dock.preview
    qtbot.waitUntil(lambda: preview.stack.currentWidget() is preview.scatter, timeout=10_000)
    area = window.training.settings_dock.widget()
    qtbot.waitUntil(lambda: area.verticalScrollBar().value() > 0, timeout=2000)  # scrolled to the data
    assert area.horizontalScrollBar().value() == 0 and not preview.visibleRegion().isEmpty()
    for name in ("build", "train"):
        click_workspace(qtbot, window, name)
        window.training.settings_dock.raise_()
        settle()  # the raised tab lays out in the event loop
        assert cramped(window) == [], name
