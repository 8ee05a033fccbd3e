"""The Live, Inside and Experiments plots are made when their dock is first shown (the editor starts without
pyqtgraph: tests/test_startup.py); clicking a dock's tab makes its views, each with the name and title of its
dock's table, and they draw."""

from __future__ import annotations

import pytest
from _window_helpers import copy_example, make_window, screenshot
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTabBar

from graphedit.ui.inside.dock import PAGES
from graphedit.ui.live.dock import VIEWS

pytestmark = pytest.mark.gui


def click_tab(window, title: str) -> None:
    """Click the dock tab named ``title`` as a user would (the window may keep unused tab bars: try each)."""
    bars = [b for b in window.findChildren(QTabBar) if b.isVisible()]
    for bar in bars:
        titles = [bar.tabText(i) for i in range(bar.count())]
        if title in titles:
            QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(titles.index(title)).center())
            return
    raise AssertionError(f"no tab '{title}'")


def test_the_docks_make_their_views_when_first_shown_with_their_tables_names_and_titles(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    assert window.files.open(copy_example(tmp_path), ask=False)
    live, inside, experiments = window.live, window.inside, window.experiments
    # opened, nothing plotted: each dock lists its views from its table alone
    assert live._made is None and inside._made is None and experiments._views is None
    assert [live.combo.itemText(i) for i in range(live.combo.count())] == [e.title for e in VIEWS]
    assert live.views() == [e.name for e in VIEWS] and live.current_view() == "feature_maps"  # the lesson's view
    assert [inside.combo.itemText(i) for i in range(inside.combo.count())] == [e.title for e in PAGES]
    assert experiments.tabs.count() == 0

    click_tab(window, "Live")
    qtbot.waitUntil(lambda: live._made is not None, timeout=5000)
    assert [(v.name, v.title) for v in live._made.values()] == [(e.name, e.title) for e in VIEWS]
    assert live.stack.currentWidget() is live.view("feature_maps")  # the lesson's view, made and in front
    assert live.stack.count() == len(VIEWS)
    live.show_view("curves")
    assert live.stack.currentWidget() is live.view("curves")
    live.setFloating(True)
    live.resize(1280, 720)
    screenshot(live, "lazy_live_dock.png")
    live.setFloating(False)

    click_tab(window, "Inside")
    qtbot.waitUntil(lambda: inside._made is not None, timeout=5000)
    assert [(p.name, p.title) for p in inside._made.values()] == [(e.name, e.title) for e in PAGES]
    assert inside.stack.currentWidget() is inside.page(inside.current_view())

    assert experiments._views is None  # still behind its tab
    click_tab(window, "Experiments")
    qtbot.waitUntil(lambda: experiments._views is not None, timeout=5000)
    titles = [experiments.tabs.tabText(i) for i in range(experiments.tabs.count())]
    assert titles == ["Trials over time", "Trial curves", "Parameters", "Importance"]
    assert experiments.tabs.currentWidget() is experiments.views[0]
    assert "finished trial" in experiments.views[0].note.text()  # drawn: no sweep yet, it says what will appear
    experiments.setFloating(True)
    experiments.resize(1280, 720)
    screenshot(experiments, "lazy_experiments_panel.png")
