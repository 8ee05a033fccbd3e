"""Live views: fed by a (fake) training session with the events of real in-process runs; screenshots of each."""

from __future__ import annotations

import json
import time
from pathlib import Path

import graphs
import numpy as np
import pytest
import torch
from _live_helpers import FakeSession, char_model, conv_autoencoder, lenet, replay, train_events
from _window_helpers import SCREENSHOTS as SHOTS
from _window_helpers import settle
from graphkit import build, chain
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from graphedit.training.datasets import load_dataset
from graphedit.ui.canvas.view import CanvasView
from graphedit.ui.controller import EditorController
from graphedit.ui.live import LiveViewsDock

pytestmark = pytest.mark.gui

CIRCLE = {"name": "circle", "options": {"n": 400, "noise": 0.05}}
DIGITS = {"name": "digits", "options": {"as_images": True, "size": 16}, "split": {"val": 0.2}}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Two cores are shared with other work: one thread per process trains these tiny models fastest."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def circle_run():
    """Lesson 2: two ReLU hidden layers on the circle."""
    doc = graphs.mlp((2,), (6, 4), 2)
    return doc, train_events(doc, CIRCLE, {"epochs": 12, "lr": 0.03, "batch_size": 16, "probe_every": 10})


@pytest.fixture(scope="module")
def cnn_run():
    doc = lenet(16)
    return doc, train_events(doc, DIGITS, {"epochs": 3, "lr": 0.01, "probe_every": 15})


def make_dock(qtbot, doc, with_canvas=False):
    controller = EditorController(doc)
    canvas = None
    if with_canvas:
        canvas = CanvasView(controller)
        qtbot.addWidget(canvas)
        canvas.resize(1100, 420)
        with qtbot.waitExposed(canvas):
            canvas.show()
    dock = LiveViewsDock(controller, canvas=canvas)
    qtbot.addWidget(dock)
    dock.resize(1000, 640)
    dock.move(1200, 0)  # offscreen, the mouse goes to the first window under it: keep the canvas uncovered
    with qtbot.waitExposed(dock):
        dock.show()
    session = FakeSession()
    dock.attach(session)
    return dock, session, controller, canvas


def shoot(widget, name: str) -> QImage:
    settle()  # the page's layout settles
    SHOTS.mkdir(parents=True, exist_ok=True)
    image = widget.grab().toImage()
    image.save(str(SHOTS / name))
    return image


def stacked(images: list[QImage], name: str) -> None:
    """Several view grabs one above the other in one screenshot."""
    width = max(i.width() for i in images)
    out = QImage(width, sum(i.height() for i in images), QImage.Format.Format_RGB32)
    out.fill(QColor("#808080"))
    painter = QPainter(out)
    y = 0
    for image in images:
        painter.drawImage(0, y, image)
        y += image.height()
    painter.end()
    SHOTS.mkdir(parents=True, exist_ok=True)
    out.save(str(SHOTS / name))


def probes(events):
    return [e for e in events if e["type"] == "probe" and e["payload"]["kind"] == "probe"]


def test_decision_regions_update_while_a_2d_classifier_trains(qtbot, circle_run):
    doc, events = circle_run
    dock, session, controller, canvas = make_dock(qtbot, doc, with_canvas=True)
    dock.show_view("regions")
    view = dock.view("regions")
    first = probes(events)[0]
    cut = events.index(first) + 1
    replay(session, events[:cut])
    dock.flush()
    assert view.showing_body()
    before = view.image.image.copy()
    assert before.shape == (48, 48, 3)
    points = first["payload"]["points"]
    assert len(view.points.data) == len(points["x"]) > 100
    replay(session, events[cut:])
    dock.flush()
    after = view.image.image
    assert not np.array_equal(before, after), "the regions did not change as the network trained"
    # the trained network calls the centre class 1 (blue) and the corners class 0 (orange)
    centre, corner = after[24, 24].astype(int), after[1, 1].astype(int)
    assert centre[2] > centre[0] and corner[0] > corner[2]
    assert view.shown_nodes == ["act1", "act2"] and len(view.unit_cells) == 10  # every hidden layer's units
    controller.set_selection(["dense2"])
    dock.flush()
    assert view.shown_node == "dense2" and len(view.unit_cells) == 4
    # hovering a node on the canvas shows its units
    item = canvas.scene().nodes["act1"]
    at = canvas.mapFromScene(item.sceneBoundingRect().center())
    QTest.mouseMove(canvas.viewport(), at)
    qtbot.waitUntil(lambda: view.shown_node == "act1", timeout=2000)
    QTest.mouseMove(canvas.viewport(), QPoint(2, 2))
    qtbot.waitUntil(lambda: view.shown_node == "dense2", timeout=2000)
    controller.set_selection([])
    dock.flush()
    shoot(dock, "live_regions.png")
    # the canvas shows live badges and wires coloured by gradient norm, and both can be switched off
    assert canvas.scene().nodes["act1"].badge.startswith(("dead", "μ"))
    wire = canvas.scene().edges[next(e for e in doc.edges() if e.dst == "dense2")]
    assert wire.color is not None
    canvas.auto_layout()
    shoot(canvas, "live_canvas_badges.png")
    dock.badges_box.setChecked(False)
    dock.edges_box.setChecked(False)
    assert canvas.scene().nodes["act1"].badge == "" and wire.color is None


def test_one_dimensional_regression_shows_the_fitted_curve(qtbot):
    """Lesson 15: the network's output as a curve through the noisy training points."""
    doc = graphs.regression_mlp(1, hidden=(8,))
    spec = {"name": "regression1d", "options": {"n": 200, "noise": 0.5}}
    events = train_events(doc, spec, {"epochs": 20, "lr": 0.05, "batch_size": 8, "probe_every": 40})
    dock, session, *_ = make_dock(qtbot, doc)
    replay(session, events)
    dock.show_view("regions")
    dock.flush()
    fit = dock.view("regions").fit
    assert fit.graphics.isVisible() and not dock.view("regions").graphics.isVisible()
    xs, ys = fit.curve.getData()
    px, py = fit.points.getData()
    assert len(xs) == 192 and len(px) == 160
    assert np.mean((np.interp(px, xs, ys) - py) ** 2) < 0.5  # the curve runs through the points
    shoot(dock, "live_regression.png")


def test_a_burst_of_probes_draws_at_most_ten_frames_a_second(qtbot, circle_run):
    doc, events = circle_run
    dock, session, *_ = make_dock(qtbot, doc)
    dock.show_view("activations")
    replay(session, events[:1])
    probe = probes(events)[-1]
    view = dock.view("activations")
    frames, start = dock.throttle.frames, time.monotonic()
    for i in range(300):  # the event loop runs between probes, as it does while a real session delivers them
        session.probe.emit({**probe, "step": i, "payload": {**probe["payload"], "step": i}})
        QApplication.processEvents()
    qtbot.waitUntil(lambda: not dock.throttle.pending(), timeout=2000)  # the burst's last frame is drawn
    elapsed = time.monotonic() - start
    assert dock.throttle.frames - frames <= 1 + elapsed * 11  # ≤ 10 a second (a timer may fire up to 5% early)
    assert dock.state.probe["step"] == 299 and view.rendered == view.drawn_from(dock.state)
    # a hidden dock (another tab in front) skips drawing and catches up when shown
    dock.hide()
    drawn = view.rendered
    session.probe.emit({**probe, "step": 300, "payload": {**probe["payload"], "step": 300}})
    dock.flush()
    assert view.rendered == drawn
    dock.show()
    qtbot.waitUntil(lambda: view.rendered == view.drawn_from(dock.state), timeout=2000)


def test_curves_log_scale_and_overlaid_runs(qtbot, circle_run, tmp_path):
    doc, events = circle_run
    dock, session, *_ = make_dock(qtbot, doc)
    replay(session, events)
    dock.show_view("curves")
    view = dock.view("curves")
    epochs = [e for e in events if e["type"] == "epoch"]
    x, y = view.val_curve.getData()
    assert len(x) == len(epochs) and y[-1] == pytest.approx(epochs[-1]["val"]["loss"])
    assert "accuracy1" in view.metric_curves and "loss1" not in view.metric_curves
    view.log_box.setChecked(True)
    assert view.loss_plot.getAxis("left").logMode
    runs = []
    for name, scale in (("run-a", 1.0), ("run-b", 1.6)):
        folder = tmp_path / name
        folder.mkdir()
        rows = [{"epoch": e["epoch"], "train_loss": e["train"]["loss"] * scale, "val_loss": 0.9} for e in epochs]
        (folder / "metrics.json").write_text(json.dumps(rows))
        runs.append(str(folder))
    assert dock.overlay_runs([*runs, str(tmp_path / "missing")]) == runs
    assert len(view.overlays) == 4 and dock.current_view() == "curves"
    shoot(dock, "live_curves.png")
    dock.show_view("regions")
    assert dock.overlay_runs([]) == [] and dock.current_view() == "regions" and not view.overlays
    view.log_box.setChecked(False)
    assert not view.loss_plot.getAxis("left").logMode


def test_vanishing_activations_and_gradients_of_a_deep_tanh_net(qtbot):
    """Lesson 4: ten tanh layers with ±0.01 weights: the activations shrink to zero layer after layer."""
    depth = 8
    nodes = [("input1", "Input", {"shape": [64]})]
    ids = ["input1"]
    for i in range(1, depth + 1):
        nodes += [(f"dense{i}", "Dense", {"units": 64, "init": "uniform"}), (f"tanh{i}", "Tanh", {})]
        ids += [f"dense{i}", f"tanh{i}"]
    nodes += [("out", "Dense", {"units": 10}), ("target1", "Target", {}), ("loss1", "SoftmaxCrossEntropy", {})]
    doc = build(nodes, [*chain(*ids, "out"), "out -> loss1.pred", "target1 -> loss1.target"])
    events = train_events(doc, {"name": "digits"}, {"epochs": 2, "optimizer": "sgd", "lr": 0.01, "probe_every": 8})
    dock, session, controller, _ = make_dock(qtbot, doc)
    replay(session, events)
    dock.show_view("activations")
    controller.set_selection(["tanh1", "tanh2", "tanh4", "tanh8"])
    dock.flush()
    view = dock.view("activations")
    layers = view.layers(dock.state)
    assert layers == [f"tanh{i}" for i in range(1, depth + 1)]  # activation layers only
    tanh_std = list(view.std_curve.yData)
    assert tanh_std[0] > 10 * tanh_std[-1], tanh_std
    assert list(view.hist_plots) == ["tanh1", "tanh2", "tanh4", "tanh8"]
    assert view.time_image.image is not None and view.time_image.image.shape[0] == 60
    shoot(dock, "live_activations.png")
    dock.show_view("gradients")
    dock.flush()
    assert len(dock.view("gradients").curves) == depth + 1
    shoot(dock, "live_gradients.png")


def test_cnn_feature_maps_filters_predictions_and_confusion(qtbot, cnn_run):
    doc, events = cnn_run
    dock, session, controller, _ = make_dock(qtbot, doc)
    dock.resize(1000, 420)
    replay(session, events)
    shots = []
    for name in ("feature_maps", "filters", "predictions"):
        dock.show_view(name)
        dock.flush()
        assert dock.view(name).showing_body(), name
        settle()  # the page's layout settles
        shots.append(dock.grab().toImage())
    stacked(shots, "live_cnn.png")
    assert len(dock.view("filters").grid.cells) == 8
    predictions = dock.view("predictions")
    assert len(predictions.grid.cells) == 16 and "probe images right" in predictions.header.text()
    dock.show_view("feature_maps")
    controller.set_selection(["conv2"])
    dock.flush()
    assert "conv2" in dock.view("feature_maps").header.text()
    assert len(dock.view("feature_maps").grid.cells) == 17  # the input and 16 channels
    dock.show_view("confusion")
    dock.flush()
    confusion = dock.view("confusion")
    assert confusion.slider.maximum() == 2 and "accuracy" in confusion.header.text()
    confusion.slider.setValue(0)
    assert confusion.header.text().startswith("Epoch 1")
    dock.resize(640, 560)
    dock.flush()
    shoot(dock, "live_confusion.png")
    # views that do not apply to image classification are greyed out in the list
    model = dock.combo.model()
    assert not model.item(dock.views().index("regions")).isEnabled()
    assert not model.item(dock.views().index("text")).isEnabled()


def test_autoencoder_reconstructions(qtbot):
    doc = conv_autoencoder(16)
    spec = {"name": "digits", "options": {"as_images": True, "size": 16, "task": "reconstruct"}, "split": {"val": 0.2}}
    events = train_events(doc, spec, {"epochs": 3, "lr": 0.02, "probe_every": 30})
    dock, session, *_ = make_dock(qtbot, doc)
    dock.resize(1000, 380)
    replay(session, events)
    dock.show_view("reconstructions")
    dock.flush()
    view = dock.view("reconstructions")
    assert view.showing_body() and len(view.grid.cells) == 16
    assert "mean squared error" in view.header.text()
    assert not dock.combo.model().item(dock.views().index("confusion")).isEnabled()
    settle()  # the page's layout settles
    shots = [dock.grab().toImage()]
    dock.show_view("feature_maps")
    dock.flush()
    settle()
    shots.append(dock.grab().toImage())
    stacked(shots, "live_autoencoder.png")


def test_character_model_samples_text(qtbot):
    spec = {"name": "text", "options": {"max_chars": 4000}}
    vocab = load_dataset(spec).info.num_classes
    events = train_events(char_model(vocab), spec, {"epochs": 2, "lr": 0.01, "probe_every": 40})
    samples = [p["payload"]["samples"] for p in probes(events)]
    assert samples and all(len(s["greedy"]) == len(s["random"]) == 80 for s in samples)
    dock, session, *_ = make_dock(qtbot, char_model(vocab))
    replay(session, events)
    dock.show_view("text")
    dock.flush()
    html = dock.view("text").edit.toPlainText()
    assert samples[-1]["greedy"].replace("\n", "↵")[:20] in html and "T = 1" in html
    shoot(dock, "live_text.png")


def test_failure_is_shown_and_a_new_run_starts_clean(qtbot, circle_run):
    doc, events = circle_run
    dock, session, *_ = make_dock(qtbot, doc)
    replay(session, events[:20])
    session.failed.emit("values became NaN at node 'dense2'", "dense2")
    assert "failed" in dock.status.text() and "dense2" in dock.status.text()
    replay(session, events[:1])
    dock.flush()
    assert dock.state.probe is None and dock.state.status == "running"
    other = FakeSession()
    dock.attach(other)
    session.step.emit({"step": 1, "epoch": 1, "loss": 1.0, "metrics": {}})
    assert not dock.state.steps  # the old session is let go
    other.step.emit({"step": 1, "epoch": 1, "loss": 1.0, "metrics": {}})
    assert dock.state.steps == [1]


def test_every_view_shows_a_note_before_data(qtbot):
    dock, *_ = make_dock(qtbot, graphs.mlp())
    for name in dock.views():
        dock.show_view(name)
        dock.render_now()
        assert not dock.view(name).showing_body() and dock.view(name).note.text(), name
    assert dock.current_view() == "text"
    with pytest.raises(KeyError):
        dock.show_view("nope")
    _ = (QPointF, Qt)


@pytest.mark.slow
def test_a_real_training_session_feeds_the_views(qtbot, tmp_path):
    """The worker process and TrainingSession of the editor: coalesced steps, dicts through Qt signals."""
    from graphedit.model.project import Project, save_project
    from graphedit.ui.runner.process import TrainingSession

    doc = graphs.mlp((2,), (6, 4), 2)
    settings = {
        "epochs": 4,
        "batch_size": 16,
        "device": "cpu",
        "lr": 0.03,
        "seed": 0,
        "probe_every": 10,
        "log_every": 2,
    }
    path = save_project(Project(document=doc, dataset=CIRCLE, training=settings), tmp_path / "circle.gproj")
    dock, _, controller, _ = make_dock(qtbot, doc)
    session = TrainingSession()
    dock.attach(session)
    dock.show_view("regions")
    with qtbot.waitSignal(session.finished, timeout=90_000):
        session.start(Project(document=doc, dataset=CIRCLE, training=settings, path=path))
    dock.flush()
    state = dock.state
    assert state.status == "finished" and state.steps == sorted(set(state.steps)) and len(state.steps) == 40
    assert dock.view("regions").showing_body() and dock.view("regions").shown_nodes == ["act1", "act2"]
    assert dock.view("activations").layers(state) == ["act1", "act2"]
    assert state.confusions and state.confusions[-1]["matrix"].sum() == 80


def test_live_dock_in_the_editor_window(qtbot, tmp_path):
    """Lesson 4's example in the editor: the dock below the canvas, low, still readable (its page scrolls)."""
    from _window_helpers import make_window

    from graphedit.model.project import load_project

    source = Path(__file__).parents[1] / "projects" / "04a_tanh_small_init.gproj"
    path = tmp_path / source.name
    path.write_bytes(source.read_bytes())
    window = make_window(qtbot, tmp_path)
    assert window.files.open(path, ask=False)
    project = load_project(path)
    settings = {**project.training, "epochs": 1, "probe_every": 10}
    events = train_events(project.document, project.dataset, settings)
    dock = window.live
    dock.raise_()
    for event in events:  # as the window's session would deliver them
        dock.ingest(event)
    dock.show_view("activations")
    dock.flush()
    view = dock.view("activations")
    assert view.showing_body() and view.layers(dock.state) == [f"tanh{i}" for i in range(1, 11)]
    assert view.scroll.verticalScrollBar().maximum() > 0 or view.height() >= view.min_height
    qtbot.waitUntil(lambda: not window.canvas.fit_pending, timeout=2000)  # the zoom to fit queued by loading
    shoot(window, "live_window.png")
