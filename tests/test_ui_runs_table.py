"""The Runs table: columns for what differs between runs, sort, filter, hide columns, diff two runs, restore one."""

from __future__ import annotations

import graphs
import pytest
from _window_helpers import make_window, screenshot
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from graphedit.model.project import Project, project_to_json, save_project
from graphedit.training.session import run_project
from graphedit.ui.runner.runs_table import column_menu

pytestmark = pytest.mark.gui


def _project(folder):
    doc = graphs.mlp(in_shape=(2,), hidden=(16,), classes=2)
    settings = {"epochs": 2, "batch_size": 16, "device": "cpu", "lr": 0.02, "seed": 0, "probe_every": -1}
    project = Project(document=doc, dataset={"name": "circle", "options": {"n": 200}}, training=settings)
    return save_project(project, folder / "circle.gproj")


def _two_runs(qtbot, tmp_path):
    """A window on a project with two runs: the second with a wider dense1 and another learning rate."""
    path = _project(tmp_path)
    window = make_window(qtbot, tmp_path)
    assert window.files.open(path, ask=False)
    first = project_to_json(window.files.project)
    run_project(first, path, probes=False)
    second = project_to_json(window.files.project)
    second["training"]["lr"] = 0.05
    next(n for n in second["graph"]["nodes"] if n["id"] == "dense1")["params"]["units"] = 32
    run_project(second, path, probes=False)
    runs = window.training.runs_dock
    runs.refresh()
    runs.show()
    runs.resize(1100, 320)
    return window, runs


def _column(runs, title):
    header = runs.tree.headerItem()
    return next(i for i in range(runs.tree.columnCount()) if header.text(i) == title)


def _row_texts(runs, column):
    return [runs.tree.topLevelItem(i).text(column) for i in range(runs.tree.topLevelItemCount())]


def test_columns_show_what_differs_and_sort_filter_and_hide(qtbot, tmp_path):
    window, runs = _two_runs(qtbot, tmp_path)
    titles = [runs.tree.headerItem().text(i) for i in range(runs.tree.columnCount())]
    assert {"lr", "batch size", "optimizer", "dense1.units", "Best loss", "Device"} <= set(titles)
    assert "dense2.units" not in titles  # the same in both runs: no column
    units = _column(runs, "dense1.units")
    assert sorted(_row_texts(runs, units)) == ["16", "32"]
    # click the lr header twice: ascending then descending, by number
    lr = _column(runs, "lr")
    header = runs.tree.header()
    x = header.sectionViewportPosition(lr) + header.sectionSize(lr) // 2
    QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))
    first = _row_texts(runs, lr)
    QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))
    assert _row_texts(runs, lr) == list(reversed(first)) and sorted(first) == ["0.02", "0.05"]
    # the filter keeps the rows holding every word typed
    qtbot.keyClicks(runs.filter, "0.05")
    visible = [i for i in range(runs.tree.topLevelItemCount()) if not runs.tree.topLevelItem(i).isHidden()]
    assert len(visible) == 1 and runs.tree.topLevelItem(visible[0]).text(lr) == "0.05"
    runs.filter.clear()
    assert all(not runs.tree.topLevelItem(i).isHidden() for i in range(runs.tree.topLevelItemCount()))
    # hide a column from the header's menu; it stays hidden after a refresh
    menu = column_menu(runs.tree, runs.hidden_columns, QPoint(0, 0))
    action = next(a for a in menu.actions() if a.text() == "Device")
    action.trigger()
    assert runs.tree.isColumnHidden(_column(runs, "Device"))
    runs.refresh()
    assert runs.tree.isColumnHidden(_column(runs, "Device"))
    screenshot(runs, "runs_table.png")


def test_diff_two_runs_and_restore_one_as_one_undo_step(qtbot, tmp_path):
    window, runs = _two_runs(qtbot, tmp_path)
    controller = window.controller
    tree = runs.tree
    first, second = tree.topLevelItem(0), tree.topLevelItem(1)
    rect = tree.visualItemRect(first)
    QTest.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    rect = tree.visualItemRect(second)
    QTest.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, rect.center())
    assert runs.diff_button.isEnabled()
    qtbot.mouseClick(runs.diff_button, Qt.MouseButton.LeftButton)
    dialog = runs.diff_dialog
    assert dialog is not None and dialog.isVisible()
    table = dialog.table
    rows = {
        table.item(r, 0).text(): (table.item(r, 1).text(), table.item(r, 2).text()) for r in range(table.rowCount())
    }
    assert rows["lr"] == ("0.02", "0.05") and rows["dense1.units"] == ("16", "32")
    dialog.resize(1280, 720)
    screenshot(dialog, "run_diff.png")
    dialog.close()
    # restore the older run while the graph is as the newer one trained it
    controller.set_param("dense1", "units", 32, merge=False)
    window.files.project.training["lr"] = 0.05
    older = min(runs.records.values(), key=lambda r: r.name)
    runs.select(older.folder)
    depth = controller.undo_stack.index()
    assert runs.restore_selected()
    assert controller.document.params("dense1")["units"] == 16
    assert window.files.project.training["lr"] == 0.02
    assert window.files.project.weights["path"].endswith("final.safetensors")
    assert controller.undo_stack.index() == depth + 1  # one step
    controller.undo_stack.undo()
    assert controller.document.params("dense1")["units"] == 32
    assert window.files.project.training["lr"] == 0.05 and window.files.project.weights is None
