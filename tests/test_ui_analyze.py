"""Analyze before Run in the editor: Run with an error starts no worker and shows the list; the Problems panel,
the status bar and the model summary agree with the analysis, also after deleting a node (the phantom node)."""

from __future__ import annotations

import pytest
from _window_helpers import assert_banner_covers_no_node, make_window, screenshot
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

pytestmark = pytest.mark.gui


def click_node(qtbot, window, node_id: str) -> None:
    canvas = window.canvas
    item = canvas.scene().nodes[node_id]
    canvas.centerOn(item)
    pos = canvas.mapFromScene(item.sceneBoundingRect().center())
    QTest.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    qtbot.waitUntil(lambda: window.controller.selection() == [node_id], timeout=2000)


def canvas_top(window) -> int:
    return window.canvas.viewport().geometry().top() - window.canvas.frameWidth()


def small_net(controller) -> dict[str, str]:
    """Input [2] → Dense → Output, with a Target ready but no loss yet."""
    ids = {
        "x": controller.add_node("Input", (0, 0), {"shape": [2]}),
        "dense": controller.add_node("Dense", (220, 0), {"units": 2}),
        "out": controller.add_node("Output", (440, 0)),
        "t": controller.add_node("Target", (220, 160), {"shape": [1], "dtype": "int64"}),
    }
    controller.connect(ids["x"], "y", ids["dense"], "x")
    controller.connect(ids["dense"], "y", ids["out"], "x")
    return ids


def test_run_with_an_error_starts_no_worker_and_shows_the_problems(qtbot, tmp_path, monkeypatch):
    from graphedit.ui.runner import process

    spawned = []
    monkeypatch.setattr(process.multiprocessing, "get_context", lambda *a: spawned.append(a))
    window = make_window(qtbot, tmp_path)
    ids = small_net(window.controller)
    window.code_view.raise_()  # the Problems panel is behind another tab when Run is pressed
    toolbar = window.training.toolbar
    QTest.mouseClick(toolbar.widgetForAction(toolbar.run), Qt.MouseButton.LeftButton)
    assert spawned == [] and not window.session.is_running()
    problems = window.problems
    qtbot.waitUntil(lambda: not problems.visibleRegion().isEmpty(), timeout=1000)
    texts = [problems.list.item(i).text() for i in range(problems.list.count())]
    assert len(texts) == 1 and "no loss node" in texts[0] and "Fix:" in texts[0]
    assert window.status_label.text().endswith("· 1 error") and problems.windowTitle() == "Problems (1 error)"
    banner = window.training.banner
    assert "Not started" in banner.text() and "no loss" in banner.text()
    assert_banner_covers_no_node(window)
    screenshot(window, "run_refused_problems.png")

    # fix it: the loss goes in, the refusal banner goes away, everything reads "no errors"
    loss = window.controller.add_node("SoftmaxCrossEntropy", (440, 160))
    window.controller.connect(ids["dense"], "y", loss, "pred")
    window.controller.connect(ids["t"], "y", loss, "target")
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=2000)
    assert canvas_top(window) == 0  # the strip it kept free is given back
    assert window.status_label.text().endswith("no errors") and problems.windowTitle() == "Problems"


def test_deleting_a_node_that_changes_no_other_shape_leaves_no_phantom(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    controller = window.controller
    ids = small_net(controller)
    extra = controller.add_node("ReLU", (440, -160))
    controller.connect(ids["dense"], "y", extra, "x")
    summary_ids = lambda: [r.node_id for r in window.summary.rows]  # noqa: E731
    assert extra in summary_ids()
    assert any(p.node_id == extra for p in window.problems.problems)  # a dead branch
    nodes_before = len(controller.document)

    click_node(qtbot, window, extra)
    window.canvas.setFocus()
    qtbot.waitUntil(window.canvas.hasFocus)
    QTest.keyClick(window.canvas, Qt.Key.Key_Delete)
    assert extra not in controller.document
    assert extra not in summary_ids() and window.summary.table.rowCount() == nodes_before  # rows + total
    assert not any(p.node_id == extra for p in window.problems.problems)
    assert not any(extra in window.problems.list.item(i).text() for i in range(window.problems.list.count()))
    assert window.status_label.text().startswith(f"{nodes_before - 1} nodes")
    assert window.status_label.text().endswith(window.problems.windowTitle()[len("Problems (") : -1])

    QTest.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # and back again
    assert extra in summary_ids()


def test_a_parameter_edit_keeps_the_wiring_analysis_and_a_wire_edit_renews_it(qtbot):
    from graphedit.model.document import GraphDocument
    from graphedit.ui.controller import EditorController

    controller = EditorController(GraphDocument())
    ids = small_net(controller)
    controller.reanalyze()
    kept = controller._structure
    controller.set_param(ids["dense"], "units", 3)
    assert controller._structure is kept  # a 10,000-node graph does not walk its wiring again per parameter
    loss = controller.add_node("SoftmaxCrossEntropy", (440, 160))
    assert controller._structure is not kept
    controller.connect(ids["dense"], "y", loss, "pred")
    controller.connect(ids["t"], "y", loss, "target")
    assert not [p for p in controller.analysis() if p.is_error]
