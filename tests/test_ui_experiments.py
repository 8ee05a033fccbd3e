"""Sweeps in the editor: mark parameters in the Inspector and the Training panel, run a sweep from the Experiments
panel, see its trials arrive in the Runs table and its views, apply the best trial, undo it."""

from __future__ import annotations

import json

import graphs
import pytest
from _window_helpers import make_window, screenshot
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from graphedit.model.project import Project, save_project
from graphedit.ui.runner.run_records import read_run
from graphedit.ui.runner.runs_table import TRIAL, Column, cell

pytestmark = pytest.mark.gui
SWEEP_TIMEOUT_MS = 150_000  # two worker processes import torch on a shared 2-core machine, then train 4 tiny trials


def _window(qtbot, tmp_path):
    doc = graphs.mlp(in_shape=(2,), hidden=(16,), classes=2)
    settings = {"epochs": 2, "batch_size": 40, "device": "cpu", "lr": 0.02, "seed": 0, "probe_every": -1}
    project = Project(document=doc, dataset={"name": "circle", "options": {"n": 160}}, training=settings)
    path = save_project(project, tmp_path / "circle.gproj")
    window = make_window(qtbot, tmp_path)
    assert window.files.open(path, ask=False)
    return window


def _mark(qtbot, button, text):
    """Click a sweep button, type the values into its dialog's list, press OK."""
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = button.dialog
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    if not dialog.as_list.isChecked():
        qtbot.mouseClick(dialog.as_list, Qt.MouseButton.LeftButton)
    dialog.values.selectAll()
    qtbot.keyClicks(dialog.values, text)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    return dialog


def _choose(qtbot, combo, text):
    """Pick an item of a combo box with the arrow keys, as a user at the keyboard does."""
    combo.setFocus()
    while combo.currentText() != text:
        qtbot.keyClick(combo, Qt.Key.Key_Down)


def _type_number(qtbot, spin, value):
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, str(value))
    qtbot.keyClick(spin, Qt.Key.Key_Return)


HANG = pytest.mark.skip(
    reason="after the merges of this stop, a sweep started from the panel hangs in the suite (the sweep thread stops "
    "inside optuna's trial.report while the editor waits); to be found before this runs again"
)


def test_marks_are_one_undo_step_each_and_bad_values_are_refused(qtbot, tmp_path):
    window = _window(qtbot, tmp_path)
    project, stack = window.files.project, window.controller.undo_stack
    window.controller.set_selection(["dense1"])
    button = window.inspector.mark_buttons["units"]
    assert button.text() == "sweep"
    dialog = _mark(qtbot, button, "0, 8")  # the Dense node takes no 0 units: refused with the node's message
    assert dialog.isVisible() and dialog.error.isVisible() and "units" in dialog.error.text()
    assert project.experiment["params"] == {}
    dialog.values.selectAll()
    qtbot.keyClicks(dialog.values, "4, 8")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert project.experiment["params"] == {"dense1.units": "4,8"}
    assert "4,8" in button.text()
    screenshot(window, "inspector_sweep_mark.png")
    lr = window.training.settings_dock.mark_buttons["lr"]
    dialog = lr.edit()
    assert dialog.as_range.isChecked() and dialog.log.isChecked()  # a learning rate suggests a log range
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert project.experiment["params"]["lr"] == "0.002..0.2:log"
    window.training.settings_dock.raise_()
    screenshot(window, "training_sweep_marks.png")
    stack.undo()
    assert project.experiment["params"] == {"dense1.units": "4,8"} and "lr" not in lr.text()
    dialog = button.edit()
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert project.experiment["params"] == {} and button.text() == "sweep"
    stack.undo()
    assert project.experiment["params"] == {"dense1.units": "4,8"}
    name = window.inspector.name_edit  # a renamed node keeps its marks, and undo renames them back
    name.setFocus()
    name.selectAll()
    qtbot.keyClicks(name, "hidden")
    qtbot.keyClick(name, Qt.Key.Key_Return)
    assert project.experiment["params"] == {"hidden.units": "4,8"}
    assert "4,8" in window.inspector.mark_buttons["units"].text()
    stack.undo()
    assert project.experiment["params"] == {"dense1.units": "4,8"}


# @HANG
@pytest.mark.slow
def test_a_sweep_from_the_panel_streams_rows_and_applies_the_best(qtbot, tmp_path):
    window = _window(qtbot, tmp_path)
    project, stack = window.files.project, window.controller.undo_stack
    window.controller.set_selection(["dense1"])
    _mark(qtbot, window.inspector.mark_buttons["units"], "4, 8")
    window.training.settings_dock.raise_()
    _mark(qtbot, window.training.settings_dock.mark_buttons["lr"], "0.01, 0.1")
    panel = window.experiments
    panel.raise_()
    assert [panel.space.topLevelItem(i).text(0) for i in range(panel.space.topLevelItemCount())] == [
        "dense1.units",
        "lr",
    ]
    _choose(qtbot, panel.sampler, "grid")
    _choose(qtbot, panel.pruner, "none")
    _type_number(qtbot, panel.trials, 4)
    _type_number(qtbot, panel.jobs, 2)
    experiment = project.experiment
    assert (experiment["sampler"], experiment["pruner"], experiment["trials"], experiment["jobs"]) == (
        "grid",
        "none",
        4,
        2,
    )
    saved = json.loads(save_project(project).read_text(encoding="utf-8"))  # what `graphedit sweep` would run
    assert saved["experiment"]["params"] == {"dense1.units": "4,8", "lr": "0.01,0.1"}
    runs = window.training.runs_dock
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert panel.is_running() and not panel.start_button.isEnabled()
    qtbot.waitUntil(lambda: runs.tree.topLevelItemCount() >= 1, timeout=SWEEP_TIMEOUT_MS)  # the first row arrives
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=SWEEP_TIMEOUT_MS)
    qtbot.waitUntil(lambda: panel.apply_button.isEnabled(), timeout=5000)  # the queued end reached the panel
    rows = sorted(panel.rows.values(), key=lambda r: r.number)
    assert [r.state for r in rows] == ["complete"] * 4
    assert {(r.params["dense1.units"], r.params["lr"]) for r in rows} == {(4, 0.01), (4, 0.1), (8, 0.01), (8, 0.1)}
    # every trial is a row of the runs table, with its trial number and its swept values as columns
    titles = [runs.tree.headerItem().text(i) for i in range(runs.tree.columnCount())]
    assert runs.tree.topLevelItemCount() == 4 and TRIAL in titles and "dense1.units" in titles
    units = titles.index("dense1.units")
    texts = sorted(runs.tree.topLevelItem(i).text(units) for i in range(4))
    assert texts == ["4", "4", "8", "8"]
    runs.setFloating(True)
    runs.resize(1280, 720)
    screenshot(runs, "runs_table_sweep.png")
    runs.setFloating(False)
    # the views: the parallel coordinates draw one line per trial, the history one point per trial
    tab_bar = panel.tabs.tabBar()
    qtbot.mouseClick(tab_bar, Qt.MouseButton.LeftButton, pos=tab_bar.tabRect(2).center())
    parallel = panel.views[2]
    lines = [item for item in parallel.plot.listDataItems() if len(item.xData) == 3]
    assert len(lines) == 4
    panel.setFloating(True)
    panel.resize(1280, 720)
    screenshot(panel, "sweep_parallel.png")
    qtbot.mouseClick(tab_bar, Qt.MouseButton.LeftButton, pos=tab_bar.tabRect(0).center())
    points = [item for item in panel.views[0].plot.listDataItems() if item.name() == "trial"]
    assert sorted(points[0].xData) == [r.number for r in rows]
    screenshot(panel, "sweep_history.png")
    qtbot.mouseClick(tab_bar, Qt.MouseButton.LeftButton, pos=tab_bar.tabRect(1).center())
    curves = [item for item in panel.views[1].plot.listDataItems() if len(item.xData) == 2]
    assert len(curves) == 4  # each trial's objective at its two epochs
    screenshot(panel, "sweep_curves.png")
    qtbot.mouseClick(tab_bar, Qt.MouseButton.LeftButton, pos=tab_bar.tabRect(3).center())
    bars = [item for item in panel.views[3].plot.items if type(item).__name__ == "BarGraphItem"]
    assert len(bars) == 1 and len(bars[0].opts["width"]) == 2  # one bar per swept parameter
    screenshot(panel, "sweep_importance.png")
    # apply the best trial: its values (and its weights) in one undo step; undo takes all of it back
    best = panel.best()
    assert best.value == min(r.value for r in rows)
    depth = stack.index()
    qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    assert stack.index() == depth + 1
    assert window.controller.document.params("dense1")["units"] == best.params["dense1.units"]
    assert project.training["lr"] == best.params["lr"]
    assert project.weights is not None and best.run.endswith(project.weights["path"].split("/")[-2])
    stack.undo()
    assert window.controller.document.params("dense1")["units"] == 16
    assert project.training["lr"] == 0.02 and project.weights is None
    QApplication.processEvents()


def test_a_pruned_trial_reads_pruned_in_the_runs_table(tmp_path):
    folder = tmp_path / "net.runs" / "20260101-000000"
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps({"status": "stopped", "epochs": 1}))
    trial = {"study": "net", "trial": 3, "params": {"lr": 0.1}, "objective": "val.loss"}
    (folder / "trial.json").write_text(json.dumps(trial))
    status, trial_column = Column("Status", "fixed", "Status"), Column(TRIAL, "fixed", TRIAL)
    assert cell(read_run(folder), status)[0] == "stopped"  # still running, or stopped by the user
    (folder / "trial.json").write_text(json.dumps({**trial, "state": "pruned", "value": None}))
    record = read_run(folder)
    assert cell(record, status)[0] == "pruned" and cell(record, trial_column) == ("net #3", 3)


@pytest.mark.slow
def test_stop_ends_the_sweep_and_start_resumes_it_to_the_requested_count(qtbot, tmp_path):
    window = _window(qtbot, tmp_path)
    project = window.files.project
    project.experiment.update(params={"lr": "0.01,0.02,0.05"}, sampler="grid", pruner="none", trials=3, jobs=1)
    panel = window.experiments
    panel.refresh()
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    done = lambda: [r for r in panel.rows.values() if r.state == "complete"]  # noqa: E731
    qtbot.waitUntil(lambda: len(done()) >= 1, timeout=SWEEP_TIMEOUT_MS)
    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.is_running() and panel.start_button.isEnabled(), timeout=SWEEP_TIMEOUT_MS)
    stopped = len(done())
    assert 1 <= stopped < 3 and "Sweep ended" in panel.status.text()
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)  # the same study: it runs what is missing
    qtbot.waitUntil(lambda: not panel.is_running() and panel.start_button.isEnabled(), timeout=SWEEP_TIMEOUT_MS)
    assert sorted(r.params["lr"] for r in done()) == [0.01, 0.02, 0.05]
    assert "3/3 trials finished" in panel.status.text()


def test_start_is_enabled_again_when_the_sweep_thread_ends_just_after_its_last_signal(qtbot, tmp_path):
    """The race behind the stop-and-resume test's rare hang: the panel read "running" from a sweep thread that had
    sent its last signal (``finished``) but not yet ended, and Start stayed disabled for good."""
    import threading

    window = _window(qtbot, tmp_path)
    panel = window.experiments
    release = threading.Event()
    thread = threading.Thread(target=release.wait, name="graphedit-sweep", daemon=True)
    thread.start()
    panel.runner._thread = thread  # a sweep thread past its last signal, about to end
    threading.Timer(0.05, release.set).start()  # it ends a moment later, while the panel handles the signal
    panel._finished([])
    assert panel.start_button.isEnabled() and not panel.stop_button.isEnabled() and not panel.is_running()
