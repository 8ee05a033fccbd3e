"""Frames and sticky notes on the canvas, driven by real mouse and key events; saved in the project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from test_ui_canvas import CTRL, SHOTS, activate, chain, drag, editor  # noqa: F401  (editor is a fixture)

from graphedit.errors import ProjectFileError
from graphedit.model.annotations import Frame, Note
from graphedit.model.project import load_project, project_to_json, save_project
from graphedit.ui.canvas.annotation_items import FrameItem, NoteItem

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[1]


def test_frame_drawn_around_a_selection_moves_its_nodes_and_undoes_in_one_step(qtbot, editor):  # noqa: F811
    controller, view = editor
    doc = controller.document
    inside = chain(controller, "Input", "Dense")
    outside = controller.add_node("ReLU", (700.0, 0.0))
    activate(qtbot, view)
    drag(view, QPointF(-40, -60), QPointF(500, 160))  # a box around the first two cards selects them
    assert set(controller.selection()) == set(inside)
    QTest.keyClick(view, Qt.Key.Key_G)
    (frame,) = doc.annotations.frames.values()
    x, y, w, h = frame.rect
    assert x < 0 and y < 0 and x + w < 700  # around the two cards, not the third
    before = {n: doc.position(n) for n in (*inside, outside)}
    SHOTS.mkdir(exist_ok=True)
    view.grab().save(str(SHOTS / "frame_drawn.png"))
    drag(view, QPointF(x + 60, y + 15), QPointF(x + 260, y + 115))  # by its title bar
    moved = doc.annotations.frames[frame.id]
    assert moved.rect[:2] == (x + 200, y + 100)
    for n in inside:
        assert doc.position(n) == (before[n][0] + 200, before[n][1] + 100)
    assert doc.position(outside) == before[outside]
    item = view.scene().annotation_layer.items[("frame", frame.id)]
    assert item.pos() == QPointF(x + 200, y + 100)
    QTest.keyClick(view, Qt.Key.Key_Z, CTRL)
    assert doc.annotations.frames[frame.id] == frame
    assert {n: doc.position(n) for n in before} == before
    QTest.keyClick(view, Qt.Key.Key_Z, CTRL)
    assert not doc.annotations.frames and not view.scene().annotation_layer.items


def test_note_is_added_typed_moved_and_deleted_with_undo(qtbot, editor):  # noqa: F811
    controller, view = editor
    notes = controller.document.annotations.notes
    activate(qtbot, view)
    QTest.keyClick(view, Qt.Key.Key_N)
    (note_id,) = notes
    QTest.keyClicks(view, "Normalise: Gauss")  # N and G are shortcuts, but not while typing in a note
    QTest.keyClick(view, Qt.Key.Key_Escape)
    assert notes[note_id].text == "Normalise: Gauss" and len(notes) == 1
    assert not controller.document.annotations.frames
    item = view.scene().annotation_layer.items[("note", note_id)]
    x, y = notes[note_id].position
    drag(view, QPointF(x + 30, y + 10), QPointF(x + 130, y + 70))
    assert notes[note_id].position == (x + 100, y + 60) and item.pos() == QPointF(x + 100, y + 60)
    view.grab().save(str(SHOTS / "note_added.png"))
    assert item.isSelected()
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert not notes
    controller.undo_stack.undo()  # the delete
    controller.undo_stack.undo()  # the move
    assert notes[note_id].position == (x, y)
    controller.undo_stack.undo()  # the typing
    assert notes[note_id].text == "Note"


def test_a_project_with_frames_and_notes_and_one_without_load(qtbot, tmp_path, editor):  # noqa: F811
    controller, view = editor
    plain = load_project(ROOT / "projects" / "01_single_neuron.gproj")
    assert "frames" not in project_to_json(plain)["graph"] and "notes" not in project_to_json(plain)["graph"]
    controller.set_document(plain.document)
    assert not view.scene().annotation_layer.items
    annotations = plain.document.annotations
    annotations.put("frame", "frame1", Frame("frame1", "The neuron", (200, 100, 300, 200), "#3f8f57"))
    annotations.put("note", "note1", Note("note1", "w·x + b", (0, 400)))
    path = save_project(plain, tmp_path / "labelled.gproj")
    graph = json.loads(path.read_text(encoding="utf-8"))["graph"]
    assert [f["title"] for f in graph["frames"]] == ["The neuron"] and graph["notes"][0]["text"] == "w·x + b"
    loaded = load_project(path)
    assert loaded.document.annotations.frames["frame1"] == annotations.frames["frame1"]
    controller.set_document(loaded.document)
    kinds = {type(i) for i in view.scene().annotation_layer.items.values()}
    assert kinds == {FrameItem, NoteItem}
    graph["frames"][0]["color"] = "green"
    path.write_text(json.dumps({**json.loads(path.read_text(encoding="utf-8")), "graph": graph}), encoding="utf-8")
    with pytest.raises(ProjectFileError, match=r"labelled.gproj: graph.frames\[0\]: 'color' must be '#rrggbb'"):
        load_project(path)


def test_minimap_shows_a_large_graph_and_a_click_centres_the_view_there(qtbot, editor):  # noqa: F811
    controller, view = editor
    minimap = view.minimap
    controller.add_node("Input", (0.0, 0.0), {"shape": [4]})
    minimap.refresh()
    assert not minimap.isVisible()  # one card fits the view: no map
    far = controller.add_node("Dense", (4000.0, 2500.0))
    qtbot.waitUntil(minimap.isVisible)
    corner = view.viewport().geometry().bottomRight()
    assert minimap.geometry().right() <= corner.x() and minimap.geometry().bottom() <= corner.y()
    target = view.scene().nodes[far].sceneBoundingRect().center()
    QTest.mouseClick(
        minimap, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, minimap.to_map(target).toPoint()
    )
    center = view.mapToScene(view.viewport().rect().center())
    assert abs(center.x() - target.x()) < 40 and abs(center.y() - target.y()) < 40
    view.resize(1280, 720)
    qtbot.waitUntil(lambda: minimap.geometry().right() > view.viewport().width() - 40)
    view.grab().save(str(SHOTS / "minimap_1280x720.png"))


def test_a_lesson_shows_its_frames_and_the_minimap_at_1280x720(qtbot, tmp_path):
    from _window_helpers import copy_example, make_window, screenshot

    window = make_window(qtbot, tmp_path)
    window.resize(1280, 720)
    assert window.files.open(copy_example(tmp_path, "06_keras_cnn.gproj"), ask=False)
    layer = window.canvas.scene().annotation_layer
    assert [item.frame.title for item in layer.items.values()] == ["Features: convolutions of stride 2", "Classifier"]
    qtbot.waitUntil(lambda: not window.canvas.fit_pending, timeout=2000)  # the frames are fitted into view
    screenshot(window, "lesson_frames_1280x720.png")
    window.canvas.set_zoom(1.0)
    window.canvas.centerOn(0, 0)
    qtbot.waitUntil(window.canvas.minimap.isVisible)
    screenshot(window, "lesson_minimap_1280x720.png")


def test_a_node_added_from_the_palette_covers_no_other(qtbot, tmp_path):
    from _window_helpers import make_window

    window = make_window(qtbot, tmp_path)
    scene = window.canvas.scene()
    window.add_at_center("Dense")
    window.add_at_center("ReLU")  # the middle of the view is taken: the second goes next to the first
    first, second = (item.sceneBoundingRect() for item in scene.nodes.values())
    assert not first.intersects(second)


def _context_menu(qtbot, view, scene_pos: QPointF, path: list[str]) -> None:
    """Right-click at ``scene_pos`` and click through the context menu by its texts, as a user does."""
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QContextMenuEvent
    from PySide6.QtWidgets import QApplication, QMenu

    def click_through() -> None:
        menu = QApplication.activePopupWidget()
        for text in path:
            assert isinstance(menu, QMenu), text
            action = next(a for a in menu.actions() if a.text() == text)
            QTest.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
            if action.menu() is not None:
                menu = action.menu()
                qtbot.waitUntil(menu.isVisible, timeout=2000)

    QTimer.singleShot(50, click_through)
    at = view.mapFromScene(scene_pos)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, at, view.viewport().mapToGlobal(at))
    QApplication.sendEvent(view.viewport(), event)
    qtbot.waitUntil(lambda: not isinstance(QApplication.activePopupWidget(), QMenu), timeout=2000)


def test_a_frame_resizes_by_its_corner_and_takes_a_colour_from_its_menu(qtbot, editor):  # noqa: F811
    controller, view = editor
    doc = controller.document
    inside = chain(controller, "Input", "Dense")
    activate(qtbot, view)
    controller.set_selection(inside)
    QTest.keyClick(view, Qt.Key.Key_G)
    (frame,) = doc.annotations.frames.values()
    x, y, w, h = frame.rect
    before = {n: doc.position(n) for n in inside}
    drag(view, QPointF(x + w - 6, y + h - 6), QPointF(x + w + 194, y + h + 94))  # the corner grip
    resized = doc.annotations.frames[frame.id]
    assert (
        resized.rect[:2] == (x, y) and abs(resized.rect[2] - (w + 200)) <= 20 and abs(resized.rect[3] - (h + 100)) <= 20
    )
    assert {n: doc.position(n) for n in inside} == before  # resizing moves no node
    drag(view, QPointF(x + w + 194, y + h + 94), QPointF(x + 20, y + 20))  # never below a usable size
    small = doc.annotations.frames[frame.id]
    assert small.rect[2] >= 160 and small.rect[3] >= 90
    QTest.keyClick(view, Qt.Key.Key_Z, CTRL)  # each drag is one step
    assert doc.annotations.frames[frame.id] == resized
    QTest.keyClick(view, Qt.Key.Key_Z, CTRL)
    assert doc.annotations.frames[frame.id] == frame
    _context_menu(qtbot, view, QPointF(x + 80, y + 15), ["Colour", "Green"])
    assert doc.annotations.frames[frame.id].color == "#3f8f57"
    item = view.scene().annotation_layer.items[("frame", frame.id)]
    assert item.frame.color == "#3f8f57"
    view.grab().save(str(SHOTS / "frame_recoloured.png"))
    controller.undo_stack.undo()
    assert doc.annotations.frames[frame.id].color == frame.color
    _context_menu(qtbot, view, QPointF(x + w - 40, y + h - 40), ["Delete frame"])  # the body's menu too
    assert not doc.annotations.frames and set(inside) <= set(doc.node_ids())
