"""The backprop step-through, driven by keys and clicks: what it shows equals torch.autograd.grad on one example."""

import numpy as np
import pytest
import torch
from _insight_helpers import squeezed
from _window_helpers import copy_example, make_window, screenshot
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from graphedit.ui.inside.plots import as_picture, labels
from graphedit.ui.live.page import fmt

pytestmark = pytest.mark.gui


def open_inside(qtbot, tmp_path, example, view):
    window = make_window(qtbot, tmp_path)
    window.resize(1280, 720)
    assert window.files.open(copy_example(tmp_path, example), ask=False)
    window.inside.show()
    window.inside.raise_()
    window.inside.show_view(view)
    qtbot.waitUntil(lambda: window.inside.seen is not None and not window.inside.is_loading(), timeout=30_000)
    page = window.inside.page(view)
    qtbot.waitUntil(page.showing_body)
    return window, page


def autograd_reference(seen, example):
    """∂L/∂(each node's output) straight from autograd on the compiled taps, in evaluation mode."""
    compiled = seen.compiled
    compiled.root.eval()
    compiled.taps.eval()
    feed = {k: v.clone().requires_grad_(k in compiled.input_ids) for k, v in seen.feed(example).items()}
    taps = compiled.taps(**feed)
    values = {**{k: feed[k] for k in compiled.input_ids}, **{k: v for k, v in taps.items() if "." not in k}}
    (loss_id,) = compiled.loss_ids
    wanted = [n for n, v in values.items() if v.requires_grad and n != loss_id]
    grads = torch.autograd.grad(taps[loss_id], [values[n] for n in wanted], allow_unused=True)
    return {n: g for n, g in zip(wanted, grads) if g is not None}


@pytest.mark.parametrize("example", ["04c_relu_he.gproj", "keras_cnn.gproj", "residual_mlp.gproj"])
@pytest.mark.slow
def test_stepping_back_shows_autograds_gradient_at_every_node(qtbot, tmp_path, example):
    window, page = open_inside(qtbot, tmp_path, example, "backprop")
    QTest.mouseClick(page.example, Qt.MouseButton.LeftButton)
    QTest.keyClick(page.example, Qt.Key.Key_Up)  # the second example
    assert page.example.value() == 1
    reference = autograd_reference(window.inside.seen, 1)
    loss = page.current()
    assert window.controller.document.node_type(loss).role == "loss" and window.controller.selection() == [loss]
    page.body.setFocus()
    checked = 0
    while page.back_button.isEnabled():
        QTest.keyClick(page.body, Qt.Key.Key_Left)
        node_id = page.current()
        assert window.controller.selection() == [node_id]  # the canvas and the Inspector follow the walk
        badge = window.canvas.scene().nodes[node_id].badge
        if node_id in reference:
            expected = reference[node_id]
            assert f"∇ {fmt(float(expected.norm()))}" in badge
            picture = as_picture(expected)
            if picture is not None:
                np.testing.assert_allclose(page.grad_plot.image.image, picture, rtol=1e-4, atol=1e-6)
            else:
                heights = page.grad_plot.bars.opts["height"]
                np.testing.assert_allclose(heights, expected.flatten()[: len(heights)].numpy(), rtol=1e-4, atol=1e-7)
            checked += 1
        assert "Evaluation mode" in window.inspector.extra.text() and node_id in window.inspector.extra.text()
    assert checked >= 4 and page.current() == window.inside.seen.compiled.input_ids[0]
    for plot in (page.value_plot, page.grad_plot):
        assert all(labels(plot.plot)) and plot.plot.getAxis("left").autoSIPrefixScale == 1.0  # ticks read as is
    # → undoes a step; the button does what the key does
    before = page.step
    QTest.keyClick(page.body, Qt.Key.Key_Right)
    assert page.step == before - 1
    QTest.mouseClick(page.restart_button, Qt.MouseButton.LeftButton)
    assert page.step == 1
    if example == "keras_cnn.gproj":
        window.canvas.set_zoom(1.0)  # close enough to read the badges
        for _ in range(6):
            QTest.mouseClick(page.back_button, Qt.MouseButton.LeftButton)
        assert not squeezed(window.inside)
        screenshot(window, "inside_backprop.png")
    # leaving the view takes its badges off the canvas
    window.problems.raise_()
    qtbot.waitUntil(lambda: not window.canvas.scene().nodes[loss].badge)


def test_the_walk_goes_through_a_block_node_and_shows_inside_it(qtbot, tmp_path):
    from PySide6.QtCore import QPointF

    window, page = open_inside(qtbot, tmp_path, "05b_deep_residual.gproj", "backprop")
    assert "blocks" in page.trace.order  # a block node is one step of the walk
    page.body.setFocus()
    QTest.keyClick(page.body, Qt.Key.Key_End)
    canvas = window.canvas
    assert "∇ " + fmt(float(page.trace.grads["blocks"].norm())) in canvas.scene().nodes["blocks"].badge
    point = canvas.scene().nodes["blocks"].scenePos() + QPointF(60, 12)  # the node's header
    QTest.mouseDClick(
        canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, canvas.mapFromScene(point)
    )
    qtbot.waitUntil(lambda: page.open_block() == "blocks")
    nodes = canvas.scene().nodes
    qtbot.waitUntil(lambda: "dense_a" in nodes and "∇" in nodes["dense_a"].badge)
    for inner in ("dense_a", "relu_a", "add"):
        grad = page.trace.inner_grads[f"blocks/{inner}"]
        assert "∇ " + fmt(float(grad.norm())) in nodes[inner].badge
    screenshot(window, "inside_backprop_in_block.png")
    crumb = canvas.breadcrumb
    qtbot.mouseClick(crumb.next, Qt.MouseButton.LeftButton)  # the second copy: its own values and gradients
    qtbot.waitUntil(lambda: "copy 2 of 7" in crumb.text())
    nodes = canvas.scene().nodes
    grad = page.trace.inner_grads["blocks[1]/dense_a"]
    qtbot.waitUntil(lambda: "∇ " + fmt(float(grad.norm())) in nodes["dense_a"].badge)
    qtbot.mouseClick(crumb.previous, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "copy 1 of 7" in crumb.text())
    nodes = canvas.scene().nodes
    page.body.setFocus()
    QTest.keyClick(page.body, Qt.Key.Key_Home)  # back at the loss: the block has no gradient yet, nor its inside
    assert "∇" not in nodes["dense_a"].badge and nodes["dense_a"].badge
