"""Steady plot ranges and probe-driven redraws: what keeps the editor's thread light while a run is watched.

An axis whose range changes rebuilds its ticks, labels and grid on the editor's thread; a probe view drawn again
for every step event redraws the same picture. These tests count those, they do not time anything."""

from __future__ import annotations

import graphs
import pytest
import torch
from _live_helpers import FakeSession, replay, train_events
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from graphedit.ui.controller import EditorController
from graphedit.ui.live import LiveViewsDock
from graphedit.ui.live.steady import settled

pytestmark = pytest.mark.gui

CIRCLE = {"name": "circle", "options": {"n": 400, "noise": 0.05}}


@pytest.fixture(scope="module")
def run_events():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        doc = graphs.mlp((2,), (6, 4), 2)
        return doc, train_events(doc, CIRCLE, {"epochs": 12, "lr": 0.03, "batch_size": 16, "probe_every": 10})
    finally:
        torch.set_num_threads(threads)


def make_dock(qtbot, doc, view):
    dock = LiveViewsDock(EditorController(doc))
    qtbot.addWidget(dock)
    dock.resize(1000, 640)
    with qtbot.waitExposed(dock):
        dock.show()
    session = FakeSession()
    dock.attach(session)
    dock.show_view(view)
    return dock, session


def test_a_range_moves_only_when_the_data_leaves_it_or_shrinks_well_inside():
    assert settled((0.0, 10.0), 2.0, 9.0) is None  # inside, filling most of it
    low, high = settled((0.0, 10.0), 2.0, 12.0)  # past the top: refitted with headroom above
    assert low < 2.0 and high > 12.0 + 0.2 * (12.0 - 2.0)
    low, high = settled((0.0, 10.0), 4.0, 5.0)  # a tenth of it: refitted round the data, no headroom
    assert 3.9 < low < 4.0 and 5.0 < high < 5.1
    fresh = settled(None, 1.0, 3.0)
    assert fresh == pytest.approx((0.9, 3.1))
    assert settled((0.0, 1.0), float("nan"), 1.0) is None


def test_curves_show_the_planned_epochs_and_move_their_loss_axis_a_few_times_a_run(qtbot, run_events):
    doc, events = run_events
    dock, session = make_dock(qtbot, doc, "curves")
    view = dock.view("curves")
    total = events[0]["epochs"]
    moves, y_range, x_ranges = 0, None, set()
    epochs = 0
    for event in events:
        replay(session, [event])
        if event["type"] != "epoch":
            continue
        epochs += 1
        dock.flush()
        (x0, x1), (y0, y1) = view.loss_plot.viewRange()
        assert x0 <= 0.0 and total <= x1 <= total * 1.05  # the whole run's width from the start (and the symbols')
        x_ranges.add((x0, x1))
        step_x, step_y = view.step_curve.getData()
        assert y0 <= float(min(step_y)) and float(max(step_y)) <= y1  # every point in view
        moves += (y0, y1) != y_range
        y_range = (y0, y1)
    assert epochs == total and moves <= 4 and len(x_ranges) <= 2  # pyqtgraph's auto-range moved both every epoch


def test_a_zoomed_plot_is_the_users_until_auto_range_gives_it_back(qtbot, run_events):
    doc, events = run_events
    dock, session = make_dock(qtbot, doc, "curves")
    view = dock.view("curves")
    half = len(events) // 2
    replay(session, events[:half])
    dock.flush()
    graphics = view.graphics
    centre = graphics.viewport().rect().center()
    wheel = QWheelEvent(
        QPointF(centre),
        QPointF(graphics.viewport().mapToGlobal(centre)),
        QPoint(),
        QPoint(0, 240),  # two notches: zoom in
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(graphics.viewport(), wheel)
    zoomed = view.loss_plot.viewRange()
    assert zoomed[0][1] - zoomed[0][0] < events[0]["epochs"] * 0.9  # the wheel zoomed in
    replay(session, events[half:])
    dock.flush()
    assert view.loss_plot.viewRange() == zoomed  # new data does not take the view back
    view.loss_plot.autoBtnClicked()  # the plot's "A" button
    (x0, x1), (y0, y1) = view.loss_plot.viewRange()
    assert x0 <= 0.0 and events[0]["epochs"] <= x1 <= events[0]["epochs"] * 1.05
    assert not any(view.loss_plot.getViewBox().autoRangeEnabled())  # kept steady again, not refitted per frame


@pytest.mark.parametrize("name", ["activations", "gradients"])
def test_probe_views_are_drawn_per_probe_not_per_step(qtbot, run_events, name):
    doc, events = run_events
    dock, session = make_dock(qtbot, doc, name)
    view = dock.view(name)
    drawn: list[int] = []
    render = view.render
    view.render = lambda state: (drawn.append(state.version), render(state))  # counts the view's draws
    replay(session, events[:1])
    for event in events[1:]:
        replay(session, [event])
        dock.flush()  # a frame after every event: as many chances to draw as there are events
    probes = sum(1 for e in events if e["type"] == "probe" and e["payload"].get("kind", "probe") == "probe")
    steps = sum(1 for e in events if e["type"] == "step")
    assert probes >= 3 and steps > 3 * probes
    assert 1 <= len(drawn) <= probes  # once per probe at most, whatever the steps between
    assert view.rendered == view.drawn_from(dock.state)  # the last probe is the one shown
