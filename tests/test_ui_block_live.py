"""Live badges inside a block (issue 13): the probes record the first copy of each block node under its path."""

from __future__ import annotations

import json

import pytest
import torch
from _live_helpers import train_events
from _window_helpers import FakePrompts, make_window, screenshot
from block_nets import chain, node, wire
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from graphedit.model.migrations import FORMAT, VERSION
from graphedit.model.project import load_project

pytestmark = pytest.mark.gui
CIRCLE = {"name": "circle", "options": {"n": 200, "noise": 0.05}}


def layer_project() -> dict:
    """points → hidden (Layer ×2) → head → out, with a loss; Layer is x → dense → relu → y."""
    layer = {
        "name": "Layer",
        "params": [{"name": "units", "binds": ["dense.units"]}],
        "graph": {
            "nodes": [
                node("x", "BlockInput"),
                node("dense", "Dense", 250.0, units=8),
                node("relu", "ReLU", 500.0),
                node("y", "BlockOutput", 750.0),
            ],
            "edges": chain("x", "dense", "relu", "y"),
        },
    }
    nodes = [
        node("points", "Input", 0.0, shape=[2]),
        node("hidden", "Layer", 250.0, repeat=2, units=6),
        node("head", "Dense", 500.0, units=2),
        node("out", "Output", 750.0),
        {**node("target1", "Target", 500.0, shape=[1], dtype="int64"), "position": [500.0, 200.0]},
        {**node("loss1", "SoftmaxCrossEntropy", 750.0), "position": [750.0, 200.0]},
    ]
    edges = chain("points", "hidden", "head", "out")
    edges += [wire("head", "loss1", "pred"), wire("target1", "loss1", "target")]
    return {"format": FORMAT, "version": VERSION, "blocks": [layer], "graph": {"nodes": nodes, "edges": edges}}


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
    window.controller.enter_block("hidden", copy=1)  # the probes record the first copy only: no badges here
    qtbot.waitUntil(lambda: "dense" in canvas.scene().nodes)
    assert not canvas.scene().nodes["dense"].badge
