"""Receptive fields, embeddings and the loss landscape in the Inside dock, driven by real clicks, keys and moves."""

import json
import shutil

import numpy as np
import pytest
import torch
from _insight_helpers import axis_labels, squeezed
from _window_helpers import PROJECTS, copy_example, make_window, screenshot
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from graphedit.training.embeddings import activations, pca
from graphedit.training.session import run_project

pytestmark = pytest.mark.gui


def open_view(qtbot, tmp_path, project, view):
    window = make_window(qtbot, tmp_path)
    window.resize(1280, 720)
    assert window.files.open(project, ask=False)
    window.inside.show()
    window.inside.raise_()
    window.inside.show_view(view)
    qtbot.waitUntil(lambda: window.inside.seen is not None and not window.inside.is_loading(), timeout=30_000)
    page = window.inside.page(view)
    qtbot.waitUntil(page.showing_body)
    return window, page


def click_view(widget, view, x, y):
    """A real mouse click on a pyqtgraph ViewBox at data coordinates (x, y)."""
    scene = view.mapViewToScene(QPointF(x, y))
    pos = widget.mapFromScene(scene)
    QTest.mouseClick(widget.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)


def test_clicking_a_unit_outlines_its_field_and_the_gradient_stays_inside(qtbot, tmp_path):
    window, page = open_view(qtbot, tmp_path, copy_example(tmp_path), "receptive")
    assert page.node.currentText() == "conv3"
    click_view(page.grid, page.features.view, 2.5, 1.5)  # row 1, column 2
    assert page.unit == (1, 2)
    box = page.outline
    assert (box.top(), box.bottom()) == (max(0.0, page.field.region(1)[0]), page.field.region(1)[1])
    assert (box.left(), box.right()) == (page.field.region(2)[0], page.field.region(2)[1])
    assert box.width() == pytest.approx(21) and "21×21" in page.about.text()
    inside = torch.zeros_like(page.gradient, dtype=torch.bool)
    inside[int(box.top()) : int(np.ceil(box.bottom())), int(box.left()) : int(np.ceil(box.right()))] = True
    assert page.gradient[inside].sum() > 0 and page.gradient[~inside].abs().sum() == 0
    page.node.setFocus()
    QTest.keyClick(page.node, Qt.Key.Key_Home)  # conv1: 5×5
    assert page.node.currentText() == "conv1" and page.outline.width() <= 5
    assert not squeezed(window.inside)
    screenshot(window, "inside_receptive.png")


@pytest.mark.slow
def test_embeddings_pca_by_class_hover_shows_the_input_and_tsne_runs_on_request(qtbot, tmp_path):
    window, page = open_view(qtbot, tmp_path, copy_example(tmp_path, "04c_relu_he.gproj"), "embeddings")
    seen = window.inside.seen
    node = page.node.currentText()
    expected, share = pca(activations(seen.compiled, node, seen.x))
    np.testing.assert_allclose(page.coords, expected.numpy(), rtol=1e-4, atol=1e-5)
    left, bottom = axis_labels(page.plot)
    assert bottom.startswith("PC1 (") and left.startswith("PC2 (")
    # hover: the mouse over a point shows that example
    pixels = page.coords / np.array(page.plot.vb.viewPixelSize())  # the page measures distances on the screen
    gaps = np.linalg.norm(pixels[:, None] - pixels[None], axis=2) + np.eye(len(pixels)) * 1e9
    i = int(gaps.min(1).argmax())  # the loneliest point: no neighbour under the mouse with it
    scene = page.plot.vb.mapViewToScene(QPointF(*page.coords[i]))
    QTest.mouseMove(page.grid.viewport(), page.grid.mapFromScene(scene))
    qtbot.waitUntil(lambda: page.hovered is not None)
    assert page.hovered == i
    assert f"example {page.hovered}" in page.hover_cell.title.text
    # t-SNE: cancelled, then run
    QTest.mouseClick(page.tsne_button, Qt.MouseButton.LeftButton)
    QTest.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    assert "cancelled" in page.state.text() and page.tsne_button.isEnabled() and page.method == "PCA"
    qtbot.waitUntil(lambda: not page.job.is_running(), timeout=60_000)
    assert page.method == "PCA"  # the cancelled result is dropped
    QTest.mouseClick(page.tsne_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.method == "t-SNE", timeout=60_000)
    assert axis_labels(page.plot) == ("t-SNE 2", "t-SNE 1") and page.coords.shape == (len(seen.x), 2)
    assert not squeezed(window.inside)
    screenshot(window, "inside_embeddings.png")


@pytest.fixture(scope="module")
def trained_neuron(tmp_path_factory):
    folder = tmp_path_factory.mktemp("neuron")
    path = folder / "01_single_neuron.gproj"
    shutil.copy(PROJECTS / "01_single_neuron.gproj", path)
    run_project(json.loads(path.read_text()), path, {"epochs": 5}, probes=False, point_project=True)
    return path


def test_the_landscape_line_ends_at_the_trained_loss_and_the_slice_centres_on_it(qtbot, tmp_path, trained_neuron):
    window, page = open_view(qtbot, tmp_path, trained_neuron, "landscape")
    seen = window.inside.seen
    assert seen.trained and "unavailable" in page.state.text()
    page.size.setFocus()
    page.size.selectAll()
    QTest.keyClicks(page.size, "5")
    QTest.mouseClick(page.compute_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.result is not None, timeout=60_000)
    line, surface = page.result["line"], page.result["surface"]
    with torch.no_grad():
        seen.compiled.objective.eval()
        trained_loss = float(seen.compiled.objective(**seen.feed(slice(0, 256)))["loss"])
    at = {round(t, 6): loss for t, loss in zip(line.t, line.loss)}
    assert at[1.0] == pytest.approx(trained_loss, rel=1e-5) and at[0.0] > at[1.0]  # training lowered the loss
    assert len(surface.a) == 5 and surface.loss[2][2] == pytest.approx(trained_loss, rel=1e-5)
    assert page.progress.value() == page.progress.maximum() == 31 + 25
    for plot in (page.line_plot, page.slice_plot):
        assert all(axis_labels(plot))
    np.testing.assert_allclose(page.line_curve.yData, line.loss)
    # no snapshots: the straight segment from the initial weights (rebuilt from the seed) to the trained (0, 0)
    assert len(page.path) == 2 and page.path[-1] == pytest.approx((0, 0), abs=1e-6) and page.path[0] != page.path[1]
    assert not squeezed(window.inside)
    screenshot(window, "inside_landscape.png")


@pytest.mark.slow
def test_the_landscape_can_be_cancelled_midway(qtbot, tmp_path):
    window, page = open_view(qtbot, tmp_path, copy_example(tmp_path), "landscape")
    page.size.setValue(21)
    QTest.mouseClick(page.compute_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.progress.value() > 0, timeout=30_000)
    QTest.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.compute_button.isEnabled(), timeout=30_000)
    assert page.progress.format() == "cancelled" and page.progress.value() < page.progress.maximum()
    assert page.result is None


@pytest.mark.parametrize(
    ("lesson", "view"),
    [("16_backprop_steps", "backprop"), ("17_adversarial_digits", "adversarial"), ("20_embeddings", "embeddings")],
)
def test_a_lesson_opens_with_its_inside_view(qtbot, tmp_path, lesson, view):
    from graphedit.ui.gallery import open_in_window

    window = make_window(qtbot, tmp_path)
    window.resize(1280, 720)
    assert open_in_window(window, PROJECTS / f"{lesson}.gproj")
    assert window.inside.current_view() == view
    qtbot.waitUntil(lambda: window.inside.seen is not None and not window.inside.is_loading(), timeout=30_000)
    page = window.inside.page(view)
    qtbot.waitUntil(page.showing_body)
    assert not squeezed(window.inside)
    screenshot(window, f"lesson_{lesson}.png")
