"""Steady plot ranges and probe-driven redraws: what keeps the editor's thread light while a run is watched.

An axis whose range changes rebuilds its ticks, labels and grid on the editor's thread; a probe view drawn again
for every step event redraws the same picture. These tests count those, they do not time anything."""

from __future__ import annotations

import graphs
import numpy as np
import pytest
import torch
from _live_helpers import FakeSession, replay, train_events
from _window_helpers import make_window, screenshot, settle
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from graphedit.ui.controller import EditorController
from graphedit.ui.live import LiveViewsDock
from graphedit.ui.live.curves import MARKED_EPOCHS
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


def make_dock(qtbot, doc, view, session_type=FakeSession):
    dock = LiveViewsDock(EditorController(doc))
    qtbot.addWidget(dock)
    dock.resize(1000, 640)
    with qtbot.waitExposed(dock):
        dock.show()
    session = session_type()
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


class RunSession(FakeSession):
    stateChanged = Signal(str)  # noqa: N815 - TrainingSession's name
    launched = Signal()

    def launch(self):
        """What TrainingSession.start emits."""
        self.stateChanged.emit("running")
        self.launched.emit()


def without(events, key):
    """The same run with one metric fewer (a run of another graph)."""
    out = []
    for event in events:
        event = {**event}
        if event["type"] == "step":
            event["metrics"] = {k: v for k, v in event["metrics"].items() if k != key}
        elif event["type"] == "epoch":
            for side in ("train", "val"):
                event[side] = {k: v for k, v in (event.get(side) or {}).items() if k != key}
        out.append(event)
    return out


def shots(dock, name):
    """The dock as a user sees it, large and at 1280×720."""
    for width, height in ((1600, 1000), (1280, 720)):
        dock.resize(width, height)
        screenshot(dock, f"{name}_{width}x{height}.png")


def points(curve):
    return 0 if curve.xData is None else len(curve.xData)


def test_the_next_run_keeps_the_curves_laid_out_from_the_run_click_on(qtbot, run_events):
    """At Run the curves page shows its plots, emptied, while the worker starts; through the run's first steps the
    plots keep their places and the x axis its planned epochs (the note shown until the first step, and the metrics'
    plot hidden until then, laid the page out and drew its axes again in the run's first frames)."""
    doc, events = run_events
    dock, session = make_dock(qtbot, doc, "curves", RunSession)
    view = dock.view("curves")
    assert not view.showing_body()  # no run yet: the note says where curves come from
    session.launch()
    assert view.showing_body() and points(view.step_curve) == 0
    session.stateChanged.emit("idle")  # stopped before it started: the note again
    assert not view.showing_body()
    replay(session, events)
    dock.flush()
    x_range = view.loss_plot.viewRange()[0]
    assert view.metric_curves and view.metric_graphics.isVisible()
    session.launch()  # Run again
    dock.flush()
    assert view.showing_body() and view.metric_graphics.isVisible()
    shots(dock, "live_curves_at_run")
    assert all(points(c) == 0 for cs in (*view.metric_curves.values(), (view.step_curve,)) for c in cs)
    hidden, x_ranges = 0, {tuple(x_range)}
    for event in events:
        replay(session, [event])
        dock.flush()
        hidden += not view.metric_graphics.isVisible()
        x_ranges.add(tuple(view.loss_plot.viewRange()[0]))
    assert hidden == 0 and len(x_ranges) == 1
    key = next(iter(view.metric_curves))
    session.launch()  # a run of a graph without that metric: its curves go, legend and all
    replay(session, without(events, key))
    dock.flush()
    assert key not in view.metric_curves and key not in view.metric_legend.text()


def test_the_activations_page_is_laid_out_at_the_run_click_and_emptied(qtbot, run_events):
    """Its plots show, emptied, from the Run click until the first probe (the page's first layout and paint, ~40 ms,
    fell in the run's first frames); with no run, the note."""
    doc, events = run_events
    dock, session = make_dock(qtbot, doc, "activations", RunSession)
    view = dock.view("activations")
    assert not view.showing_body()
    replay(session, events)
    dock.flush()
    assert points(view.std_curve) > 0 and view.hist_plots and view.time_image.image is not None
    session.launch()
    assert view.showing_body() and "first probe" in view.header.text()
    assert points(view.std_curve) == 0 and view.time_image.image is None
    assert all(points(curve) == 0 and not sigma.toPlainText() for _, curve, _, sigma in view.hist_plots.values())
    shots(dock, "live_activations_at_run")
    session.stateChanged.emit("idle")
    assert not view.showing_body()


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
    view.render = lambda state: (drawn.append(state.version), render(state))[1]  # counts the view's draws
    replay(session, events[:1])
    for event in events[1:]:
        replay(session, [event])
        dock.flush()  # a frame after every event: as many chances to draw as there are events
    probes = sum(1 for e in events if e["type"] == "probe" and e["payload"].get("kind", "probe") == "probe")
    steps = sum(1 for e in events if e["type"] == "step")
    assert probes >= 3 and steps > 3 * probes
    assert 1 <= len(drawn) <= probes  # once per probe at most, whatever the steps between
    assert view.rendered == view.drawn_from(dock.state)  # the last probe is the one shown


class LayoutRequests(QObject):
    """Counts the layout requests a widget receives: each lays it, and all inside it, out again."""

    def __init__(self, widget) -> None:
        super().__init__(widget)  # goes with the widget
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        self.count += event.type() == QEvent.Type.LayoutRequest
        return False


def test_the_frames_of_a_run_lay_the_window_out_no_more(qtbot, tmp_path, run_events):
    """The live dock's status and the toolbar's time left change with every frame: the window stays laid out."""
    doc, events = run_events
    window = make_window(qtbot, tmp_path)
    dock, toolbar = window.live, window.training.toolbar
    dock.show()
    dock.raise_()
    dock.show_view("curves")
    steps = [e for e in events if e["type"] == "step"][:24]
    for event in [events[0], *steps[:4]]:  # the run's first frames: the plots appear, the metrics' plot with them
        dock.ingest(event)
        dock.flush()
    settle()
    requests = LayoutRequests(window)
    steps = steps[4:]
    # the toolbar shows the time left of a running session (undone before the window closes: it would stop the run)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(window.session, "state", "running")
        for i, event in enumerate(steps):
            dock.ingest(event)
            dock.flush()
            toolbar.show_progress((i + 1) / 100, 100.0 - i)  # "about 100 s left", "about 99 s left", …
            QApplication.processEvents()
    window.removeEventFilter(requests)
    status, eta = dock.status.text(), toolbar.eta.text()
    assert f"step {steps[-1]['step']}" in status and eta == "about 81 s left", (status, eta)
    assert requests.count == 0
    dock.ingest({"type": "failed", "message": "NaN loss", "node_id": "dense2"})
    dock.flush()
    assert dock.status.text() == "failed (node dense2)"
    screenshot(window, "live_frames_status.png")
    window.resize(1280, 720)
    screenshot(window, "live_frames_status_1280x720.png")


def test_per_epoch_curves_mark_each_epoch_while_there_are_few(qtbot):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        doc = graphs.mlp((2,), (4,), 2)
        settings = {"epochs": MARKED_EPOCHS + 2, "lr": 0.03, "batch_size": 50, "probe_every": -1}
        events = train_events(doc, {**CIRCLE, "options": {"n": 200}}, settings)
    finally:
        torch.set_num_threads(threads)
    dock, session = make_dock(qtbot, doc, "curves")
    view = dock.view("curves")
    few = next(i for i, e in enumerate(events) if e["type"] == "epoch" and e["epoch"] == MARKED_EPOCHS)
    replay(session, events[: few + 1])
    dock.flush()
    assert (view.train_curve.opts["symbol"], view.val_curve.opts["symbol"]) == ("o", "s")
    assert len(view.train_curve.getData()[0]) == MARKED_EPOCHS and "●" in view.loss_legend.text()
    replay(session, events[few + 1 :])
    dock.flush()
    assert view.train_curve.opts["symbol"] is None and view.val_curve.opts["symbol"] is None
    assert len(view.train_curve.getData()[0]) == MARKED_EPOCHS + 2
    assert "●" not in view.loss_legend.text() and "■" not in view.loss_legend.text()  # the legend says so too


def test_the_canvas_badges_follow_a_probe_between_two_frames_of_the_views(qtbot, run_events):
    doc, events = run_events
    dock, session = make_dock(qtbot, doc, "curves")
    probe = next(i for i, e in enumerate(events) if e["type"] == "probe")
    replay(session, events[: probe + 1])
    dock.throttle.flush()  # the views' frame: the canvas waits half a frame
    assert dock.overlay.badges == {}
    qtbot.waitUntil(lambda: bool(dock.overlay.badges), timeout=2000)
    assert set(dock.overlay.badges) <= set(doc.node_ids())


def test_a_probe_views_frame_is_drawn_in_parts_with_the_event_loop_turning_between(qtbot, run_events):
    """The activations page draws its layer plots first, then its histograms, then the image over time: each repaints
    in its own turn of the event loop, and input is read between them."""
    doc, events = run_events
    dock, session = make_dock(qtbot, doc, "activations")
    view = dock.view("activations")
    probe = next(i for i, e in enumerate(events) if e["type"] == "probe")
    replay(session, events[: probe + 1])
    dock.throttle.flush()  # the frame's first part only
    assert view.showing_body() and view.hist_plots == {} and view.time_image.image is None
    qtbot.waitUntil(lambda: view.time_image.image is not None, timeout=2000)  # the rest, in later turns
    assert set(view.hist_plots) <= set(doc.node_ids()) and view.hist_plots
    replay(session, events[probe + 1 :])
    dock.flush()  # at once, every part: tests and screenshots see whole frames
    assert view.rendered == view.drawn_from(dock.state)
    steps = [s for s, _, _ in dock.state.act_history[view.focus_node(view.layers(dock.state))]]
    assert view.time_image.image.shape[1] == max(2, min(240, len(steps)))


def test_a_long_runs_per_step_curve_is_drawn_at_about_a_point_per_pixel(qtbot, run_events):
    doc, events = run_events
    dock, session = make_dock(qtbot, doc, "curves")
    started = {**events[0], "steps_per_epoch": 100, "epochs": 60}
    rng = np.random.default_rng(0)
    losses = np.exp(-np.arange(6000) / 2000) + 0.05 * rng.random(6000)
    rows = [{"step": s + 1, "epoch": s // 100 + 1, "loss": float(v), "metrics": {}} for s, v in enumerate(losses)]
    replay(session, [started, {"type": "step", **rows[-1], "batch": rows}])
    dock.flush()
    view = dock.view("curves")
    assert len(view.step_curve.xData) == 6000  # every step is kept
    drawn = view.step_curve.getData()[0]  # what is drawn: a mean of the steps at each pixel
    pixels = view.loss_plot.getViewBox().width()
    assert 0.5 * pixels <= len(drawn) <= 1.5 * pixels
    assert drawn[0] < 1.0 and drawn[-1] > 59.0  # the whole run, start to end
