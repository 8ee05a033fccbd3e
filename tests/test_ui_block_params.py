"""Expose an inner parameter as a block parameter from the Inspector, un-expose it, and rename a definition from
the palette's Blocks section: each one undo step, every instance follows (issue 13)."""

from __future__ import annotations

import pytest
from _window_helpers import screenshot
from block_nets import chain, node, wire
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from test_ui_blocks import double_click, key, open_editor, out_shape, unit_project

from graphedit.model.blocks import Exposed
from graphedit.model.project import Project, project_to_json
from graphedit.ui.block_palette import BlocksSection
from graphedit.ui.block_param_row import ExposeRow
from graphedit.ui.inspector import InspectorDock
from graphedit.ui.palette import PaletteDock

pytestmark = pytest.mark.gui
LEFT = Qt.MouseButton.LeftButton


def with_inspector(qtbot, data: dict):
    controller, view = open_editor(qtbot, data)
    inspector = InspectorDock(controller)
    qtbot.addWidget(inspector)
    inspector.resize(420, 640)
    inspector.move(1250, 0)  # beside the canvas, not over it
    inspector.show()
    qtbot.waitExposed(inspector)
    return controller, view, inspector


def form_row(inspector, param: str) -> tuple[str, ExposeRow]:
    """The label text and the row of ``param`` in the Inspector's parameters."""
    form = inspector.params_form
    for i in range(form.rowCount()):
        field = form.itemAt(i, form.ItemRole.FieldRole).widget()
        if isinstance(field, ExposeRow) and field.param == param:
            return form.itemAt(i, form.ItemRole.LabelRole).widget().text(), field
    raise AssertionError(param)


def row(inspector, param: str) -> ExposeRow:
    return form_row(inspector, param)[1]


def label_of(inspector, param: str) -> str:
    return form_row(inspector, param)[0]


def test_expose_a_parameter_from_the_inspector_then_un_expose_each_one_undo_step(qtbot):
    controller, view, inspector = with_inspector(qtbot, unit_project())
    root, library = controller.root, controller.root.registry
    steps = controller.undo_stack.count()
    double_click(view, "u1")
    controller.set_selection(["conv"])
    filters = row(inspector, "filters")
    assert filters.button.text() == "Expose" and filters.button.isVisible()
    QTest.mouseClick(filters.button, LEFT)
    assert filters.name_edit.isVisible() and filters.name_edit.text() == "filters"  # the default name
    QTest.keyClicks(filters.name_edit, "width")  # typed over the selected default
    QTest.keyClick(filters.name_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: library.definitions["Unit"].exposed == [Exposed("width", ("conv.filters",))])
    assert root.params("u1")["width"] == 3 and root.params("u2")["width"] == 3  # each instance: the current value
    assert controller.undo_stack.count() == steps + 1
    assert label_of(inspector, "filters") == "filters ← width" and not inspector.editors["filters"].isEnabled()
    assert row(inspector, "filters").button.text() == "Un-expose"
    # a taken name is refused with the reason, nothing changes
    kernel = row(inspector, "kernel")
    QTest.mouseClick(kernel.button, LEFT)
    kernel.name_edit.setText("width")
    QTest.keyClick(kernel.name_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "taken" in inspector.message_label.text())
    assert "taken" in inspector.message_label.text() and len(library.definitions["Unit"].exposed) == 1
    assert controller.undo_stack.count() == steps + 1
    # each block node has its value now: the card shows its own, the Inspector the opened copy's (read-only)
    controller.leave_block()  # (the Inspector has the keyboard)
    controller.set_param("u2", "width", 5)
    assert out_shape(controller, "u2") == (2, 5, 8, 8) and out_shape(controller, "u1") == (2, 3, 8, 8)
    double_click(view, "u2")
    controller.set_selection(["conv"])
    assert inspector.editors["filters"].value() == 5 and "u2 (Unit" in view.breadcrumb.text()
    assert view.scene().nodes["conv"].params["filters"] == 5
    screenshot(inspector, "blocks_inspector_bound.png")
    QTest.mouseClick(row(inspector, "filters").button, LEFT)  # un-expose: the instances' values go
    qtbot.waitUntil(lambda: library.definitions["Unit"].exposed == [])
    assert library.definitions["Unit"].exposed == [] and "width" not in root.params("u2")
    assert out_shape(controller, "u2") == (2, 3, 8, 8) and inspector.editors["filters"].isEnabled()
    assert label_of(inspector, "filters") == "filters"
    view.keymap.undo.trigger()  # the value u2 had comes back with the parameter
    assert root.params("u2")["width"] == 5 and out_shape(controller, "u2") == (2, 5, 8, 8)
    assert label_of(inspector, "filters") == "filters ← width"
    view.keymap.undo.trigger()  # u2's width edit
    view.keymap.undo.trigger()  # the expose
    assert library.definitions["Unit"].exposed == [] and "width" not in root.params("u1")
    view.keymap.redo.trigger()
    assert root.params("u1")["width"] == 3 and library.get("Unit").param("width").default == 3


def nested_project() -> dict:
    """unit_project with a Pair definition holding a Unit (``a``), used after u2 (``p``)."""
    data = unit_project()
    pair = {
        "name": "Pair",
        "params": [],
        "graph": {
            "nodes": [node("x", "BlockInput"), node("a", "Unit", 250.0), node("y", "BlockOutput", 500.0)],
            "edges": chain("x", "a", "y"),
        },
    }
    data["blocks"].append(pair)
    graph = data["graph"]
    graph["nodes"].append(node("p", "Pair", 600.0))
    graph["edges"] = [e for e in graph["edges"] if e["src"] != "u2"] + [wire("u2", "p"), wire("p", "flatten")]
    return data


def test_rename_a_definition_from_the_palette_every_use_follows_and_undo(qtbot, tmp_path):
    controller, view = open_editor(qtbot, nested_project())
    palette = PaletteDock(controller.registry)
    qtbot.addWidget(palette)
    blocks = BlocksSection(palette, view, tmp_path)
    root, library = controller.root, controller.root.registry
    shape = out_shape(controller, "p")
    steps = controller.undo_stack.count()
    assert not blocks.rename_definition("Unit", "Pair")  # taken: refused, with the reason
    assert "a block named 'Pair' already exists" in view.message_text() and "Unit" in library.definitions
    assert not blocks.rename_definition("Unit", "2cells") and "not a valid block name" in view.message_text()
    assert controller.undo_stack.count() == steps
    double_click(view, "u1")  # renamed while open: the canvas stays inside
    assert blocks.rename_definition("Unit", "Cell")
    assert controller.undo_stack.count() == steps + 1 and [lvl.name for lvl in controller.levels] == ["Cell"]
    assert "u1 (Cell)" in view.breadcrumb.text() and "conv" in view.scene().nodes
    key(view, Qt.Key.Key_Escape)
    assert {root.node_type(n).type_id for n in ("u1", "u2")} == {"Cell"} and "Unit" not in library.definitions
    assert library.definitions["Pair"].document.node_type("a").type_id == "Cell"
    assert view.scene().nodes["u1"].node_type.title == "Cell" and out_shape(controller, "p") == shape
    assert "Cell" in blocks.definition_items() and "Unit" not in blocks.definition_items()
    saved = project_to_json(Project(document=root))
    assert [b["name"] for b in saved["blocks"]] == ["Cell", "Pair"]
    assert saved["blocks"][1]["graph"]["nodes"][1]["type"] == "Cell"
    view.keymap.undo.trigger()
    assert root.node_type("u1").type_id == "Unit" and "Cell" not in library.definitions
    assert library.definitions["Pair"].document.node_type("a").type_id == "Unit"
    assert view.scene().nodes["u2"].node_type.title == "Unit" and "Unit" in blocks.definition_items()
    view.keymap.redo.trigger()
    assert root.node_type("u2").type_id == "Cell" and out_shape(controller, "p") == shape
