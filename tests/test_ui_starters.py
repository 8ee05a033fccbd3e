"""Defaults that teach: File ▸ New From Template opens on the data, picks the live view that fits the graph,
reports accuracy for a classification loss, and its default settings make the spiral learn."""

from __future__ import annotations

import pytest
from _window_helpers import assert_banner_covers_no_node, make_window, screenshot
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu

from graphedit.model.document import GraphDocument
from graphedit.model.starters import STARTERS, live_view_for, starter_project

pytestmark = pytest.mark.gui
SPAWN_TIMEOUT_MS = 90_000


def choose_from_menu(qtbot, window, path: list[str]) -> None:
    """Click through the menu bar and submenus by their texts, as a user does."""
    bar = window.menuBar()
    top = next(a for a in bar.actions() if a.text().replace("&", "") == path[0])
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.actionGeometry(top).center())
    menu = top.menu()
    for text in path[1:]:
        qtbot.waitUntil(menu.isVisible, timeout=2000)
        action = next(a for a in menu.actions() if a.text().replace("&", "") == text)
        QTest.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
        menu = action.menu() if action.menu() is not None else menu
    qtbot.waitUntil(lambda: not isinstance(QApplication.activePopupWidget(), QMenu), timeout=2000)


def test_each_starter_analyses_clean_and_picks_its_view():
    views = {key: starter_project(key).view["live_view"] for key in STARTERS}
    assert views == {"points": "regions", "images": "feature_maps", "table": "curves"}
    for key in STARTERS:
        doc = starter_project(key).document
        assert any(doc.node_type(n).type_id == "Accuracy" for n in doc.node_ids())
    assert live_view_for(GraphDocument()) == "curves"


def test_a_new_empty_project_after_an_image_example_does_not_keep_its_view(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    window.live.show_view("feature_maps")
    window.files.project.view["live_view"] = None
    window.files.new()
    assert window.live.current_view() == "curves" and window.files.project.view["live_view"] is None


@pytest.mark.slow
def test_a_new_2d_project_shows_its_data_and_learns_the_spiral_in_its_default_run(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    window.resize(1280, 720)
    choose_from_menu(qtbot, window, ["File", "New From Template", STARTERS["points"].title])
    doc = window.controller.document
    assert window.files.project.dataset["name"] == "spiral"
    assert {"Accuracy", "SoftmaxCrossEntropy"} <= {doc.node_type(n).type_id for n in doc.node_ids()}
    preview = window.training.settings_dock.preview
    qtbot.waitUntil(lambda: preview.stack.currentWidget() is preview.scatter, timeout=10_000)
    assert len(preview.scatter.points) == 400 and {c.name() for c in preview.scatter.colors} == {"#f59322", "#0877bd"}
    assert window.live.current_view() == "regions"
    assert window.status_label.text().endswith("no errors")
    screenshot(window, "new_2d_project_before.png")

    finished = []
    window.session.finished.connect(finished.append)
    toolbar = window.training.toolbar
    QTest.mouseClick(toolbar.widgetForAction(toolbar.run), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(finished), timeout=SPAWN_TIMEOUT_MS + 60_000)
    summary = finished[0]["summary"]
    assert summary["status"] == "finished" and summary["epochs"] == STARTERS["points"].training["epochs"]
    assert summary["val"]["accuracy"] >= 0.9, summary["val"]
    window.live.render_now()
    qtbot.waitUntil(lambda: bool(window.live.view("regions").shown_nodes), timeout=5000)
    screenshot(window, "new_2d_project_after.png")
    assert_banner_covers_no_node(window)  # the "finished" banner
