"""Frames follow grouped nodes into a block and come back on Ungroup; undo restores them (issue 13)."""

from __future__ import annotations

import pytest
from _window_helpers import screenshot
from PySide6.QtCore import Qt
from test_ui_blocks import CTRL, SHIFT, click, double_click, key, open_editor, residual_project

from graphedit.model.annotations import frame_around, nodes_inside
from graphedit.model.geometry import node_rects
from graphedit.model.project import Project, project_from_json, project_to_json

pytestmark = pytest.mark.gui
BODY = ["conv1", "bn", "relu", "add"]


def framed_project() -> dict:
    """residual_project with a frame around its body (it follows the body) and one around image and conv1."""
    data = residual_project()
    rects = node_rects(project_from_json(data, "test").document)
    rect = frame_around([rects[n] for n in BODY])
    mixed = frame_around([rects[n] for n in ("image", "conv1")])
    data["graph"]["frames"] = [
        {"id": "frame1", "title": "Residual", "rect": list(rect), "color": "#3f8f57"},
        {"id": "frame2", "title": "Stem", "rect": list(mixed)},
    ]
    return data


def held(doc, frame_id: str) -> set[str]:
    return set(nodes_inside(doc.annotations.frames[frame_id], node_rects(doc)))


def test_a_frame_follows_its_nodes_into_the_block_and_back_on_ungroup(qtbot):
    controller, view = open_editor(qtbot, framed_project())
    doc = controller.root
    layer = view.scene().annotation_layer
    click(view, "conv1")
    for n in BODY[1:]:
        click(view, n, CTRL)
    key(view, Qt.Key.Key_G, CTRL)
    (block,) = controller.selection()
    definition = doc.registry.definitions["Block1"]
    assert set(doc.annotations.frames) == {"frame2"} and ("frame", "frame1") not in layer.items
    assert definition.document.annotations.frames["frame1"].title == "Residual"  # holds nodes of other kinds too
    assert held(definition.document, "frame1") == set(BODY)
    saved = project_to_json(Project(document=doc))
    assert saved["blocks"][0]["graph"]["frames"][0]["id"] == "frame1" and len(saved["graph"]["frames"]) == 1
    double_click(view, block)  # inside, the frame is on the canvas around the nodes
    assert ("frame", "frame1") in view.scene().annotation_layer.items
    view.resize(1280, 720)
    view.zoom_to_fit()
    screenshot(view, "blocks_frame_inside.png")
    key(view, Qt.Key.Key_Escape)
    view.keymap.undo.trigger()  # ungrouped by undo: the frame is back where it was
    assert set(doc.annotations.frames) == {"frame1", "frame2"} and held(doc, "frame1") == set(BODY)
    assert ("frame", "frame1") in view.scene().annotation_layer.items
    view.keymap.redo.trigger()
    assert set(doc.annotations.frames) == {"frame2"} and "frame1" in definition.document.annotations.frames
    click(view, block)
    key(view, Qt.Key.Key_G, CTRL | SHIFT)  # Ungroup: the frame comes back around the expanded nodes
    assert block not in doc and set(doc.annotations.frames) == {"frame1", "frame2"}
    # around the expanded nodes (Ungroup lays them out from the block node's place, over what lies beyond it)
    assert set(BODY) <= held(doc, "frame1") and ("frame", "frame1") in view.scene().annotation_layer.items
    view.keymap.undo.trigger()
    assert set(doc.annotations.frames) == {"frame2"} and block in doc


def test_a_repeated_block_ungroups_with_a_frame_around_each_copy(qtbot):
    controller, view = open_editor(qtbot, framed_project())
    doc = controller.root
    block = controller.group(BODY)
    controller.set_param(block, "repeat", 2)
    controller.ungroup(block)
    titles = {f.id: f.title for f in doc.annotations.frames.values()}
    assert titles == {"frame2": "Stem", "frame1": "Residual 1", "frame12": "Residual 2"}
    assert {f"{block}_0_{n}" for n in BODY} <= held(doc, "frame1")
    assert {f"{block}_1_{n}" for n in BODY} <= held(doc, "frame12")
    assert not {f"{block}_1_{n}" for n in BODY} & held(doc, "frame1")
