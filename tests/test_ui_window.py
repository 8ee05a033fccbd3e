"""The editor window driven through real events: palette drops, inspector keys, summary and problems clicks."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from _window_helpers import PROJECTS, copy_example, make_window, screenshot
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QAction, QDragEnterEvent, QDragMoveEvent, QDropEvent, QKeySequence, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.gui


def drop(widget, mime: QMimeData, pos: QPoint) -> QDropEvent:
    """What a drag from the palette does to ``widget`` (QDrag.exec blocks offscreen, so send the events)."""
    copy, left, none = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    # Qt 6 takes an integer position for enter/move events and a float one for the drop
    QApplication.sendEvent(widget, QDragEnterEvent(QPoint(pos), copy, mime, left, none))
    QApplication.sendEvent(widget, QDragMoveEvent(QPoint(pos), copy, mime, left, none))
    event = QDropEvent(QPointF(pos), copy, mime, left, none)
    QApplication.sendEvent(widget, event)
    return event


def type_into(editor, text: str) -> None:
    """Select what the field holds, type ``text`` and press Enter, as a user does."""
    editor.setFocus()
    QTest.keyClick(editor, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(editor, text)
    QTest.keyClick(editor, Qt.Key.Key_Return)


def test_empty_window(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    assert window.windowTitle() == "Untitled — GraphEdit"
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles == ["&File", "&Edit", "&View", "&Training", "&Help"]
    assert window.export_menu.title() == "E&xport"
    assert window.commands.undo.shortcuts() == QKeySequence.keyBindings(QKeySequence.StandardKey.Undo)
    assert window.commands.save.shortcut() == QKeySequence(QKeySequence.StandardKey.Save)
    assert "0 nodes" in window.status_label.text() and "no errors" in window.status_label.text()
    screenshot(window, "window_empty.png")


def test_one_keymap_the_menus_hold_the_canvas_actions(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    keys = window.canvas.keymap
    assert {keys.undo, keys.copy, keys.delete, keys.mute} <= set(window.commands.edit_menu.actions())
    assert {keys.zoom_fit, keys.auto_layout} <= set(window.commands.view_menu.actions())
    shortcuts = [s.toString() for a in window.findChildren(QAction) for s in a.shortcuts()]
    twice = {s for s in shortcuts if shortcuts.count(s) > 1}
    assert "Ctrl+Z" in shortcuts and twice == {"F6"}  # no key declared twice (Pause and Resume take turns)


def test_drag_from_palette_creates_node_where_dropped(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    canvas = window.canvas
    mime = window.palette.mime_data_for("Dense")
    tree = window.palette.tree
    dragged = tree.mimeData([window.palette.item_for("Dense")])
    assert bytes(dragged.data("application/x-graphedit-node-type")) == b"Dense"
    pos = QPoint(420, 260)
    event = drop(canvas.viewport(), mime, pos)
    assert event.isAccepted()
    assert window.controller.document.node_ids() == ["dense1"]
    item = canvas.scene().nodes["dense1"]
    assert item.sceneBoundingRect().contains(canvas.mapToScene(pos))
    assert window.controller.selection() == ["dense1"]
    assert window.inspector.node_id == "dense1"
    window.controller.undo_stack.undo()
    assert len(window.controller.document) == 0


def test_palette_filter_and_enter_adds_best_match(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    palette = window.palette
    palette.filter_box.setFocus()
    QTest.keyClicks(palette.filter_box, "relu")
    visible = palette.visible_type_ids()
    assert "ReLU" in visible and "LeakyReLU" in visible and "Conv2d" not in visible
    QTest.keyClick(palette.filter_box, Qt.Key.Key_Return)
    doc = window.controller.document
    assert [doc.node_type(n).type_id for n in doc.node_ids()] == ["ReLU"]


def test_inspector_edits_parameter_and_refuses_invalid_value(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    controller = window.controller
    node = controller.add_node("Dense", (0, 0))
    controller.set_selection([node])
    spin = window.inspector.editors["units"]
    assert (spin.minimum(), spin.maximum()) == (1, 65536)
    type_into(spin, "64")
    assert controller.document.params(node)["units"] == 64
    assert window.controller.undo_stack.undoText() == f"Set {node}.units" or window.controller.undo_stack.canUndo()
    assert not window.inspector.message_label.isVisible()

    type_into(spin, "0")
    assert controller.document.params(node)["units"] == 64
    message = window.inspector.message_label
    assert message.isVisible() and "minimum" in message.text() and "units" in message.text()
    assert spin.value() == 64

    window.inspector.editors["bias"].click()
    assert controller.document.params(node)["bias"] is False
    combo = window.inspector.editors["init"]
    combo.setCurrentText("he")
    combo.textActivated.emit("he")
    assert controller.document.params(node)["init"] == "he"
    controller.undo_stack.undo()
    assert controller.document.params(node)["init"] == "xavier"
    assert combo.currentText() == "xavier"


def test_inspector_tuple_and_float_editors(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    controller = window.controller
    node = controller.add_node("Input", (0, 0))
    controller.set_selection([node])
    ints = [p for p in controller.document.node_type(node).params if p.kind == "ints"]
    assert ints, "Input has a shape tuple"
    editor = window.inspector.editors[ints[0].name]
    type_into(editor, "3, 16, 16")
    assert controller.document.params(node)[ints[0].name] == (3, 16, 16)
    type_into(editor, "3, y")
    assert window.inspector.message_label.isVisible()
    assert controller.document.params(node)[ints[0].name] == (3, 16, 16)

    drop_id = controller.add_node("Dropout", (0, 200))
    controller.set_selection([drop_id])
    name, spin = next((n, e) for n, e in window.inspector.editors.items() if type(e).__name__ == "FloatEditor")
    type_into(spin, "0.25")
    assert controller.document.params(drop_id)[name] == 0.25
    type_into(spin, "2")
    assert controller.document.params(drop_id)[name] == 0.25
    assert "maximum" in window.inspector.message_label.text()


def test_rename_through_inspector(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    controller = window.controller
    node = controller.add_node("Dense", (0, 0))
    controller.set_selection([node])
    type_into(window.inspector.name_edit, "hidden")
    assert controller.document.node_ids() == ["hidden"]
    assert controller.selection() == ["hidden"]
    assert window.summary.rows[0].node_id == "hidden"
    type_into(window.inspector.name_edit, "2bad")
    assert controller.document.node_ids() == ["hidden"]
    assert "not a valid node name" in window.inspector.message_label.text()
    assert window.inspector.name_edit.text() == "hidden"


def test_summary_row_click_selects_node(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    assert window.files.open(copy_example(tmp_path), ask=False)
    table = window.summary.table
    row = window.summary.row_of("conv2")
    rect = table.visualItemRect(table.item(row, 0))
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())
    assert window.controller.selection() == ["conv2"]
    assert window.canvas.scene().selected_node_ids() == ["conv2"]
    assert window.inspector.title.text() == "Conv2d"
    total = table.item(table.rowCount() - 1, 3).text()
    assert total == f"{window.controller.shapes.total_params():,}"
    assert total in window.status_label.text()


def test_keras_cnn_window(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    assert window.files.open(PROJECTS / "keras_cnn.gproj", ask=False)
    window.controller.set_selection(["conv2"])
    window.code_view.update_code()
    assert "def forward" in window.code_view.code() and "self.conv2" in window.code_view.code()
    assert window.code_view.error is None
    assert window.inspector.editors["filters"].value() == window.controller.document.params("conv2")["filters"]
    screenshot(window, "window_keras_cnn.png")


def test_code_view_follows_edits_and_shows_errors(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    assert window.files.open(copy_example(tmp_path), ask=False)
    assert window.code_view.code() == ""  # behind the Problems tab: no code compiled for nobody
    window.code_view.raise_()
    qtbot.waitUntil(lambda: "class GraphEditModel" in window.code_view.code(), timeout=3000)  # compiled when shown
    window.controller.rename("dense2", "head")
    qtbot.waitUntil(lambda: "self.head(" in window.code_view.code(), timeout=3000)
    window.controller.set_param("conv3", "kernel", 15)
    qtbot.waitUntil(lambda: window.code_view.error is not None, timeout=3000)
    assert "conv3" in window.code_view.code() and "fix" in window.code_view.code()


def test_problems_list_click_selects_node_with_error(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    assert window.files.open(copy_example(tmp_path), ask=False)
    window.controller.set_param("conv3", "kernel", 15)
    qtbot.waitUntil(lambda: not window.canvas.fit_pending, timeout=2000)  # the zoom to fit queued by loading
    window.canvas.set_zoom(1.0)
    problems = window.problems
    problems.raise_()
    assert [e.node_id for e in problems.errors] == ["conv3"]
    assert "Fix:" in problems.list.item(0).text()
    assert "1 error" in window.status_label.text()
    rect = problems.list.visualItemRect(problems.list.item(0))
    QTest.mouseClick(problems.list.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())
    assert window.controller.selection() == ["conv3"]
    inspector = window.inspector
    assert inspector.error_label.isVisible() and "kernel" in inspector.error_label.text()
    assert "Fix:" in inspector.error_label.text()
    screenshot(window, "window_error.png")


def test_delete_shortcut_on_canvas_and_undo(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    controller = window.controller
    node = controller.add_node("ReLU", (0, 0))
    controller.set_selection([node])
    window.canvas.setFocus()
    qtbot.waitUntil(window.canvas.hasFocus)
    QTest.keyClick(window.canvas, Qt.Key.Key_Delete)
    assert len(controller.document) == 0
    QTest.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert controller.document.node_ids() == [node]
    assert window.undo_view.stack() is controller.undo_stack


def test_themes(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    window.set_theme("dark")
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128
    window.set_theme("light")
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() > 128
    assert window.commands.themes["light"].isChecked()
    assert window.settings.value("theme") == "light"


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="there is always a display there")
def test_graphedit_without_display_says_so_in_one_line():
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from graphedit.cli import main; sys.exit(main([]))"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1
    assert "no display" in lines[0] and "graphedit check" in lines[0]


def test_the_inspector_scrolls_rather_than_cuts_its_text_at_1280x720(qtbot, tmp_path):
    from PySide6.QtWidgets import QLabel

    window = make_window(qtbot, tmp_path)
    window.resize(1280, 720)
    assert window.files.open(copy_example(tmp_path), ask=False)
    table = window.summary.table
    for node in ("ce", "conv2", "ce"):  # another node's text, then back: each fits its own height
        rect = table.visualItemRect(table.item(window.summary.row_of(node), 0))
        QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())

        def cut_labels():
            viewport = window.inspector.scroll.viewport()
            cut = ["scrolls sideways"] if window.inspector.scroll.horizontalScrollBar().isVisible() else []
            for label in window.inspector.details.findChildren(QLabel):
                if not label.isVisible() or not label.text():
                    continue
                if label.mapTo(viewport, label.rect().topRight()).x() > viewport.width():
                    cut.append(f"{label.text()[:30]!r}: past the dock's right edge")
                if label.wordWrap() and label.height() < label.heightForWidth(label.width()):
                    cut.append(f"{label.text()[:30]!r}: {label.height()} < {label.heightForWidth(label.width())}")
                if not label.wordWrap() and label.sizeHint().width() > label.width() + 1:
                    cut.append(f"{label.text()[:30]!r}: width {label.width()} < {label.sizeHint().width()}")
            return cut

        try:
            qtbot.waitUntil(lambda: cut_labels() == [], timeout=2000)
        except qtbot.TimeoutError:
            raise AssertionError((node, cut_labels())) from None
    assert window.inspector.title.text() == "SoftmaxCrossEntropy"
    title = window.inspector.title
    assert title.fontMetrics().horizontalAdvance(title.text()) <= title.contentsRect().width()
    screenshot(window, "inspector_long_title_1280x720.png")


def test_closing_the_window_cancels_its_background_jobs_and_waits_for_them(qtbot, tmp_path):
    import threading

    from graphedit.ui.background import Job

    window = make_window(qtbot, tmp_path)
    started, steps = threading.Event(), []

    def work(progress):  # runs until told to stop, as a long computation does
        started.set()
        while progress(len(steps), 0):
            steps.append(1)
            threading.Event().wait(0.01)
        return len(steps)

    job = Job(work, window.inspector)
    job.start()
    assert started.wait(10)
    assert window.close()
    assert not job._thread.is_alive() and job.is_cancelled()
