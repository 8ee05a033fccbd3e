"""Blocks on the canvas, driven by real mouse and key events: group, open, edit inside, leave, ungroup, undo."""

from __future__ import annotations

import json

import pytest
from _window_helpers import FakePrompts, make_window, screenshot
from block_nets import chain, node, resnet_data, wire
from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from graphedit.model.events import Edge
from graphedit.model.migrations import FORMAT, VERSION
from graphedit.model.project import project_from_json
from graphedit.ui.block_palette import BlocksSection
from graphedit.ui.canvas import BLOCK_FILE_MIME, NODE_MIME, CanvasView
from graphedit.ui.controller import EditorController
from graphedit.ui.palette import PaletteDock

pytestmark = pytest.mark.gui
LEFT = Qt.MouseButton.LeftButton
NOMOD, CTRL = Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ControlModifier
ALT, SHIFT = Qt.KeyboardModifier.AltModifier, Qt.KeyboardModifier.ShiftModifier


def unit_project(kernel: int = 3, padding: int = 1) -> dict:
    """image → u1 (Unit) → u2 (Unit ×2) → flatten → fc → out; Unit is x → conv → relu → y."""
    unit = {
        "name": "Unit",
        "params": [],
        "graph": {
            "nodes": [
                node("x", "BlockInput"),
                {**node("conv", "Conv2d", 250.0, filters=3, kernel=kernel, padding=padding)},
                node("relu", "ReLU", 500.0),
                node("y", "BlockOutput", 750.0),
            ],
            "edges": chain("x", "conv", "relu", "y"),
        },
    }
    nodes = [
        node("image", "Input", 0.0, shape=[3, 8, 8]),
        node("u1", "Unit", 250.0),
        node("u2", "Unit", 500.0, repeat=2),
        node("flatten", "Flatten", 750.0),
        node("fc", "Dense", 1000.0, units=4),
        node("out", "Output", 1250.0),
    ]
    edges = chain("image", "u1", "u2", "flatten", "fc") + [wire("fc", "out")]
    return {"format": FORMAT, "version": VERSION, "blocks": [unit], "graph": {"nodes": nodes, "edges": edges}}


def residual_project() -> dict:
    nodes = [
        node("image", "Input", 0.0, shape=[3, 8, 8]),
        node("conv1", "Conv2d", 250.0, filters=3, kernel=3, padding=1),
        node("bn", "BatchNorm", 500.0),
        node("relu", "ReLU", 750.0),
        node("add", "Add", 1000.0),
        node("flatten", "Flatten", 1250.0),
        node("fc", "Dense", 1500.0, units=4),
    ]
    edges = chain("image", "conv1", "bn", "relu") + [wire("relu", "add", "in1"), wire("image", "add", "in2")]
    edges += chain("add", "flatten", "fc")
    return {"format": FORMAT, "version": VERSION, "graph": {"nodes": nodes, "edges": edges}}


def open_editor(qtbot, data: dict):
    controller = EditorController(project_from_json(data, "test").document)
    view = CanvasView(controller)
    view.resize(1200, 700)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.zoom_to_fit()
    view.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is view)
    view.setFocus()
    return controller, view


def vp(view, p: QPointF):
    return view.mapFromScene(p)


def header(view, node_id: str) -> QPointF:
    return view.scene().nodes[node_id].scenePos() + QPointF(60, 12)


def click(view, node_id: str, mods=NOMOD) -> None:
    QTest.mouseClick(view.viewport(), LEFT, mods, vp(view, header(view, node_id)))


def double_click(view, node_id: str) -> None:
    QTest.mouseDClick(view.viewport(), LEFT, NOMOD, vp(view, header(view, node_id)))


def key(view, k, mods=NOMOD) -> None:
    QTest.keyClick(view, k, mods)


def drop(view, mime: QMimeData, at: QPointF) -> None:
    """A drag from the palette entering the canvas and dropped at scene point ``at``."""
    point = vp(view, at)
    enter = QDragEnterEvent(point, Qt.DropAction.CopyAction, mime, LEFT, NOMOD)
    QApplication.sendEvent(view.viewport(), enter)
    assert enter.isAccepted()
    QApplication.sendEvent(view.viewport(), QDropEvent(QPointF(point), Qt.DropAction.CopyAction, mime, LEFT, NOMOD))


def drop_on_wire(view, type_id: str, edge: Edge) -> None:
    mime = QMimeData()
    mime.setData(NODE_MIME, type_id.encode())
    drop(view, mime, view.scene().edges[edge].midpoint())


def out_shape(controller, node_id: str):
    return controller.root_shapes.infos[node_id].outputs["y"]


def test_group_with_ctrl_g_then_undo_and_redo(qtbot):
    controller, view = open_editor(qtbot, residual_project())
    doc = controller.root
    before = out_shape(controller, "add") if "add" in doc else None
    click(view, "conv1")
    for n in ("bn", "relu", "add"):
        click(view, n, CTRL)
    assert sorted(controller.selection()) == ["add", "bn", "conv1", "relu"]
    key(view, Qt.Key.Key_G, CTRL)
    (block,) = controller.selection()
    assert doc.node_type(block).type_id == "Block1" and "conv1" not in doc and block in view.scene().nodes
    assert doc.edge_into(block, "x").src == "image" and doc.edge_into("flatten", "x").src == block
    assert out_shape(controller, block) == before and "Block1" in view.scene().nodes[block].node_type.title
    view.keymap.undo.trigger()
    assert {"conv1", "bn", "relu", "add"} <= set(doc.node_ids()) and block not in view.scene().nodes
    assert "Block1" not in doc.registry
    view.keymap.redo.trigger()
    assert block in doc and set(view.scene().nodes) == set(doc.node_ids())


def test_grouping_a_data_node_is_refused_with_one_line(qtbot):
    controller, view = open_editor(qtbot, residual_project())
    click(view, "image")
    click(view, "conv1", CTRL)
    key(view, Qt.Key.Key_G, CTRL)
    assert "cannot group image into a block" in view.message_text() and "image" in controller.root
    assert controller.undo_stack.count() == 0


def test_open_edit_inside_changes_every_instance_then_leave_and_undo(qtbot):
    controller, view = open_editor(qtbot, unit_project())
    assert out_shape(controller, "u1") == (2, 3, 8, 8) and out_shape(controller, "u2") == (2, 3, 8, 8)
    double_click(view, "u1")
    assert [level.node_id for level in controller.levels] == ["u1"]
    assert set(view.scene().nodes) == {"x", "conv", "relu", "y"}
    assert view.breadcrumb.isVisible() and "2 block nodes share Unit" in view.breadcrumb.text()
    assert view.scene().nodes["conv"].info.outputs["y"] == (2, 3, 8, 8)
    drop_on_wire(view, "MaxPool2d", Edge("conv", "y", "relu", "x"))  # inside: every instance halves its size
    assert out_shape(controller, "u1") == (2, 3, 4, 4) and out_shape(controller, "u2") == (2, 3, 1, 1)
    assert view.scene().nodes["relu"].info.inputs["x"] == (2, 3, 4, 4)
    key(view, Qt.Key.Key_Escape)  # no interaction active: Esc leaves the block
    assert controller.levels == [] and controller.selection() == ["u1"] and not view.breadcrumb.isVisible()
    assert "flatten" in view.scene().nodes
    view.keymap.undo.trigger()  # the edit inside is undone from the top level
    assert out_shape(controller, "u1") == (2, 3, 8, 8) and out_shape(controller, "u2") == (2, 3, 8, 8)
    view.keymap.redo.trigger()
    assert out_shape(controller, "u2") == (2, 3, 1, 1)


def test_inside_backspace_deletes_esc_first_cancels_a_drag_and_alt_up_leaves(qtbot):
    controller, view = open_editor(qtbot, unit_project())
    double_click(view, "u2")
    assert view.breadcrumb.text().startswith("Project ▸ u2 (Unit, copy 1 of 2)")
    click(view, "relu")
    key(view, Qt.Key.Key_Backspace)
    assert "relu" not in controller.document and controller.levels  # Backspace deletes, it does not leave
    QTest.mousePress(view.viewport(), LEFT, NOMOD, vp(view, header(view, "conv")))
    QTest.mouseMove(view.viewport(), vp(view, header(view, "conv") + QPointF(80, 40)))
    key(view, Qt.Key.Key_Escape)  # cancels the drag, stays inside
    QTest.mouseRelease(view.viewport(), LEFT, NOMOD, vp(view, header(view, "conv") + QPointF(80, 40)))
    assert controller.levels and view.mode is None
    key(view, Qt.Key.Key_Tab)  # quick add: Esc closes it before it would leave the block
    assert view.quick_add.isVisible()
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    assert not view.quick_add.isVisible() and controller.levels
    types = {t.type_id for t in controller.compatible_types(None)}
    assert "BlockOutput" in types and "Input" not in types and "Unit" not in types  # no block inside itself
    key(view, Qt.Key.Key_Up, ALT)
    assert controller.levels == [] and controller.selection() == ["u2"]
    assert "BlockOutput" not in {t.type_id for t in controller.compatible_types(None)}


def test_nested_blocks_open_and_the_breadcrumb_goes_back_up(qtbot):
    controller, view = open_editor(qtbot, resnet_data(18, width=8, size=32))
    double_click(view, "layer2")
    double_click(view, "downsample")
    assert [level.node_id for level in controller.levels] == ["layer2", "downsample"]
    assert set(view.scene().nodes) == {"x", "0", "1", "y"}
    assert view.scene().nodes["0"].info.outputs["y"] == (2, 16, 4, 4)  # stride 2 of the first copy
    assert "filters 16 · kernel 1 · stride 2" in view.scene().nodes["0"]._key  # the card shows this copy's values
    controller.set_param("0", "kernel", 3)  # not bound: the card follows the edit at once
    assert "kernel 3" in view.scene().nodes["0"]._key
    controller.undo_stack.undo()
    assert len(view.breadcrumb.buttons) == 3
    key(view, Qt.Key.Key_Up, ALT)
    assert [level.node_id for level in controller.levels] == ["layer2"] and controller.selection() == ["downsample"]
    QTest.mouseClick(view.breadcrumb.buttons[0], LEFT)
    assert controller.levels == [] and "layer4" in view.scene().nodes


def test_ungroup_with_keys_then_undo_and_redo(qtbot):
    controller, view = open_editor(qtbot, unit_project())
    click(view, "u2")
    key(view, Qt.Key.Key_G, CTRL | SHIFT)
    doc = controller.root
    assert "u2" not in doc and {"u2_0_conv", "u2_1_relu"} <= set(doc.node_ids())
    assert doc.edge_into("u2_1_conv", "x").src == "u2_0_relu" and doc.edge_into("flatten", "x").src == "u2_1_relu"
    assert out_shape(controller, "u2_1_relu") == (2, 3, 8, 8)
    view.keymap.undo.trigger()
    assert "u2" in view.scene().nodes and "u2_0_conv" not in doc
    view.keymap.redo.trigger()
    assert "u2" not in view.scene().nodes and "u2_0_conv" in view.scene().nodes


def test_an_error_inside_shows_on_the_block_node_and_double_click_goes_there(qtbot):
    controller, view = open_editor(qtbot, unit_project(kernel=4, padding=0))  # 8 → 5 → 2 → a 4×4 kernel fails
    item = view.scene().nodes["u2"]
    assert item.footer_text().startswith("⚠ 1/conv: ") and "u2/1/conv" in item.toolTip()
    assert "double-click" in item.footer_text()
    double_click(view, "u2")
    level = controller.levels[-1]
    assert (level.node_id, level.copy) == ("u2", 1) and controller.selection() == ["conv"]
    assert view.scene().nodes["conv"].info.error is not None and view.scene().nodes["conv"].isSelected()
    key(view, Qt.Key.Key_Escape)
    view.go_to_problem("u2")  # the Problems list's way there
    assert controller.levels[-1].copy == 1 and controller.selection() == ["conv"]


def test_undo_of_the_group_while_inside_it_goes_back_up(qtbot):
    controller, view = open_editor(qtbot, residual_project())
    click(view, "bn")
    click(view, "relu", CTRL)
    key(view, Qt.Key.Key_G, CTRL)
    (block,) = controller.selection()
    double_click(view, block)
    assert controller.levels
    view.keymap.undo.trigger()
    assert controller.levels == [] and {"bn", "relu"} <= set(view.scene().nodes)


def test_palette_lists_blocks_saves_to_the_library_and_a_taken_name_is_renamed(qtbot, tmp_path):
    controller, view = open_editor(qtbot, unit_project())
    palette = PaletteDock(controller.registry)
    qtbot.addWidget(palette)
    blocks = BlocksSection(palette, view, tmp_path / "library")
    assert blocks.definition_items()[-1] == "Unit"
    ports = [palette.item_for(t) for t in ("BlockInput", "BlockOutput")]
    assert all(p.isHidden() for p in ports)  # at top level the palette does not offer block ports
    double_click(view, "u1")
    assert not any(p.isHidden() for p in ports)
    key(view, Qt.Key.Key_Escape)
    drop(view, palette.tree.mimeData([palette.item_for("Unit")]), QPointF(600, 400))  # a project definition
    (dropped,) = controller.selection()
    assert controller.root.node_type(dropped).type_id == "Unit" and dropped in view.scene().nodes
    path = blocks.save_to_library("Unit")
    assert [i.text(0) for i in blocks.file_items()] == ["Unit"]
    assert json.loads(path.read_text("utf-8"))["name"] == "Unit"
    # another project whose own Unit differs: the library's one comes in as Unit2, the project's stays
    other = unit_project(kernel=5, padding=2)
    double_click(view, "u1")
    controller.set_document(project_from_json(other, "other").document)  # opened while a block is open
    assert controller.levels == [] and not view.breadcrumb.isVisible() and "u2" in view.scene().nodes
    mime = blocks.palette.tree.mimeData([blocks.file_items()[0]])
    assert bytes(mime.data(BLOCK_FILE_MIME)).decode() == str(path)
    drop(view, mime, QPointF(300, 300))
    (added,) = controller.selection()
    library = controller.root.registry
    assert controller.root.node_type(added).type_id == "Unit2" and "Unit2" in view.message_text()
    assert library.definitions["Unit"].document.params("conv")["kernel"] == 5
    assert "Unit2" in blocks.definition_items()
    view.keymap.undo.trigger()  # one step: the instance and the definition it brought
    assert added not in controller.root and "Unit2" not in library.definitions
    assert "Unit2" not in blocks.definition_items()


def test_a_definition_in_use_cannot_be_deleted_and_an_unused_one_can_until_undo(qtbot, tmp_path):
    controller, view = open_editor(qtbot, unit_project())
    palette = PaletteDock(controller.registry)
    qtbot.addWidget(palette)
    blocks = BlocksSection(palette, view, tmp_path)
    blocks.delete_definition("Unit")
    assert "still used by u1, u2" in view.message_text() and "Unit" in controller.root.registry.definitions
    for node_id in ("u2", "u1"):
        click(view, node_id)
        key(view, Qt.Key.Key_G, CTRL | SHIFT)
    blocks.delete_definition("Unit")
    assert "Unit" not in controller.root.registry.definitions and "Unit" not in blocks.definition_items()
    view.keymap.undo.trigger()
    assert "Unit" in controller.root.registry.definitions and "Unit" in blocks.definition_items()


def test_screenshots_of_a_block_built_resnet(qtbot, tmp_path):
    path = tmp_path / "resnet18.gproj"
    path.write_text(json.dumps(resnet_data(18, width=16, size=32)), "utf-8")
    window = make_window(qtbot, tmp_path, FakePrompts())
    assert window.files.open(path, ask=False)
    window.resize(1280, 720)
    canvas = window.canvas
    qtbot.waitUntil(lambda: "layer2" in canvas.scene().nodes)
    qtbot.waitUntil(lambda: not canvas.fit_pending, timeout=2000)  # the zoom to fit queued by the opening
    canvas.auto_layout()  # the generated project has no layout
    assert "BasicBlock" in window.blocks.definition_items()

    def look_at(node_id: str, zoom: float = 0.8) -> None:
        canvas.set_zoom(zoom)
        canvas.centerOn(canvas.scene().nodes[node_id].sceneBoundingRect().center())

    look_at("layer2")
    window.controller.set_selection(["layer2"])
    screenshot(window, "blocks_resnet_top.png")
    double_click(canvas, "layer2")
    assert window.controller.levels and canvas.breadcrumb.isVisible()
    qtbot.waitUntil(lambda: "conv1" in canvas.scene().nodes)
    look_at("bn1")
    window.controller.set_selection(["conv1"])
    rows = window.inspector.params_form
    labels = [rows.itemAt(i, rows.ItemRole.LabelRole) for i in range(rows.rowCount())]
    labels = [item.widget().text() for item in labels if item is not None]  # (the note under them spans the row)
    assert "filters ← filters" in labels and "stride ← stride" in labels and "kernel" in labels
    screenshot(window, "blocks_resnet_inside.png")
    small = canvas.size()
    window.resize(1920, 1080)
    # the window's layout gives the canvas the room before it fits into it
    qtbot.waitUntil(lambda: canvas.width() > small.width() and canvas.height() > small.height(), timeout=2000)
    canvas.zoom_to_fit()
    screenshot(window, "blocks_resnet_inside_large.png")
    window.controller.leave_block()
    canvas.zoom_to_fit()
    screenshot(window, "blocks_resnet_top_large.png")


def test_the_overrides_editor_shows_and_takes_json(qtbot):
    from graphedit.model.blocks import OVERRIDES_DOC
    from graphedit.nodes.spec import Param
    from graphedit.ui.option_editors import make_editor

    param = Param("overrides", "overrides", (), doc=OVERRIDES_DOC)
    value = param.coerce({"0": {"stride": 2, "downsample": True}})
    editor = make_editor(param, value)
    qtbot.addWidget(editor)
    assert json.loads(editor.text()) == {"0": {"downsample": True, "stride": 2}}
    offered = []
    editor.signals.committed.connect(offered.append)
    editor.setFocus()
    editor.selectAll()
    QTest.keyClicks(editor, '{"1": {"stride": 1}}')
    QTest.keyClick(editor, Qt.Key.Key_Return)
    assert offered and param.coerce(offered[-1]) == ((1, (("stride", 1),)),)
