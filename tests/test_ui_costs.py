"""The Summary's cost columns (FLOPs, receptive field, measured time) and the canvas badges, driven by real events."""

import pytest
from _insight_helpers import squeezed
from _window_helpers import copy_example, make_window, screenshot
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from graphedit.compiler.costs import flops_text

pytestmark = pytest.mark.gui


def _column(table, name):
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    return headers.index(name)


def test_summary_shows_flops_and_receptive_fields_and_profiles_time_on_request(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    window.resize(1280, 720)
    assert window.files.open(copy_example(tmp_path), ask=False)
    summary = window.summary
    table = summary.table
    doc = window.controller.document
    flops, field = _column(table, "FLOPs/example"), _column(table, "Receptive field")
    conv1 = summary.row_of("conv1")
    p = doc.params("conv1")
    size = 32  # digits at 32×32, one channel: the notes' output size (W − K + 2P)/S + 1
    out = (size - p["kernel"] + 2 * p["padding"]) // p["stride"] + 1
    assert table.item(conv1, flops).text() == flops_text(2 * 1 * p["kernel"] ** 2 * p["filters"] * out * out)
    assert table.item(summary.row_of("conv3"), field).text() == "21×21 (jump 8)"
    assert table.item(summary.row_of("dense1"), field).text() == "whole input"
    # an edit is followed: doubling conv1's filters doubles its FLOPs
    window.controller.set_param("conv1", "filters", 2 * p["filters"], merge=False)
    qtbot.waitUntil(
        lambda: (
            table.item(summary.row_of("conv1"), flops).text()
            == flops_text(4 * p["kernel"] ** 2 * p["filters"] * out * out)
        )
    )
    window.controller.undo_stack.undo()
    # badges: choose FLOPs with the keyboard on the combo box
    combo = summary.costs.combo
    combo.setFocus()
    QTest.keyClick(combo, Qt.Key.Key_Down)
    assert summary.costs.kind() == "FLOPs"
    item = window.canvas.scene().nodes["conv1"]
    assert item.badge == table.item(summary.row_of("conv1"), flops).text()
    # time: the button runs a profiled step off the editor's thread
    QTest.mouseClick(summary.costs.button, Qt.MouseButton.LeftButton)
    assert not summary.costs.button.isEnabled()
    qtbot.waitUntil(lambda: summary.costs.times is not None, timeout=60_000)
    time_col, share_col = _column(table, "Time fwd + bwd"), _column(table, "Time share")
    shares = [table.item(r, share_col).text() for r in range(len(summary.rows))]
    assert sum(float(s.rstrip("%")) for s in shares if s) == pytest.approx(100, abs=0.5)
    assert "ms" in table.item(summary.row_of("conv2"), time_col).text()
    assert "ms per step on cpu" in summary.costs.status.text()
    QTest.keyClick(combo, Qt.Key.Key_Down)
    QTest.keyClick(combo, Qt.Key.Key_Down)
    assert summary.costs.kind() == "time" and "ms ·" in item.badge
    summary.raise_()
    assert not squeezed(summary)
    screenshot(window, "summary_costs.png")
    summary.setFloating(True)
    summary.resize(1280, 720)
    assert not squeezed(summary)
    screenshot(summary, "summary_costs_table.png")
    # an edit drops the measured times (they belong to the graph as it was)
    window.controller.set_param("conv1", "filters", 2 * p["filters"], merge=False)
    qtbot.waitUntil(lambda: summary.costs.times is None)
    assert table.item(summary.row_of("conv2"), time_col).text() == ""


def test_after_an_edit_only_the_nodes_it_touched_are_counted_again(monkeypatch):
    import graphkit

    from graphedit.compiler.costs import node_flops
    from graphedit.compiler.receptive import receptive_fields
    from graphedit.compiler.shapes import ShapeInference
    from graphedit.ui import summary_costs

    nodes = [("image", "Input", {"shape": [1, 16, 16]})]
    nodes += [(f"conv{i}", "Conv2d", {"filters": 4, "kernel": 3, "padding": 1}) for i in range(1, 7)]
    doc = graphkit.build(nodes, graphkit.chain(*[n[0] for n in nodes]))
    inference = ShapeInference(doc)
    inference.run()
    costs = summary_costs.CostCells()
    counted = []
    real = summary_costs.flops_of
    monkeypatch.setattr(summary_costs, "flops_of", lambda d, i, n, c: counted.append(n) or real(d, i, n, c))
    costs.cells(doc, inference)
    assert len(counted) == len(doc)
    counted.clear()
    doc.set_param("conv5", "kernel", 5)
    inference.update()
    cells, total = costs.cells(doc, inference)
    assert sorted(counted) == ["conv5", "conv6"]  # the edited node and what follows it
    # and the cells are what a count from scratch gives
    assert total == sum(node_flops(doc).values())
    fields = receptive_fields(doc)
    assert cells["conv6"] == (flops_text(node_flops(doc)["conv6"]), fields["conv6"].text())
    assert cells["image"][1] == ""  # an input's field is itself: not shown
