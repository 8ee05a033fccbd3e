"""Live badges inside a block (issue 13): the probes record every copy of each block node under its path."""

from __future__ import annotations

import json

import pytest
import torch
from _live_helpers import train_events
from _window_helpers import PROJECTS, FakePrompts, make_window, screenshot
from block_nets import layer_project
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from graphedit.model.project import load_project
from graphedit.ui.live.badges import badge_text

pytestmark = pytest.mark.gui
CIRCLE = {"name": "circle", "options": {"n": 200, "noise": 0.05}}


def test_entering_a_block_after_a_run_shows_its_inner_nodes_badges(qtbot, tmp_path):
    path = tmp_path / "layers.gproj"
    path.write_text(json.dumps(layer_project()), "utf-8")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        events = train_events(load_project(path).document, CIRCLE, {"epochs": 2, "lr": 0.03, "probe_every": 5})
    finally:
        torch.set_num_threads(threads)
    acts = [e for e in events if e["type"] == "probe" and e["payload"].get("activations")][-1]["payload"]
    assert {"hidden/dense", "hidden/relu"} <= set(acts["activations"])  # the first copy, under its path
    window = make_window(qtbot, tmp_path, FakePrompts())
    assert window.files.open(path, ask=False)
    window.resize(1280, 720)
    canvas, dock = window.canvas, window.live
    qtbot.waitUntil(lambda: "hidden" in canvas.scene().nodes)
    for event in events:  # as the window's session delivers them
        dock.ingest(event)
    dock.flush()
    nodes = canvas.scene().nodes
    qtbot.waitUntil(lambda: nodes["head"].badge != "")
    assert nodes["hidden"].badge and "dense" not in nodes  # the block node's own output
    QTest.mouseDClick(
        canvas.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        canvas.mapFromScene(nodes["hidden"].scenePos() + QPointF(60, 12)),
    )
    qtbot.waitUntil(lambda: "dense" in canvas.scene().nodes)
    inner = canvas.scene().nodes
    qtbot.waitUntil(lambda: inner["dense"].badge != "")
    dense = acts["activations"]["hidden/dense"]
    assert inner["dense"].badge.startswith(("μ", "dead")) and inner["relu"].badge
    assert f"{dense['mean']:.2g}" in inner["dense"].badge or "dead" in inner["dense"].badge
    assert "head" not in inner and not inner["x"].badge  # the block's ports are no nodes of the model
    canvas.zoom_to_fit()
    shot = screenshot(window, "blocks_live_badges_inside.png")
    assert shot.exists()
    window.controller.leave_block()  # up again: the top level's badges are back
    qtbot.waitUntil(lambda: canvas.scene().nodes["head"].badge != "")


def test_the_second_copy_of_a_repeat_shows_its_own_badges_and_wire_colours(qtbot, tmp_path):
    """Lesson 05b (seven residual blocks): open the block, go to its second copy, and let the run's probes arrive."""
    path = PROJECTS / "05b_deep_residual.gproj"
    project = load_project(path)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        settings = {"epochs": 1, "lr": 0.01, "momentum": 0.9, "probe_every": 10}
        events = train_events(project.document, project.dataset, settings)
    finally:
        torch.set_num_threads(threads)
    window = make_window(qtbot, tmp_path, FakePrompts())
    assert window.files.open(path, ask=False)
    window.resize(1280, 720)
    canvas, dock = window.canvas, window.live
    qtbot.waitUntil(lambda: "blocks" in canvas.scene().nodes)
    QApplication.processEvents()  # the canvas's zoom-to-fit, queued when the project opened, is done
    block = canvas.scene().nodes["blocks"]
    QTest.mouseDClick(
        canvas.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        canvas.mapFromScene(block.scenePos() + QPointF(60, 12)),
    )
    qtbot.waitUntil(lambda: "dense_a" in canvas.scene().nodes)
    crumb = canvas.breadcrumb
    assert "copy 1 of 7" in crumb.text() and not crumb.previous.isEnabled()
    qtbot.mouseClick(crumb.next, Qt.MouseButton.LeftButton)  # the second copy
    qtbot.waitUntil(lambda: "copy 2 of 7" in crumb.text())
    assert window.controller.levels[-1].copy == 1 and crumb.previous.isEnabled()
    inner = canvas.scene().nodes
    assert not inner["dense_a"].badge  # nothing trained yet
    for event in events:  # the run goes on while the copy is open, as the window's session delivers it
        dock.ingest(event)
    dock.flush()
    qtbot.waitUntil(lambda: inner["dense_a"].badge != "")
    probe = [e for e in events if e["type"] == "probe" and e["payload"].get("activations")][-1]["payload"]
    acts, grads = probe["activations"], probe["inner_gradients"]
    first, second = acts["blocks/dense_a"], acts["blocks[1]/dense_a"]
    assert inner["dense_a"].badge == badge_text(second) != badge_text(first)  # this copy's values, not the first's
    assert inner["add"].badge == badge_text(acts["blocks[1]/add"])
    colours = {tuple(e): item.color for e, item in canvas.scene().edges.items() if item.color is not None}
    into_a, into_b = ("x", "y", "dense_a", "x"), ("relu_a", "y", "dense_b", "x")
    assert {into_a, into_b} <= set(colours)  # the wires inside the block are coloured by this copy's gradients
    if grads["blocks[1]/dense_a"]["grad_norm"] != pytest.approx(grads["blocks[1]/dense_b"]["grad_norm"], rel=0.5):
        assert colours[into_a] != colours[into_b]
    canvas.set_zoom(0.5)  # near enough to read the badges, as a user would zoom in on a wide block
    canvas.centerOn(inner["dense_b"].sceneBoundingRect().center())
    header = canvas.mapFromScene(inner["dense_a"].scenePos() + QPointF(40, 10))
    QTest.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, header)
    assert window.controller.selection() == ["dense_a"]
    dock.raise_()
    dock.show_view("activations")  # the histogram of the selected inner node, in this copy
    qtbot.waitUntil(lambda: list(dock.view("activations").hist_plots) == ["blocks[1]/dense_a"])
    shot = screenshot(window, "blocks_live_copy2.png")
    assert shot.exists()
    qtbot.mouseClick(crumb.previous, Qt.MouseButton.LeftButton)  # back to the first copy: its values
    qtbot.waitUntil(lambda: "copy 1 of 7" in crumb.text())
    qtbot.waitUntil(lambda: canvas.scene().nodes["dense_a"].badge == badge_text(first))


@pytest.mark.slow  # a real worker process trains lesson 05b
def test_a_run_from_the_toolbar_shows_the_open_copys_badges_while_it_trains(qtbot, tmp_path):
    data = json.loads((PROJECTS / "05b_deep_residual.gproj").read_text("utf-8"))
    data["training"].update(epochs=40, device="cpu", probe_every=5)
    path = tmp_path / "residual.gproj"
    path.write_text(json.dumps(data), "utf-8")
    window = make_window(qtbot, tmp_path, FakePrompts())
    assert window.files.open(path, ask=False)
    window.resize(1280, 720)
    canvas, session, bar = window.canvas, window.session, window.training.toolbar
    qtbot.waitUntil(lambda: "blocks" in canvas.scene().nodes)
    QApplication.processEvents()  # the canvas's zoom-to-fit, queued when the project opened, is done
    window.controller.enter_block("blocks")
    crumb = canvas.breadcrumb
    qtbot.mouseClick(crumb.next, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "copy 2 of 7" in crumb.text())
    QTest.mouseClick(bar.widgetForAction(bar.run), Qt.MouseButton.LeftButton)
    inner, live = canvas.scene().nodes, window.live

    def shows_this_copy() -> bool:
        probe = live.state.probe or {}
        second = (probe.get("activations") or {}).get("blocks[1]/dense_a")
        return second is not None and inner["dense_a"].badge == badge_text(second)

    qtbot.waitUntil(shows_this_copy, timeout=90_000)  # a fresh process imports torch first
    assert any(item.color is not None for item in canvas.scene().edges.values())
    canvas.set_zoom(0.5)
    canvas.centerOn(inner["dense_b"].sceneBoundingRect().center())
    screenshot(window, "blocks_live_copy2_running.png")
    if session.state != "idle":
        QTest.mouseClick(bar.widgetForAction(bar.stop), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: session.state == "idle", timeout=30_000)
