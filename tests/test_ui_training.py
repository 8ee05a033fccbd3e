"""Training from the editor: a real worker process driven by the toolbar, failures, the settings and runs docks.

Three tests spawn a training process (torch takes a few seconds to import there); the rest drive the
docks with runs recorded in-process.
"""

from __future__ import annotations

import graphs
import pytest
from _window_helpers import make_window, screenshot
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest

from graphedit.model.project import Project, project_to_json, save_project
from graphedit.training.session import run_project
from graphedit.ui.runner.banner import FAILED_BADGE
from graphedit.ui.runner.toolbar import eta_text
from graphedit.ui.runner.widgets import available_devices

pytestmark = pytest.mark.gui
SPAWN_TIMEOUT_MS = 90_000  # a fresh process imports torch; the machine may be busy


def tiny_project(folder, **training):
    """Circle, 200 points, MLP 2-16-2."""
    doc = graphs.mlp(in_shape=(2,), hidden=(16,), classes=2)
    settings = {"epochs": 3, "batch_size": 16, "device": "cpu", "lr": 0.02, "seed": 0, **training}
    project = Project(document=doc, dataset={"name": "circle", "options": {"n": 200}}, training=settings)
    return save_project(project, folder / "circle.gproj")


class Seen:
    """Everything a TrainingSession emitted."""

    def __init__(self, session):
        self.started, self.steps, self.epochs, self.probes, self.finished = [], [], [], [], []
        self.failed, self.progress, self.states = [], [], []
        for name in ("started", "step", "epoch", "probe", "finished"):
            getattr(session, name).connect(
                getattr(self, name + "s" if name in ("step", "epoch", "probe") else name).append
            )
        session.failed.connect(lambda message, node: self.failed.append((message, node)))
        session.progress.connect(lambda fraction, eta: self.progress.append((fraction, eta)))
        session.stateChanged.connect(self.states.append)


def click(toolbar, action):
    assert action.isEnabled() and action.isVisible(), action.text()
    QTest.mouseClick(toolbar.widgetForAction(action), Qt.MouseButton.LeftButton)


def open_window(qtbot, tmp_path, **training):
    window = make_window(qtbot, tmp_path)
    assert window.files.open(tiny_project(tmp_path, **training), ask=False)
    return window


@pytest.mark.slow
def test_run_pause_resume_stop_from_the_toolbar(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, epochs=400)
    session, bar, controller = window.session, window.training.toolbar, window.controller
    before = controller.document.to_json()
    seen = Seen(session)
    assert window.workspaces.current == "build"
    click(bar, bar.run)
    # the docks move to the Train workspace at the click, while the worker starts: not once it trains
    assert window.workspaces.current == "train" and not seen.started
    click(bar, bar.pause)  # before the first step: the worker waits after it
    assert session.state == "paused" and bar.resume.isVisible() and not bar.pause.isVisible()
    qtbot.waitUntil(lambda: bool(seen.started), timeout=SPAWN_TIMEOUT_MS)
    assert seen.started[0]["steps_per_epoch"] == 10 and seen.started[0]["info"]["feature_shape"] == [2]
    # the editor stays editable; the run trains its snapshot, edits apply to the next run
    controller.set_param("dense1", "units", 8)
    trained = {n["id"]: n for n in session.snapshot["graph"]["nodes"]}
    assert trained["dense1"]["params"]["units"] == 16
    assert "Training snapshot of" in window.training.banner.text()
    controller.undo_stack.undo()
    reads = []

    def read() -> None:
        reads.append(session.state)

    session.timer.timeout.connect(read)  # after the session's own tick: it read the worker's pipe
    qtbot.waitUntil(lambda: len(reads) >= 12, timeout=10_000)  # the editor read it 12 times (~0.4 s) while paused
    session.timer.timeout.disconnect(read)
    assert seen.steps == [] and set(reads) == {"paused"}  # paused: nothing moves
    click(bar, bar.resume)
    qtbot.waitUntil(lambda: len(seen.epochs) >= 6, timeout=30_000)
    if window.live is not None:  # what a user watches on a 2-D classifier: its decision regions
        window.live.raise_()
        window.live.show_view("regions")
    screenshot(window, "training_window.png")  # during the run: progress, time left, snapshot banner
    click(bar, bar.stop)
    qtbot.waitUntil(lambda: session.state == "idle", timeout=30_000)

    summary = seen.finished[0]["summary"]
    assert summary["status"] == "stopped" and 6 <= summary["epochs"] < 400
    assert seen.states == ["running", "paused", "running", "stopping", "idle"]
    assert seen.steps and all(s["batch"] for s in seen.steps) and seen.steps[-1]["step"] > seen.steps[0]["step"]
    assert [e["epoch"] for e in seen.epochs] == list(range(1, len(seen.epochs) + 1))
    fractions = [f for f, _ in seen.progress]
    assert fractions == sorted(fractions) and 0 < fractions[-2] < 1 and any(eta > 0 for _, eta in seen.progress)
    assert controller.document.to_json() == before  # the graph is intact
    assert window.files.project.weights["path"].startswith("circle.runs/")  # the project took the run's weights
    assert window.files.is_dirty() and "Run" in window.training.banner.text()
    runs = window.training.runs_dock
    assert runs.tree.topLevelItemCount() == 1 and runs.tree.topLevelItem(0).text(1) == "stopped"
    if window.live is not None:
        assert window.live.current_view() == "regions"  # the view that fits a 2-D classifier
        window.live.show_view("curves")
        window.live.flush()
        curves = window.live.view("curves")
        assert any(item.xData is not None and len(item.xData) for item in curves.loss_plot.listDataItems())


@pytest.mark.slow
def test_a_killed_training_process_is_an_error_and_the_editor_keeps_working(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, epochs=400)
    session, bar, controller = window.session, window.training.toolbar, window.controller
    seen = Seen(session)
    window.training.run()
    session.pause()
    qtbot.waitUntil(lambda: bool(seen.started), timeout=SPAWN_TIMEOUT_MS)
    session.process.kill()
    qtbot.waitUntil(lambda: bool(seen.failed), timeout=10_000)
    message, node = seen.failed[0]
    assert "stopped unexpectedly" in message and "exit code -9" in message and node == ""
    assert session.state == "idle" and bar.run.isEnabled() and not bar.stop.isEnabled()
    assert "Training failed" in window.training.banner.text()
    node_id = controller.add_node("Dense", (0, 300))  # still editable
    assert node_id in controller.document
    controller.undo_stack.undo()
    assert node_id not in controller.document


@pytest.mark.slow
def test_nan_in_training_names_and_selects_the_node(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, lr=1e30, optimizer="sgd", momentum=0.0)
    seen = Seen(window.session)
    window.training.run()
    qtbot.waitUntil(lambda: bool(seen.failed), timeout=SPAWN_TIMEOUT_MS)
    message, node = seen.failed[0]
    assert "NaN or infinite" in message and node in window.controller.document
    assert window.controller.selection() == [node]
    assert window.canvas.scene().nodes[node].badge == FAILED_BADGE
    assert node in window.training.banner.text() and "Fix" in window.training.banner.text()
    qtbot.waitUntil(lambda: window.session.state == "idle", timeout=10_000)
    assert window.training.runs_dock.tree.topLevelItem(0).text(1) == "failed"


# ------------------------------------------------------------------------------ docks, no process
def test_settings_edits_are_undoable_and_refuse_bad_numbers(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path)
    dock, project = window.training.settings_dock, window.files.project
    dock.show()
    dock.raise_()
    lr = dock.lr
    assert lr.text() == "0.02"
    lr.setFocus()
    lr.selectAll()
    QTest.keyClicks(lr, "1e-3")
    QTest.keyClick(lr, Qt.Key.Key_Return)
    assert project.training["lr"] == 0.001 and window.files.is_dirty()
    lr.selectAll()
    QTest.keyClicks(lr, "fast")
    QTest.keyClick(lr, Qt.Key.Key_Return)
    assert project.training["lr"] == 0.001 and lr.text() == "0.001"
    dock.epochs.setValue(7)
    assert project.training["epochs"] == 7
    window.controller.undo_stack.undo()
    window.controller.undo_stack.undo()
    assert project.training["lr"] == 0.02 and lr.text() == "0.02" and dock.epochs.value() == 3
    assert not window.files.is_dirty()
    dock.early.setChecked(True)
    assert project.training["early_stopping"]["enabled"] and dock.schedule_form.isRowVisible(dock.patience)


def test_choosing_a_dataset_fits_the_inputs_in_one_undo_step(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path)
    dock, project, doc = window.training.settings_dock, window.files.project, window.controller.document
    assert set(dock._option_widgets) == {"n", "noise", "labels"}
    dock._option_widgets["n"].widget.setValue(300)
    assert project.dataset["options"]["n"] == 300 and "train 240" in dock.info_label.text()
    dock.dataset.setCurrentIndex(dock.dataset.findData("iris"))
    dock.dataset.activated.emit(dock.dataset.currentIndex())
    assert project.dataset["name"] == "iris" and project.dataset["options"] == {}
    assert tuple(doc.params("input1")["shape"]) == (4,) and not dock._option_widgets
    assert "3 classes" in dock.info_label.text()
    window.controller.undo_stack.undo()
    assert project.dataset["name"] == "circle" and tuple(doc.params("input1")["shape"]) == (2,)
    assert dock.dataset.currentData() == "circle" and set(dock._option_widgets) == {"n", "noise", "labels"}


def test_devices_listed_are_the_ones_this_machine_has():
    import torch

    values = [value for value, _ in available_devices()]
    assert values[:2] == ["auto", "cpu"]
    assert ("cuda" in values) == torch.cuda.is_available()


def test_runs_dock_ticks_uses_weights_and_deletes(qtbot, tmp_path):
    path = tiny_project(tmp_path)
    window = make_window(qtbot, tmp_path)
    assert window.files.open(path, ask=False)
    project = window.files.project
    summary = run_project(project_to_json(project), path, {"epochs": 2}, probes=False)
    runs = window.training.runs_dock
    runs.refresh()
    item = runs.tree.topLevelItem(0)
    assert runs.tree.topLevelItemCount() == 1 and item.text(1) == "finished" and item.text(2) == "2"
    assert "accuracy1" in item.text(5) and "adam" in item.toolTip(0)
    overlays = []
    runs.overlayChanged.connect(overlays.append)
    item.setCheckState(0, Qt.CheckState.Checked)
    assert overlays == [[summary["run"]]]
    item.setSelected(True)
    assert runs.use_weights()
    assert project.weights["path"].startswith("circle.runs/") and runs.tree.topLevelItem(0).font(0).bold()
    window.controller.undo_stack.undo()
    assert project.weights is None
    window.controller.set_param("dense1", "units", 8)  # the run's weights no longer fit
    messages = []
    runs.message.connect(lambda text, error: messages.append((text, error)))
    assert not runs.use_weights() and messages[-1][1] and "dense1.weight" in messages[-1][0]
    runs.confirm = lambda text: True
    assert runs.delete_selected()
    assert runs.tree.topLevelItemCount() == 0 and not (tmp_path / summary["run"]).exists()


def test_snapshot_dialog_shows_the_trained_graph_read_only(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path)
    window.session.snapshot = project_to_json(window.files.project)
    window.session.snapshot_time = 0.0
    dialog = window.training.show_snapshot()
    qtbot.addWidget(dialog)
    assert set(dialog.scene.nodes) == set(window.controller.document.node_ids())
    assert not dialog.view.isInteractive()


def test_eta_text():
    assert eta_text(-1) == "estimating…" and eta_text(42) == "about 42 s left" and eta_text(600) == "about 10 min left"


class FakeProcess:
    """Stands in for the worker process: alive until killed (or told otherwise)."""

    def __init__(self):
        self.alive, self.exitcode, self.killed = True, None, 0

    def is_alive(self):
        return self.alive

    def kill(self):
        self.killed += 1
        self.alive, self.exitcode = False, -9

    def join(self, timeout=None):
        pass


def fake_run(session):
    """A session listening to a pipe the test writes, as a worker would."""
    import multiprocessing

    from graphedit.ui.runner.worker import RUN

    reader, writer = multiprocessing.Pipe(duplex=False)
    session.process, session.conn, session.control = FakeProcess(), reader, multiprocessing.RawValue("i", RUN)
    session._ended = session._eof = False
    session._set_state("running")
    return writer


def test_session_coalesces_steps_and_keeps_the_order_of_events(qtbot, monkeypatch):
    from graphedit.ui.runner import process
    from graphedit.ui.runner.process import TrainingSession

    monkeypatch.setattr(process, "TICK_BUDGET_S", 10.0)  # one tick reads everything, however busy the machine
    session = TrainingSession()
    seen, order = Seen(session), []
    for name in ("started", "step", "epoch", "probe", "finished"):
        getattr(session, name).connect(lambda _m, n=name: order.append(n))
    writer = fake_run(session)
    writer.send({"type": "started", "info": {}, "steps_per_epoch": 2, "epochs": 2, "run_dir": "", "node_ids": []})
    for step in (1, 2):
        writer.send({"type": "step", "step": step, "epoch": 1, "loss": 1.0 / step, "metrics": {}})
    writer.send({"type": "probe", "step": 2, "payload": {"kind": "probe", "n": 1}})
    writer.send({"type": "probe", "step": 2, "payload": {"kind": "probe", "n": 2}})
    writer.send({"type": "epoch", "epoch": 1, "step": 2, "train": {}, "val": None, "lr": 0.1, "seconds": 0.1})
    row = {"step": 3, "epoch": 2, "loss": 0.2, "metrics": {}}
    writer.send({"type": "step", **row, "batch": [row, {**row, "step": 4}]})  # a worker's batch
    writer.send({"type": "finished", "summary": {"status": "finished"}, "run_dir": ""})
    session._tick()
    assert order == ["started", "step", "probe", "epoch", "step", "finished"]  # held ones go before the next event
    assert [r["step"] for r in seen.steps[0]["batch"]] == [1, 2] and seen.steps[0]["step"] == 2
    assert [r["step"] for r in seen.steps[1]["batch"]] == [3, 4]
    assert [p["payload"]["n"] for p in seen.probes] == [2]  # only the newest probe of a tick is drawn
    assert seen.progress[-1] == (1.0, 0.0) and 0 < seen.progress[1][0] < 1
    session.process.alive = False
    session._tick()
    assert session.state == "idle" and not seen.failed


def test_a_second_stop_kills_a_process_that_does_not_obey(qtbot):
    from graphedit.ui.runner.process import TrainingSession
    from graphedit.ui.runner.worker import STOP

    session = TrainingSession()
    seen = Seen(session)
    writer = fake_run(session)
    session.stop()
    assert session.control.value == STOP and session.state == "stopping" and session.process.killed == 0
    session.stop()  # a step that hangs: the user asks again
    assert session.process.killed == 1
    writer.close()
    session._tick()
    assert session.state == "idle" and not seen.failed  # the user ended it: a stopped run, not a failure
    assert seen.finished[0]["summary"] == {"status": "stopped", "epochs": 0, "killed": True}


def test_a_success_banner_hides_itself_but_an_error_stays(qtbot):
    from PySide6.QtWidgets import QWidget

    from graphedit.ui.runner.banner import CanvasBanner

    canvas = QWidget()
    qtbot.addWidget(canvas)
    canvas.resize(600, 400)
    canvas.show()
    banner = CanvasBanner(canvas)
    banner.show_text("Training finished", "done", hide_after_ms=50)
    assert banner.text() == "Training finished"
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=2000)
    banner.show_text("old", "done", hide_after_ms=50)
    banner.show_text("Training failed", "error")  # a newer message is not hidden by the old timer
    later = []
    QTimer.singleShot(100, lambda: later.append(True))  # due after the old timer, so it fires after it
    qtbot.waitUntil(lambda: bool(later), timeout=2000)
    assert banner.text() == "Training failed"


@pytest.mark.slow
def test_a_finished_run_lets_the_editor_quit_without_a_question(qtbot, tmp_path):
    """The run reported its end: Run is offered again at once, and closing (its process may still be exiting)
    asks nothing about training; a run that is training still asks."""
    window = open_window(qtbot, tmp_path, epochs=2)
    session, prompts, bar = window.session, window.files.prompts, window.training.toolbar
    seen = Seen(session)
    window.training.run()
    qtbot.waitUntil(lambda: bool(seen.finished), timeout=SPAWN_TIMEOUT_MS)
    assert seen.finished[0]["summary"]["status"] == "finished"
    assert not window.files.training_running()  # the run is over, whatever its process is doing
    assert bar.run.isEnabled() and not bar.stop.isEnabled() and not bar.pause.isEnabled()
    window.files.save()
    assert window.close()
    assert prompts.asked == [] and session.state == "idle"
    (tmp_path / "again").mkdir()
    window = open_window(qtbot, tmp_path / "again", epochs=400)
    prompts, seen = window.files.prompts, Seen(window.session)
    window.training.run()
    qtbot.waitUntil(lambda: bool(seen.started), timeout=SPAWN_TIMEOUT_MS)
    assert window.close() and prompts.asked == ["stop_training"]
