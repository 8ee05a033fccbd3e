"""Files in the editor: save and reopen, the dirty marker, bad files, recent files, examples, autosave and recovery."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from _window_helpers import PROJECTS, REPO, FakePrompts, copy_example, make_window, settle
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from graphedit.model.project import load_project, project_to_json

pytestmark = pytest.mark.gui


def test_save_and_reopen_gives_the_same_graph(qtbot, tmp_path):
    source = copy_example(tmp_path)
    window = make_window(qtbot, tmp_path)
    assert window.files.open(source, ask=False)
    controller = window.controller
    controller.set_param("dense1", "units", 48)
    controller.rename("dense2", "head")
    controller.add_node("Dropout", (500, 600))
    expected = controller.document.to_json()
    target = tmp_path / "mine"
    assert window.files.save_as(target)
    assert window.files.path == tmp_path / "mine.gproj"
    assert window.windowTitle() == "mine.gproj — GraphEdit"

    reopened = make_window(qtbot, tmp_path)
    assert reopened.files.open(tmp_path / "mine.gproj", ask=False)
    assert reopened.controller.document.to_json() == expected
    saved, original = project_to_json(reopened.files.project), project_to_json(load_project(source))
    for section in ("meta", "dataset", "training"):
        assert saved[section] == original[section], f"{section} must survive a save"
    assert list(saved["view"]["center"]) != [0, 0] or saved["view"]["zoom"] != 1.0


def test_dirty_marker_follows_the_undo_stack(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    assert window.files.open(copy_example(tmp_path), ask=False)
    assert window.windowTitle() == "keras_cnn.gproj — GraphEdit"
    window.controller.set_param("conv1", "filters", 8)
    assert window.windowTitle() == "keras_cnn.gproj* — GraphEdit"
    window.controller.undo_stack.undo()
    assert window.windowTitle() == "keras_cnn.gproj — GraphEdit"
    window.controller.undo_stack.redo()
    assert window.files.save()
    assert window.windowTitle() == "keras_cnn.gproj — GraphEdit"
    assert load_project(tmp_path / "keras_cnn.gproj").document.params("conv1")["filters"] == 8


@pytest.mark.parametrize(
    "text",
    ['{"format": "graphedit-project", "graph": {"nodes": [', "not json at all", '{"format": "something-else"}'],
)
@pytest.mark.slow
def test_malformed_file_shows_error_and_keeps_graph(qtbot, tmp_path, text):
    prompts = FakePrompts()
    window = make_window(qtbot, tmp_path, prompts)
    assert window.files.open(copy_example(tmp_path), ask=False)
    window.controller.set_param("conv1", "filters", 8)
    before, title = window.controller.document.to_json(), window.windowTitle()
    bad = tmp_path / "broken.gproj"
    bad.write_text(text, encoding="utf-8")
    assert not window.files.open(bad)
    assert len(prompts.errors) == 1
    assert "broken.gproj" in prompts.errors[0][1] and "unchanged" in prompts.errors[0][1]
    assert window.controller.document.to_json() == before
    assert window.windowTitle() == title
    assert window.controller.undo_stack.canUndo()  # the user's history is intact too


@pytest.mark.parametrize("target", ["window", "canvas"])
@pytest.mark.slow
def test_drop_project_file_on_window_opens_it(qtbot, tmp_path, target):
    window = make_window(qtbot, tmp_path)
    widget = window if target == "window" else window.canvas.viewport()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(copy_example(tmp_path)))])
    rest = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(QPoint(300, 300), *rest)  # Qt 6: integer position for enter/move, float for drop
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(widget, QDragMoveEvent(QPoint(300, 300), *rest))
    QApplication.sendEvent(widget, QDropEvent(QPointF(300, 300), *rest))
    assert "conv1" in window.controller.document
    assert window.files.path == tmp_path / "keras_cnn.gproj"


def test_close_asks_about_unsaved_changes(qtbot, tmp_path):
    prompts = FakePrompts(save="cancel")
    window = make_window(qtbot, tmp_path, prompts)
    window.controller.add_node("Dense", (0, 0))
    assert not window.close()
    assert prompts.asked_save == ["Untitled"] and window.isVisible()
    prompts.save_answer, prompts.save_path_answer = "save", str(tmp_path / "kept")
    assert window.close()
    assert load_project(tmp_path / "kept.gproj").document.node_ids() == ["dense1"]


def test_new_asks_and_recent_files_remember(qtbot, tmp_path):
    prompts = FakePrompts(save="cancel")
    window = make_window(qtbot, tmp_path, prompts)
    path = copy_example(tmp_path)
    assert window.files.open(path, ask=False)
    assert window.files.recent_files() == [path.resolve()]
    assert [a.text() for a in window.commands.recent_menu.actions()][0] == "&1 keras_cnn.gproj"
    window.controller.set_param("conv1", "filters", 8)
    assert not window.files.new()  # cancelled: the graph stays
    assert "conv1" in window.controller.document
    prompts.save_answer = "discard"
    assert window.files.new()
    assert len(window.controller.document) == 0 and window.windowTitle() == "Untitled — GraphEdit"
    window.commands.recent_menu.actions()[0].trigger()
    assert "conv1" in window.controller.document


def test_examples_menu_opens_a_copy(qtbot, tmp_path):
    prompts = FakePrompts(save_path=str(tmp_path / "copy.gproj"))
    window = make_window(qtbot, tmp_path, prompts)
    actions = window.commands.examples_menu.actions()
    assert actions[0] is window.commands.gallery and actions[1].isSeparator()
    entries = {a.text(): a for a in actions[2:]}
    # one entry per example in lesson order, "6 · title"; keras_cnn.gproj is a byte copy of lesson 6
    titles = {p.stem: json.loads(p.read_text())["meta"]["title"] for p in PROJECTS.glob("*.gproj")}
    assert set(entries) >= {f"1 · {titles['01_single_neuron']}", f"2a · {titles['02a_linear_hidden']}"}
    assert len(entries) == len(titles) - 2
    before = (PROJECTS / "06_keras_cnn.gproj").read_bytes()
    entries["6 · The notes' Keras CNN"].trigger()
    assert "conv1" in window.controller.document and window.files.path is None
    assert window.windowTitle() == "06_keras_cnn.gproj — GraphEdit"
    window.controller.set_param("conv1", "filters", 8)
    assert window.files.save()  # an example is saved elsewhere, never over itself
    assert (PROJECTS / "06_keras_cnn.gproj").read_bytes() == before
    assert window.files.path == tmp_path / "copy.gproj"


@pytest.mark.slow
def test_graphedit_alone_opens_an_example_and_with_a_file_opens_it(qtbot, tmp_path):
    from graphedit.ui.app import open_initial

    window = make_window(qtbot, tmp_path)
    open_initial(window, None)
    assert "conv1" in window.controller.document and not window.files.is_dirty()
    other = make_window(qtbot, tmp_path)
    open_initial(other, str(copy_example(tmp_path, "vae.gproj")))
    assert other.files.path == tmp_path / "vae.gproj"


@pytest.mark.slow
def test_first_start_shows_the_gallery_as_a_start_page_once(qtbot, tmp_path):
    from graphedit.ui.app import open_initial
    from graphedit.ui.gallery import GalleryDialog

    window = make_window(qtbot, tmp_path)
    open_initial(window, None)  # the page opens from the event loop, over the window once it shows
    qtbot.waitUntil(lambda: getattr(window, "start_page", None) is not None)
    page = window.start_page
    assert isinstance(page, GalleryDialog) and page.isVisible()
    assert "conv1" in window.controller.document  # the working network is behind it
    page.close()
    again = make_window(qtbot, tmp_path)  # same settings file: a later start
    open_initial(again, None)
    settle()
    assert getattr(again, "start_page", None) is None
    assert "conv1" in again.controller.document


@pytest.mark.slow
def test_autosave_writes_a_recovery_copy_and_clean_close_removes_it(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path, autosave_ms=50)
    recovery = tmp_path / "recovery"
    window.controller.add_node("Dense", (0, 0))
    qtbot.waitUntil(lambda: any(recovery.glob("recovery-*.gproj")), timeout=3000)
    copy = next(recovery.glob("recovery-*.gproj"))
    assert load_project(copy).document.node_ids() == ["dense1"]
    # another editor starting now must not take the copy of one that still runs
    other = make_window(qtbot, tmp_path, FakePrompts(recover=True))
    assert other.files.recovered is False and len(other.controller.document) == 0
    window.close()
    assert not any(recovery.glob("recovery-*.gproj"))


CRASH = textwrap.dedent(
    """
    import json, os, sys
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from graphedit.ui.main_window import MainWindow
    tmp, project = sys.argv[1], sys.argv[2]
    settings = QSettings(tmp + "/crash.ini", QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, recovery_dir=tmp + "/recovery")
    window.files.open(project, ask=False)
    window.controller.set_param("conv1", "filters", 12)
    window.controller.rename("dense2", "head")
    assert window.files.autosave() is not None
    with open(tmp + "/expected.json", "w") as f:
        json.dump(window.controller.document.to_json(), f)
    os._exit(3)  # a crash: no close, no cleanup
    """
)


@pytest.mark.slow
def test_recovery_is_offered_after_a_crash(qtbot, tmp_path):
    source = copy_example(tmp_path)
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH, str(tmp_path), str(source)], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert crashed.returncode == 3, crashed.stderr
    expected = json.loads((tmp_path / "expected.json").read_text())

    prompts = FakePrompts(recover=True)
    window = make_window(qtbot, tmp_path, prompts)  # the next start
    assert len(prompts.asked_recover) == 1
    assert str(source) in prompts.asked_recover[0].describe()
    assert window.files.recovered
    assert window.controller.document.to_json() == expected
    assert window.files.path == source
    assert window.windowTitle() == "keras_cnn.gproj* — GraphEdit"  # recovered work is not saved yet
    assert load_project(source).document.params("conv1")["filters"] != 12  # the file itself is untouched
    window.close()

    third = make_window(qtbot, tmp_path, FakePrompts())
    assert not third.files.recovered  # restored once, then the copy is gone after a clean close


def test_declined_recovery_is_deleted(qtbot, tmp_path):
    from graphedit.model.project import new_project
    from graphedit.ui.recovery import RecoveryStore

    store = RecoveryStore(tmp_path / "recovery")
    project = new_project()
    project.document.add_node("Dense")
    store.write(project, "Untitled")
    store._lock.unlock()  # what a crash leaves: the copy without a live owner
    prompts = FakePrompts(recover=False)
    window = make_window(qtbot, tmp_path, prompts)
    assert len(prompts.asked_recover) == 1 and not window.files.recovered
    assert len(window.controller.document) == 0
    assert not any((tmp_path / "recovery").glob("recovery-*.gproj"))


def test_yes_no_questions_default_to_the_safe_answer(qtbot, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from graphedit.ui.prompts import ask_yes

    asked = []

    def fake(kind):
        def ask(parent, title, text, buttons, default):
            asked.append((kind, buttons, default))
            return QMessageBox.StandardButton.Yes

        return ask

    monkeypatch.setattr(QMessageBox, "question", fake("question"))
    monkeypatch.setattr(QMessageBox, "warning", fake("warning"))
    b = QMessageBox.StandardButton
    assert ask_yes(None, "t", "x") and ask_yes(None, "t", "x", warning=True, cancel=True)
    assert asked == [("question", b.Yes | b.No, b.No), ("warning", b.Yes | b.Cancel, b.Cancel)]
