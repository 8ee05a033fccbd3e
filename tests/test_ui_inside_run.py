"""The Inside dock during a run started from the editor: embeddings move each epoch; the landscape shows the path."""

import numpy as np
import pytest
from _insight_helpers import axis_labels, squeezed
from _window_helpers import copy_example, make_window, screenshot
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from graphedit.training.inside_probes import MAX_SNAPSHOTS, SNAPSHOTS, load_snapshots

pytestmark = [pytest.mark.gui, pytest.mark.slow]
SPAWN_TIMEOUT_MS = 90_000  # a fresh process imports torch; the machine may be busy


def open_lesson(qtbot, tmp_path, name, view):
    window = make_window(qtbot, tmp_path)
    window.resize(1280, 720)
    assert window.files.open(copy_example(tmp_path, name), ask=False)
    assert window.inside.current_view() == view  # the lesson opens on it
    qtbot.waitUntil(lambda: window.inside.seen is not None and not window.inside.is_loading(), timeout=30_000)
    page = window.inside.page(view)
    qtbot.waitUntil(page.showing_body)
    return window, page


def train_from_the_toolbar(window):
    run = window.training.toolbar.run
    button = window.training.toolbar.widgetForAction(run)
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def test_the_embeddings_move_with_each_epoch_of_a_run_started_from_the_editor(qtbot, tmp_path):
    window, page = open_lesson(qtbot, tmp_path, "20_embeddings.gproj", "embeddings")
    node = page.node.currentText()
    assert window.inside.run_request() == {"inside": {"embed": node}}  # asked as a run override
    train_from_the_toolbar(window)
    qtbot.waitUntil(lambda: page.live_epoch is not None and page.live_epoch >= 1, timeout=SPAWN_TIMEOUT_MS)
    assert not window.inside.visibleRegion().isEmpty() and window.live.visibleRegion().isEmpty()  # stays in front
    assert window.inside.current_view() == "embeddings"
    first_epoch, first = page.live_epoch, page.coords.copy()
    qtbot.waitUntil(lambda: page.live_epoch > first_epoch, timeout=60_000)
    assert page.coords.shape == first.shape and not np.allclose(page.coords, first)  # the scatter moved
    assert f"epoch {page.live_epoch}" in page.state.text()
    left, bottom = axis_labels(page.plot)
    assert bottom.startswith("PC1 (") and left.startswith("PC2 (")
    assert not squeezed(window.inside)
    screenshot(window, "inside_embeddings_mid_run.png")
    qtbot.waitUntil(lambda: not window.session.is_running(), timeout=120_000)


def test_a_run_with_the_landscape_open_keeps_snapshots_and_the_slice_shows_its_path(qtbot, tmp_path):
    window, page = open_lesson(qtbot, tmp_path, "19a_landscape_plain.gproj", "landscape")
    assert "unavailable" in page.state.text()
    train_from_the_toolbar(window)
    qtbot.waitUntil(lambda: not window.session.is_running(), timeout=SPAWN_TIMEOUT_MS + 60_000)
    assert window.files.project.weights is not None, window.training.banner.text()
    qtbot.waitUntil(lambda: window.inside.seen is not None and window.inside.seen.trained, timeout=30_000)
    qtbot.waitUntil(lambda: "snapshots" in page.state.text() and not window.inside.is_loading(), timeout=30_000)
    snapshots = load_snapshots(window.files.weights_file().parent / SNAPSHOTS)
    assert 2 <= len(snapshots) <= MAX_SNAPSHOTS and snapshots[0][0] == "initial"
    page.size.setValue(5)
    QTest.mouseClick(page.compute_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.result is not None, timeout=60_000)
    assert len(page.path) == len(snapshots) and page.path[-1] == pytest.approx((0, 0), abs=1e-6)
    assert page.path_curve.xData is not None and len(page.path_curve.xData) == len(snapshots)
    assert all(axis_labels(page.slice_plot)) and not squeezed(window.inside)
    screenshot(window, "inside_landscape_path.png")
