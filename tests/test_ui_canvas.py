"""The canvas driven by real mouse and key events through the view (offscreen)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _window_helpers import SCREENSHOTS as SHOTS
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from graphedit.model.document import GraphDocument
from graphedit.model.events import Edge
from graphedit.ui.canvas import NODE_MIME, CanvasView
from graphedit.ui.canvas.port_item import DIM, FIT, REFUSE
from graphedit.ui.controller import EditorController

pytestmark = pytest.mark.gui
LEFT, MID = Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton
NOMOD = Qt.KeyboardModifier.NoModifier
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def editor(qtbot):
    controller = EditorController(GraphDocument())
    view = CanvasView(controller)
    view.resize(1200, 700)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.set_zoom(1.0)
    view.centerOn(400, 150)
    view.setFocus()
    return controller, view


def activate(qtbot, view: CanvasView) -> None:
    view.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is view)
    view.setFocus()


def vp(view: CanvasView, p: QPointF) -> QPoint:
    return view.mapFromScene(p)


def port(view: CanvasView, node: str, name: str, output: bool) -> QPointF:
    return view.scene().nodes[node].port_pos(name, output)


def header(view: CanvasView, node: str) -> QPointF:
    return view.scene().nodes[node].scenePos() + QPointF(60, 12)


def press(view, p: QPointF, button=LEFT, mods=NOMOD) -> None:
    QTest.mousePress(view.viewport(), button, mods, vp(view, p))


def move(view, p: QPointF) -> None:
    QTest.mouseMove(view.viewport(), vp(view, p))


def release(view, p: QPointF, button=LEFT, mods=NOMOD) -> None:
    QTest.mouseRelease(view.viewport(), button, mods, vp(view, p))


def drag(view, a: QPointF, b: QPointF, steps: int = 6, button=LEFT, mods=NOMOD) -> None:
    press(view, a, button, mods)
    for i in range(1, steps + 1):
        move(view, a + (b - a) * (i / steps))
    release(view, b, button, mods)


def snapshot(doc: GraphDocument) -> dict:
    data = doc.to_json()
    return {"nodes": sorted(data["nodes"], key=lambda n: n["id"]), "edges": data["edges"]}


def chain(controller: EditorController, *types: str, y: float = 0.0) -> list[str]:
    ids = [controller.add_node(t, (260.0 * i, y)) for i, t in enumerate(types)]
    for a, b in zip(ids, ids[1:]):
        controller.connect(a, "y", b, "x")
    return ids


def test_drag_from_output_to_input_connects_and_lights_fitting_ports(editor):
    controller, view = editor
    src = controller.add_node("Input", (0, 0), {"shape": [4]})
    dst = controller.add_node("Dense", (300, 0))
    a, b = port(view, src, "y", True), port(view, dst, "x", False)
    press(view, a)
    move(view, (a + b) / 2)
    assert view.scene().nodes[dst].ports[("x", False)].state == FIT
    assert view.scene().nodes[dst].ports[("y", True)].state == DIM  # output to output does not fit
    move(view, b)
    release(view, b)
    assert controller.document.edges() == [Edge(src, "y", dst, "x")]
    assert view.scene().edges[Edge(src, "y", dst, "x")].label == "[N, 4]"
    controller.undo_stack.undo()
    assert controller.document.edges() == []


def test_only_ports_whose_shape_fits_light_up_but_a_mismatch_still_connects(editor):
    controller, view = editor
    img = controller.add_node("Input", (0, 0), {"shape": [1, 8, 8]})
    conv = controller.add_node("Conv2d", (260, 0), {"padding": 1})
    dense = controller.add_node("Dense", (560, -120))
    flat = controller.add_node("Flatten", (560, 120))
    controller.connect(img, "y", conv, "x")
    a = port(view, conv, "y", True)
    press(view, a)
    move(view, a + QPointF(40, 0))
    assert view.scene().nodes[flat].ports[("x", False)].state == FIT
    assert view.scene().nodes[dense].ports[("x", False)].state == DIM  # [N, 16, 8, 8] into Dense: needs Flatten
    b = port(view, dense, "x", False)
    move(view, b)
    assert not view.mode.wire.refused  # allowed: the user may wire first and insert the Flatten after
    release(view, b)
    assert Edge(conv, "y", dense, "x") in controller.document.edges()
    assert "Flatten" in controller.info(dense).error.fix


def test_wire_that_would_close_a_cycle_is_refused_visibly(editor):
    controller, view = editor
    d1, d2, d3 = chain(controller, "Dense", "Dense", "Dense")
    steps = controller.undo_stack.count()
    a, b = port(view, d3, "y", True), port(view, d1, "x", False)
    press(view, a)
    move(view, (a + b) / 2)
    move(view, b)
    target = view.scene().nodes[d1].ports[("x", False)]
    assert target.state == REFUSE and view.mode.wire.refused
    release(view, b)
    assert len(controller.document.edges()) == 2
    assert controller.undo_stack.count() == steps
    assert "cycle" in view.message_text()


def test_dropping_on_an_occupied_input_replaces_its_edge(editor):
    controller, view = editor
    i1 = controller.add_node("Input", (0, 0), {"shape": [3]})
    i2 = controller.add_node("Input", (0, 200), {"shape": [5]})
    dense = controller.add_node("Dense", (300, 0))
    controller.connect(i1, "y", dense, "x")
    drag(view, port(view, i2, "y", True), port(view, dense, "x", False))
    assert controller.document.edges() == [Edge(i2, "y", dense, "x")]
    controller.undo_stack.undo()
    assert controller.document.edges() == [Edge(i1, "y", dense, "x")]


def test_dropping_a_node_onto_a_wire_inserts_it(editor):
    controller, view = editor
    src = controller.add_node("Input", (0, 0), {"shape": [8]})
    dst = controller.add_node("Dense", (700, 0))
    controller.connect(src, "y", dst, "x")
    relu = controller.add_node("ReLU", (300, 300))
    mid = view.scene().edges[Edge(src, "y", dst, "x")].midpoint()
    grab = header(view, relu)
    item = view.scene().nodes[relu]
    center_offset = item.sceneBoundingRect().center() - grab
    drag(view, grab, mid - center_offset, steps=8)
    assert set(controller.document.edges()) == {Edge(src, "y", relu, "x"), Edge(relu, "y", dst, "x")}
    controller.undo_stack.undo()
    assert controller.document.edges() == [Edge(src, "y", dst, "x")]


def test_a_drag_is_one_undo_step_and_snaps_to_the_grid(editor):
    controller, view = editor
    node = controller.add_node("ReLU", (0, 0))
    steps = controller.undo_stack.count()
    drag(view, header(view, node), header(view, node) + QPointF(133, 47), steps=10)
    assert controller.undo_stack.count() == steps + 1
    x, y = controller.document.position(node)
    assert (x, y) != (0, 0) and x % 20 == 0 and y % 20 == 0
    controller.undo_stack.undo()
    assert controller.document.position(node) == (0, 0)
    assert view.scene().nodes[node].pos() == QPointF(0, 0)
    controller.undo_stack.redo()
    assert controller.document.position(node) == (x, y)


def test_rubber_band_selects_what_it_touches(editor):
    controller, view = editor
    a = controller.add_node("ReLU", (0, 0))
    b = controller.add_node("ReLU", (250, 0))
    controller.add_node("ReLU", (0, 400))
    drag(view, QPointF(-40, -40), QPointF(300, 60))
    assert sorted(controller.selection()) == sorted([a, b])
    press(view, QPointF(-200, 600))  # a click on empty canvas clears
    release(view, QPointF(-200, 600))
    assert controller.selection() == []


def test_delete_key_removes_selection_and_undo_restores_edges(editor):
    controller, view = editor
    ids = chain(controller, "Input", "Dense", "ReLU")
    before = snapshot(controller.document)
    view.scene().select_nodes([ids[1]])
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert ids[1] not in controller.document and controller.document.edges() == []
    QTest.keyClick(view, Qt.Key.Key_Z, CTRL)
    assert snapshot(controller.document) == before
    QTest.keyClick(view, Qt.Key.Key_Z, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert ids[1] not in controller.document


def test_copy_paste_through_the_system_clipboard_between_two_windows(editor, qtbot):
    controller, view = editor
    ids = chain(controller, "Input", "Dense")
    controller.set_param(ids[1], "units", 7)
    view.select_all()
    QTest.keyClick(view, Qt.Key.Key_C, CTRL)
    data = json.loads(QGuiApplication.clipboard().text())
    assert {n["id"] for n in data["nodes"]} == set(ids)
    QTest.keyClick(view, Qt.Key.Key_V, CTRL)
    assert len(controller.document) == 4 and len(controller.document.edges()) == 2
    pasted = controller.selection()
    assert len(pasted) == 2 and not set(pasted) & set(ids)
    other = EditorController(GraphDocument())
    window = CanvasView(other)
    qtbot.addWidget(window)
    window.show()
    activate(qtbot, window)  # shortcuts go to the active window, as when the user clicks into it
    QTest.keyClick(window, Qt.Key.Key_V, CTRL)
    assert sorted(other.document.node_ids()) == sorted(ids)
    assert other.document.params(ids[1])["units"] == 7
    activate(qtbot, view)
    QTest.keyClick(view, Qt.Key.Key_D, CTRL)  # duplicate
    assert len(controller.document) == 6
    controller.undo_stack.undo()
    controller.undo_stack.undo()
    assert sorted(controller.document.node_ids()) == sorted(ids)


def test_quick_add_from_a_wire_dropped_on_empty_canvas(editor):
    controller, view = editor
    src = controller.add_node("Input", (0, 0), {"shape": [1, 8, 8]})
    a = port(view, src, "y", True)
    drag(view, a, a + QPointF(250, 60))
    popup = view.quick_add
    assert popup.isVisible()
    listed = {popup.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(popup.list.count())}
    assert "Conv2d" in listed and "Input" not in listed and "Target" not in listed
    assert "Dense" not in listed  # [N, 1, 8, 8] needs a Flatten first
    QTest.keyClicks(popup.edit, "relu")
    assert popup.list.currentItem().data(Qt.ItemDataRole.UserRole) == "ReLU"
    QTest.keyClick(popup.edit, Qt.Key.Key_Return)
    assert not popup.isVisible()
    (relu,) = [n for n in controller.document.node_ids() if n != src]
    assert controller.document.edges() == [Edge(src, "y", relu, "x")]
    controller.undo_stack.undo()
    assert controller.document.node_ids() == [src]


def test_tab_and_double_click_open_quick_add(editor):
    controller, view = editor
    QTest.keyClick(view, Qt.Key.Key_Tab)
    assert view.quick_add.isVisible()
    QTest.keyClick(view.quick_add.edit, Qt.Key.Key_Escape)
    assert not view.quick_add.isVisible()
    QTest.mouseDClick(view.viewport(), LEFT, NOMOD, vp(view, QPointF(500, 300)))
    assert view.quick_add.isVisible()
    QTest.keyClicks(view.quick_add.edit, "dense")
    QTest.keyClick(view.quick_add.edit, Qt.Key.Key_Enter)
    (node,) = controller.document.node_ids()
    assert controller.document.node_type(node).type_id == "Dense"
    x, y = controller.document.position(node)
    assert abs(x + 94 - 500) < 40 and abs(y - 300) < 40


def test_mute_with_m_greys_the_node_and_passes_input_through(editor):
    controller, view = editor
    ids = chain(controller, "Input", "Dense", "ReLU")
    controller.set_param(ids[0], "shape", [5])
    view.scene().select_nodes([ids[1]])
    QTest.keyClick(view, Qt.Key.Key_M)
    assert controller.document.is_muted(ids[1])
    assert view.scene().nodes[ids[1]].opacity() < 1
    assert controller.info(ids[2]).outputs["y"] == (2, 5)  # Dense bypassed: [N, 5] passes through
    controller.undo_stack.undo()
    assert not controller.document.is_muted(ids[1]) and view.scene().nodes[ids[1]].opacity() == 1


def test_mime_drop_creates_the_node_at_the_drop_point(editor):
    controller, view = editor
    mime = QMimeData()
    mime.setData(NODE_MIME, b"Conv2d")
    at = vp(view, QPointF(400, 200))
    enter = QDragEnterEvent(at, Qt.DropAction.CopyAction, mime, LEFT, NOMOD)
    QApplication.sendEvent(view.viewport(), enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(at), Qt.DropAction.CopyAction, mime, LEFT, NOMOD)
    QApplication.sendEvent(view.viewport(), drop)
    (node,) = controller.document.node_ids()
    x, y = controller.document.position(node)
    assert abs(x + 94 - 400) <= 20 and abs(y + 26 - 200) <= 20
    assert controller.selection() == [node]


def test_zoom_pan_and_fit(editor):
    controller, view = editor
    chain(controller, "Input", "Dense", "ReLU", "Dense", "ReLU", "Dense", "Dense")
    z = view.zoom()
    wheel = QWheelEvent(
        QPointF(300, 300),
        QPointF(300, 300),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        NOMOD,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), wheel)
    assert view.zoom() > z
    QTest.keyClick(view, Qt.Key.Key_Minus)
    QTest.keyClick(view, Qt.Key.Key_F)
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(view.scene().items_rect())
    center = view.mapToScene(view.viewport().rect().center())
    drag(view, QPointF(center), QPointF(center) + QPointF(100, 0), button=MID)
    assert view.mapToScene(view.viewport().rect().center()).x() < center.x() - 50
    QTest.keyPress(view, Qt.Key.Key_Space)
    center = view.mapToScene(view.viewport().rect().center())
    drag(view, QPointF(center), QPointF(center) + QPointF(0, 80))
    QTest.keyRelease(view, Qt.Key.Key_Space)
    assert view.mapToScene(view.viewport().rect().center()).y() < center.y() - 30
    assert controller.selection() == []


def test_auto_layout_is_layered_left_to_right_in_one_step(editor):
    controller, view = editor
    doc = controller.document
    ids = chain(controller, "Input", "Dense", "ReLU", "Dense")
    for i, n in enumerate(ids):
        controller.move_nodes({n: (-300.0 * i, 50.0 * i)}, merge=False)
    steps = controller.undo_stack.count()
    QTest.keyClick(view, Qt.Key.Key_L)
    xs = [doc.position(n)[0] for n in ids]
    assert xs == sorted(xs) and len(set(xs)) == 4
    assert controller.undo_stack.count() == steps + 1


def test_edit_updates_only_changed_labels(editor):
    controller, view = editor
    ids = chain(controller, "Input", "Dense", "ReLU", "Dense")
    controller.add_node("ReLU", (0, 500))
    controller.set_param(ids[1], "units", 12)
    assert set(controller.changed_nodes) == set(ids[1:])
    assert view.scene().edges[Edge(ids[2], "y", ids[3], "x")].label == "[N, 12]"
    assert "12 units" not in view.scene().nodes[ids[1]].footer_text()


def _keras_cnn(controller: EditorController) -> None:
    path = Path(__file__).parents[1] / "projects" / "keras_cnn.gproj"
    from graphedit.model.project import load_project

    controller.set_document(load_project(path).document)


def test_screenshot_keras_cnn(qtbot):
    controller = EditorController(GraphDocument())
    _keras_cnn(controller)
    view = CanvasView(controller)
    view.resize(1800, 720)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    doc = controller.document
    order = doc.topological_order()
    assert not controller.problems()
    # two rows so that a screenshot is readable: the layers, then the head
    row1 = ["image", "conv1", "relu1", "conv2", "relu2", "conv3", "relu3"]
    row2 = ["flatten1", "dropout1", "dense1", "relu4", "dropout2", "dense2"]
    moves = {n: (280.0 * i, 0.0) for i, n in enumerate(row1)}
    moves |= {n: (280.0 * i, 240.0) for i, n in enumerate(row2)}
    moves |= {"ce": (1680.0, 200.0), "accuracy": (1680.0, 340.0), "logits": (1680.0, 480.0), "label": (1400.0, 420.0)}
    assert set(moves) == set(order)
    controller.move_nodes(moves, merge=False)
    view.scene().select_nodes(["conv2"])
    view.zoom_to_fit()
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert view.grab().save(str(SHOTS / "canvas_keras_cnn.png"))


def test_error_node_is_red_with_fix_in_tooltip_and_screenshot(editor):
    controller, view = editor
    ids = chain(controller, "Input", "Conv2d", "Dense", "ReLU")
    controller.set_param(ids[0], "shape", [1, 28, 28])
    item = view.scene().nodes[ids[2]]
    assert item.error is not None
    assert "— Fix:" in item.toolTip() and "Flatten" in item.toolTip()
    assert [e.node_id for e in controller.problems()] == [ids[2]]
    assert view.scene().edges[Edge(ids[2], "y", ids[3], "x")].label == "?"
    view.zoom_to_fit()
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert view.grab().save(str(SHOTS / "canvas_error.png"))


def test_click_a_wire_and_delete_it_or_lift_it_off_an_input(editor):
    controller, view = editor
    ids = chain(controller, "Input", "Dense", "ReLU")
    edge = Edge(ids[1], "y", ids[2], "x")
    press(view, view.scene().edges[edge].midpoint())
    release(view, view.scene().edges[edge].midpoint())
    assert view.scene().edges[edge].isSelected()
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert edge not in controller.document.edges()
    controller.undo_stack.undo()
    # dragging from a wired input lifts the wire; dropping it on empty canvas disconnects
    drag(view, port(view, ids[2], "x", False), port(view, ids[2], "x", False) + QPointF(-120, 200))
    assert edge not in controller.document.edges()
    assert not view.quick_add.isVisible()
    controller.undo_stack.undo()
    assert edge in controller.document.edges()
