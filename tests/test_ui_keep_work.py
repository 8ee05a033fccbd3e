"""Trained work is never lost: an unsaved project's runs in a per-user folder, carried on Save / Save As; asking
before a running or trained-but-unsaved project is replaced; files changed on disk; stray temp files; the Runs
panel torn down before the undo stack.

Two tests spawn a training process (as a user's Run does); the others record runs in-process with run_project.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import graphs
import pytest
from _window_helpers import FakePrompts, copy_example, make_window
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from graphedit.compiler import compile_graph
from graphedit.model.project import load_project, project_to_json
from graphedit.training.runs import FINAL, load_weights, runs_folder, sha256_file
from graphedit.training.session import run_project
from graphedit.ui.runner.edits import push_setting

pytestmark = pytest.mark.gui
SPAWN_TIMEOUT_MS = 90_000  # a fresh process imports torch; the machine may be busy
TINY = {"epochs": 2, "batch_size": 16, "device": "cpu", "lr": 0.02, "seed": 0}


@pytest.fixture(autouse=True)
def user_data(tmp_path, monkeypatch):
    """The per-user data folder, under tmp_path (the unsaved runs land in it)."""
    folder = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(folder))
    return folder / "graphedit" / "unsaved-runs"


def build_tiny_network(window, **training):
    """What a user does in a new project: paste a small MLP, pick the circle dataset and a short training."""
    controller, project = window.controller, window.files.project
    controller.paste_json(graphs.mlp(in_shape=(2,), hidden=(8,), classes=2).to_json(), offset=(0, 0))
    stack = controller.undo_stack
    push_setting(stack, project, "dataset", (), {**project.dataset, "options": {"n": 120}}, "Dataset")
    push_setting(stack, project, "training", (), {**project.training, **TINY, **training}, "Training")


def click(toolbar, action):
    assert action.isEnabled() and action.isVisible(), action.text()
    QTest.mouseClick(toolbar.widgetForAction(action), Qt.MouseButton.LeftButton)


def record_run(window, epochs: int = 1) -> Path:
    """A finished run of the open project, recorded where the editor records its runs (in-process, fast)."""
    project = window.files.project
    project.document = window.controller.document
    summary = run_project(project_to_json(project), window.files.runs_base(), {"epochs": epochs}, probes=False)
    window.training.runs_dock.refresh()
    window.files.changed.emit()
    return Path(summary["run"])


def assert_weights_load(path: Path) -> None:
    project = load_project(path)
    compiled = compile_graph(project.document)
    load_weights(compiled.root, project.weights_file(), project.weights["sha256"])


# ------------------------------------------------------------------ with a real training process
def test_weights_trained_in_a_new_project_survive_save_as(qtbot, tmp_path, user_data):
    prompts = FakePrompts(save_path=str(tmp_path / "work" / "mine"))
    (tmp_path / "work").mkdir()
    window = make_window(qtbot, tmp_path, prompts)
    assert window.files.path is None and window.windowTitle() == "Untitled — GraphEdit"
    build_tiny_network(window)
    window.files.save_as(tmp_path / "scratch.gproj")  # the graph alone is saved ...
    window.actions.new.trigger()  # ... and a new project starts, as a user's second try would
    build_tiny_network(window)
    finished = []
    window.session.finished.connect(finished.append)
    bar = window.training.toolbar
    click(bar, bar.run)
    qtbot.waitUntil(lambda: bool(finished) and window.session.state == "idle", timeout=SPAWN_TIMEOUT_MS)
    assert finished[0]["summary"]["status"] == "finished"
    run = Path(finished[0]["run_dir"])
    assert run.is_relative_to(user_data) and (run / FINAL).exists()  # per-user folder, not a shared temp one
    assert window.files.project.weights is not None  # the unsaved project took its weights ...
    assert window.windowTitle() == "Untitled* — GraphEdit"  # ... which are unsaved work
    runs = window.training.runs_dock
    assert runs.tree.topLevelItemCount() == 1 and runs.tree.topLevelItem(0).font(0).bold()

    QTest.keyClick(window.canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    saved = tmp_path / "work" / "mine.gproj"
    assert window.files.path == saved and window.windowTitle() == "mine.gproj — GraphEdit"
    data = json.loads(saved.read_text(encoding="utf-8"))
    moved = tmp_path / "work" / "mine.runs" / run.name / FINAL
    assert data["weights"] == {"path": f"mine.runs/{run.name}/{FINAL}", "sha256": sha256_file(moved)}
    assert not run.exists() and not run.parent.parent.exists()  # the unsaved folder is gone with its runs
    assert_weights_load(saved)
    assert runs.tree.topLevelItemCount() == 1 and runs.tree.topLevelItem(0).font(0).bold()
    window.controller.undo_stack.undo()  # "Use weights of run …" undone and redone: still a valid pointer
    window.controller.undo_stack.redo()
    assert window.files.weights_file() == moved


def test_a_running_training_asks_before_closing_and_joins_the_project_saved_meanwhile(qtbot, tmp_path):
    prompts = FakePrompts(save="discard", save_path=str(tmp_path / "net.gproj"))
    window = make_window(qtbot, tmp_path, prompts)
    build_tiny_network(window, epochs=400)
    started, finished = [], []
    window.session.started.connect(started.append)
    window.session.finished.connect(finished.append)
    bar = window.training.toolbar
    click(bar, bar.run)
    qtbot.waitUntil(lambda: bool(started), timeout=SPAWN_TIMEOUT_MS)
    prompts.stop_answer = False
    assert not window.close()  # the user cancels: the window and the run go on
    assert prompts.asked == ["stop_training"] and window.isVisible() and window.session.is_running()
    run = Path(started[0]["run_dir"])
    QTest.keyClick(window.canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # saved while it trains
    assert window.files.path == tmp_path / "net.gproj" and run.exists()  # the recording run is not moved
    prompts.stop_answer = True
    assert not window.files.open(tmp_path / "missing.gproj")  # opening another file asks and stops the run
    assert prompts.asked == ["stop_training", "stop_training"]
    qtbot.waitUntil(lambda: window.session.state == "idle", timeout=30_000)
    assert finished[0]["summary"]["status"] == "stopped"
    joined = tmp_path / "net.runs" / run.name
    assert (joined / FINAL).exists() and not run.exists()  # it joined the saved project when it ended
    assert window.files.weights_file() == joined / FINAL and window.windowTitle() == "net.gproj* — GraphEdit"
    assert window.files.save()
    assert json.loads((tmp_path / "net.gproj").read_text())["weights"]["path"] == f"net.runs/{run.name}/{FINAL}"
    assert_weights_load(tmp_path / "net.gproj")


# ------------------------------------------------------------------ runs recorded in-process
def test_each_unsaved_project_has_its_own_runs_folder_and_trained_weights_are_unsaved_work(qtbot, tmp_path, user_data):
    prompts = FakePrompts(save="cancel")
    window = make_window(qtbot, tmp_path, prompts)
    other = make_window(qtbot, tmp_path / "other", FakePrompts())
    assert window.files.runs_base().parent != other.files.runs_base().parent
    assert window.files.runs_base().is_relative_to(user_data)
    build_tiny_network(window)
    window.controller.undo_stack.setClean()  # only the runs are left unsaved
    assert window.windowTitle() == "Untitled — GraphEdit"
    record_run(window)
    assert window.windowTitle() == "Untitled* — GraphEdit"
    assert not window.close() and prompts.asked_save == ["Untitled"]  # trained weights are asked about
    assert not window.files.new() and len(prompts.asked_save) == 2
    prompts.save_answer = "discard"


def test_save_as_of_a_saved_project_copies_the_run_its_weights_come_from(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    build_tiny_network(window)
    first = tmp_path / "a" / "first.gproj"
    first.parent.mkdir()
    assert window.files.save_as(first)
    run = record_run(window)
    record_run(window)  # a second run, not the one used
    runs = window.training.runs_dock
    runs.select(run)
    assert runs.use_weights() and window.windowTitle() == "first.gproj* — GraphEdit"
    second = tmp_path / "b" / "second.gproj"
    second.parent.mkdir()
    assert window.files.save_as(second)
    assert sorted(p.name for p in runs_folder(second).iterdir()) == [run.name]  # the used run only, copied
    assert len(list(runs_folder(first).iterdir())) == 2  # the first project keeps its runs
    assert json.loads(second.read_text())["weights"]["path"] == f"second.runs/{run.name}/{FINAL}"
    assert_weights_load(second)


def test_a_failed_save_leaves_the_runs_and_weights_where_they_were(qtbot, tmp_path):
    prompts = FakePrompts()
    window = make_window(qtbot, tmp_path, prompts)
    build_tiny_network(window)
    run = record_run(window)
    window.training.runs_dock.select(run)
    assert window.training.runs_dock.use_weights()
    before = dict(window.files.project.weights)
    blocked = tmp_path / "blocked"
    blocked.write_text("a file, not a folder")
    assert not window.files.save_as(blocked / "net.gproj")
    assert prompts.errors and "Cannot save" in prompts.errors[-1][0]
    assert (run / FINAL).exists() and window.files.project.weights == before
    assert window.files.weights_file() == run / FINAL and window.files.is_dirty()


def test_a_file_changed_by_another_program_is_reloaded_or_kept_never_overwritten(qtbot, tmp_path):
    path = copy_example(tmp_path)
    prompts = FakePrompts()
    window = make_window(qtbot, tmp_path, prompts)
    assert window.files.open(path, ask=False)
    controller = window.controller

    def outside_edit(filters: int) -> None:  # another program rewrites the file
        data = json.loads(path.read_text(encoding="utf-8"))
        next(n for n in data["graph"]["nodes"] if n["id"] == "conv1")["params"]["filters"] = filters
        path.write_text(json.dumps(data), encoding="utf-8")

    prompts.reload_answer = True
    outside_edit(5)
    qtbot.waitUntil(lambda: "reload" in prompts.asked, timeout=5000)
    qtbot.waitUntil(lambda: controller.document.params("conv1")["filters"] == 5, timeout=2000)
    assert window.windowTitle() == "keras_cnn.gproj — GraphEdit"

    prompts.reload_answer = False  # keep mine: the editor's version is now unsaved work
    outside_edit(6)
    qtbot.waitUntil(lambda: prompts.asked.count("reload") == 2, timeout=5000)
    assert controller.document.params("conv1")["filters"] == 5 and window.windowTitle().startswith("keras_cnn.gproj*")
    assert window.files.save() and "overwrite" not in prompts.asked  # the user chose: no second question
    assert load_project(path).document.params("conv1")["filters"] == 5

    # changed again, and Save comes before the watcher noticed: asked, and the user's "no" keeps the other version
    window.files.disk.watcher.blockSignals(True)
    outside_edit(7)
    controller.set_param("conv1", "filters", 9)
    assert not window.files.save() and prompts.asked[-1] == "overwrite"
    assert load_project(path).document.params("conv1")["filters"] == 7
    prompts.overwrite_answer = True
    assert window.files.save() and load_project(path).document.params("conv1")["filters"] == 9


def test_stray_temp_files_of_an_interrupted_save_are_removed_and_only_those(qtbot, tmp_path):
    path = copy_example(tmp_path, "keras_cnn.gproj")
    old = time.time() - 3600
    stray = tmp_path / ".keras_cnn.gproj.a1b2_c3d.tmp"
    fresh = tmp_path / ".keras_cnn.gproj.zzzz9999.tmp"  # a save in progress right now
    others = [tmp_path / ".keras_cnn.gproj.tmp", tmp_path / ".other.gproj.a1b2c3d4.tmp", tmp_path / "keep.tmp"]
    for file in [stray, fresh, *others]:
        file.write_text("partial")
        if file is not fresh:
            os.utime(file, (old, old))
    window = make_window(qtbot, tmp_path)
    assert window.files.open(path, ask=False)
    assert not stray.exists() and fresh.exists() and all(f.exists() for f in others)
    os.utime(fresh, (old, old))
    assert window.files.save()
    assert not fresh.exists() and all(f.exists() for f in others)


def test_recovered_unsaved_project_finds_its_runs(qtbot, tmp_path):
    first = make_window(qtbot, tmp_path, FakePrompts(), offer_recovery=False)
    build_tiny_network(first)
    run = record_run(first)
    first.training.runs_dock.select(run)
    assert first.training.runs_dock.use_weights()
    assert first.files.autosave(force=True) is not None
    first.files.recovery._lock.unlock()  # the editor "crashed": its lock is gone
    first.files.recovery._lock = None
    second = make_window(qtbot, tmp_path, FakePrompts(recover=True))
    assert second.files.recovered and second.files.weights_file() == run / FINAL
    assert second.training.runs_dock.tree.topLevelItemCount() == 1


def test_runs_panel_torn_down_before_the_undo_stack_raises_nothing(qtbot, tmp_path):
    """Quitting deleted the Runs dock while the undo stack lived on; its clear() then called _mark_current."""
    import shiboken6

    window = make_window(qtbot, tmp_path)
    path = copy_example(tmp_path)
    run = runs_folder(path) / "20260101-000000"
    run.mkdir(parents=True)
    (run / "summary.json").write_text('{"status": "finished", "epochs": 1}')
    assert window.files.open(path, ask=False)
    assert window.training.runs_dock.tree.topLevelItemCount() == 1
    shiboken6.delete(window.training.runs_dock)
    window.controller.set_param("conv1", "filters", 8)  # indexChanged: must reach no deleted widget
    window.controller.undo_stack.clear()
    window.session.failed.emit("a failure", "")
