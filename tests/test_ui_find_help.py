"""Find your way: Ctrl+F finds a node (centred and selected), the Help menu (shortcuts from the actions, the
file format, the node reference, About with versions), the Code panel shows the whole module, and a node
dropped at the canvas's edge lands wholly on screen."""

from __future__ import annotations

import pytest
from _window_helpers import copy_example, make_window, screenshot
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from test_ui_window import drop

pytestmark = pytest.mark.gui


def test_ctrl_f_finds_centres_and_selects_a_node(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    assert window.files.open(copy_example(tmp_path), ask=False)
    canvas = window.canvas
    canvas.set_zoom(1.5)
    canvas.centerOn(canvas.scene().nodes["image"])
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    window.summary.table.setFocus()  # Ctrl+F works from any panel
    QTest.keyClick(window.summary.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    finder = canvas.finder
    qtbot.waitUntil(lambda: finder.isVisible() and finder.hasFocus(), timeout=2000)
    QTest.keyClicks(finder, "dense2")
    QTest.keyClick(finder, Qt.Key.Key_Return)
    assert window.controller.selection() == ["dense2"]
    item = canvas.scene().nodes["dense2"]
    centre = canvas.mapFromScene(item.sceneBoundingRect().center())
    assert (centre - canvas.viewport().rect().center()).manhattanLength() <= 4
    assert finder.isVisible()  # open for the next search
    screenshot(window, "find_node.png")

    finder.selectAll()
    QTest.keyClicks(finder, "conv")  # by prefix: conv1 first, Enter again for the next
    QTest.keyClick(finder, Qt.Key.Key_Return)
    assert window.controller.selection() == ["conv1"]
    QTest.keyClick(finder, Qt.Key.Key_Return)
    assert window.controller.selection() == ["conv2"]
    QTest.keyClick(finder, Qt.Key.Key_Escape)
    assert not finder.isVisible()


def test_help_menu_shortcuts_format_nodes_and_about(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    help_ = window.help
    dialog = help_.show_shortcuts()
    rows = dict((text, keys) for keys, text in dialog.rows)
    keys = window.canvas.keymap
    for action in (keys.undo, keys.find, keys.delete, window.workspaces.actions["train"]):
        text = action.text().replace("&", "").rstrip("…")
        assert rows[text].split(", ")[0] == action.shortcuts()[0].toString()
    QTest.keyClicks(dialog.filter, "find")
    shown = [dialog.table.item(i, 1).text() for i in range(dialog.table.rowCount()) if not dialog.table.isRowHidden(i)]
    assert shown == ["Find Node"]
    dialog.close()
    fmt = help_.show_format()
    assert "graph" in fmt.browser.toPlainText() and "version" in fmt.browser.toPlainText()
    fmt.close()
    help_.dialog = None
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    QTest.keyClick(window, Qt.Key.Key_F1)  # F1: the node reference
    qtbot.waitUntil(lambda: help_.dialog is not None and help_.dialog.isVisible(), timeout=3000)
    text = help_.dialog.browser.toPlainText()
    assert "Conv2d" in text and "SoftmaxCrossEntropy" in text
    help_.dialog.close()
    about = help_.show_about()
    import torch

    assert torch.__version__ in about.text() and "PySide6" in about.text()
    about.close()


def test_code_panel_shows_the_whole_module(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    assert window.files.open(copy_example(tmp_path), ask=False)
    window.code_view.raise_()
    qtbot.waitUntil(lambda: "class GraphEditModel(nn.Module)" in window.code_view.code(), timeout=3000)
    code = window.code_view.code()
    assert "def __init__(self)" in code and "self.conv1 = nn.Conv2d(1, 16" in code
    assert code.index("def __init__") < code.index("def forward(self, image")
    assert "self.dense2(" in code


def test_a_node_dropped_at_the_edge_lands_wholly_on_screen(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    canvas = window.canvas
    viewport = canvas.viewport().rect()
    corner = QPoint(viewport.right() - 3, viewport.bottom() - 3)
    assert drop(canvas.viewport(), window.palette.mime_data_for("Dense"), corner).isAccepted()
    item = canvas.scene().nodes["dense1"]
    shown = canvas.mapToScene(viewport).boundingRect()
    assert shown.contains(item.sceneBoundingRect().adjusted(14, 12, -14, -6))  # the node's body, ports aside
    assert window.controller.undo_stack.count() == 1  # adding and moving in: one step
    window.palette.typeActivated.emit("ReLU")  # Enter in the palette: at the centre, also whole
    assert shown.contains(canvas.scene().nodes["relu1"].sceneBoundingRect().adjusted(14, 12, -14, -6))
