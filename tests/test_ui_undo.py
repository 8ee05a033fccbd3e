"""Undo and redo of every edit through the controller's QUndoStack (no view needed)."""

from __future__ import annotations

import pytest

from graphedit.errors import GraphError, ParamError
from graphedit.model.document import GraphDocument
from graphedit.model.events import Edge
from graphedit.ui.controller import EditorController

pytestmark = pytest.mark.gui


def snapshot(doc: GraphDocument) -> dict:
    data = doc.to_json()
    return {"nodes": sorted(data["nodes"], key=lambda n: n["id"]), "edges": data["edges"]}


@pytest.fixture
def ctl(qapp) -> EditorController:
    c = EditorController(GraphDocument())
    ids = [c.add_node(t, (200.0 * i, 0.0)) for i, t in enumerate(["Input", "Dense", "ReLU", "Dense"])]
    for a, b in zip(ids, ids[1:]):
        c.connect(a, "y", b, "x")
    c.undo_stack.clear()
    return c


EDITS = {
    "add": lambda c: c.add_node("Conv2d", (0, 300), {"filters": 8}),
    "remove": lambda c: c.remove_nodes(["dense1", "relu1"]),
    "connect": lambda c: c.connect("input1", "y", "dense2", "x"),
    "disconnect": lambda c: c.disconnect(Edge("dense1", "y", "relu1", "x")),
    "set_param": lambda c: c.set_param("dense1", "units", 5),
    "move": lambda c: c.move_nodes({"dense1": (40, 80), "relu1": (60, 80)}),
    "rename": lambda c: c.rename("dense1", "hidden"),
    "mute": lambda c: c.set_muted("relu1", True),
    "paste": lambda c: c.paste_json(c.copy_json(["dense1", "relu1"])),
    "insert_on_edge": lambda c: c.insert_on_edge(c.add_node("Dropout", (0, 400)), Edge("relu1", "y", "dense2", "x")),
    "toggle_muted": lambda c: c.toggle_muted(["dense1", "relu1"]),
}


@pytest.mark.parametrize("name", sorted(EDITS))
def test_each_edit_undoes_and_redoes(ctl, name):
    before = snapshot(ctl.document)
    infos_before = {n: ctl.info(n).outputs for n in ctl.document.node_ids()}
    EDITS[name](ctl)
    after = snapshot(ctl.document)
    assert after != before
    while ctl.undo_stack.canUndo():
        ctl.undo_stack.undo()
    assert snapshot(ctl.document) == before
    assert {n: ctl.info(n).outputs for n in ctl.document.node_ids()} == infos_before
    while ctl.undo_stack.canRedo():
        ctl.undo_stack.redo()
    assert snapshot(ctl.document) == after


def test_refused_edits_raise_and_leave_the_stack_alone(ctl):
    add = ctl.add_node("Add", (800, 0))
    ctl.connect("dense2", "y", add, "in1")
    ctl.undo_stack.clear()
    before = snapshot(ctl.document)
    with pytest.raises(GraphError, match="cycle"):
        ctl.connect("dense2", "y", "dense1", "x")
    with pytest.raises(ParamError):
        ctl.set_param("dense1", "units", -3)
    with pytest.raises(GraphError):
        ctl.rename("dense1", "relu1")
    with pytest.raises(GraphError, match="cycle"):  # second half of the insert fails: the first is rolled back
        ctl.insert_on_edge(add, Edge("input1", "y", "dense1", "x"))
    assert ctl.undo_stack.count() == 0
    assert snapshot(ctl.document) == before


def test_typing_in_one_field_merges_but_another_field_does_not(ctl):
    for units in (1, 12, 128):
        ctl.set_param("dense1", "units", units)
    assert ctl.undo_stack.count() == 1
    ctl.set_param("dense2", "units", 3)
    assert ctl.undo_stack.count() == 2
    ctl.undo_stack.undo()
    ctl.undo_stack.undo()
    assert ctl.document.params("dense1")["units"] == 32


def test_moves_of_one_drag_merge_and_the_next_drag_is_a_new_step(ctl):
    for x in (10, 20, 30):
        ctl.move_nodes({"relu1": (400 + x, 0)})
    ctl.finish_moves()
    ctl.move_nodes({"relu1": (0, 500)})
    ctl.finish_moves()
    assert ctl.undo_stack.count() == 2
    ctl.undo_stack.undo()
    assert ctl.document.position("relu1") == (430, 0)
    ctl.undo_stack.undo()
    assert ctl.document.position("relu1") == (400, 0)


def test_connect_into_an_occupied_input_is_one_step_and_undo_restores_the_old_wire(ctl):
    ctl.connect("input1", "y", "relu1", "x")
    assert ctl.document.edge_into("relu1", "x") == Edge("input1", "y", "relu1", "x")
    assert ctl.undo_stack.count() == 1
    ctl.undo_stack.undo()
    assert ctl.document.edge_into("relu1", "x") == Edge("dense1", "y", "relu1", "x")


def test_paste_gives_fresh_ids_keeps_inner_wires_and_selects(ctl):
    ids = ctl.paste_json(ctl.copy_json(["dense1", "relu1"]), offset=(0, 200))
    assert len(ids) == 2 and not set(ids) & {"dense1", "relu1"}
    assert ctl.selection() == ids
    inner = [e for e in ctl.document.edges() if e.src in ids and e.dst in ids]
    assert len(inner) == 1
    assert ctl.document.position(ids[0])[1] == 200


def test_shapes_follow_undo(ctl):
    ctl.set_param("input1", "shape", [7])
    ctl.set_param("dense1", "units", 9)
    assert ctl.info("relu1").outputs["y"] == (2, 9)
    ctl.undo_stack.undo()
    assert ctl.info("relu1").outputs["y"] == (2, 32)


def test_set_document_clears_undo_and_selection(ctl, qtbot):
    ctl.set_selection(["dense1"])
    ctl.set_param("dense1", "units", 4)
    with qtbot.waitSignal(ctl.documentReplaced):
        ctl.set_document(GraphDocument())
    assert ctl.undo_stack.count() == 0 and ctl.selection() == []


def test_selection_follows_removal_and_rename(ctl):
    ctl.set_selection(["dense1", "relu1"])
    ctl.rename("dense1", "hidden")
    assert ctl.selection() == ["hidden", "relu1"]
    ctl.remove_nodes(["relu1"])
    assert ctl.selection() == ["hidden"]


def test_quick_add_types_fit_the_wire(ctl):
    conv = ctl.add_node("Input", (0, 400), {"shape": [3, 16, 16]})
    fits = {t.type_id for t in ctl.compatible_types((conv, "y", True))}
    assert {"Conv2d", "Flatten", "ReLU", "MaxPool2d"} <= fits
    assert "Dense" not in fits and "Input" not in fits
    feeding = {t.type_id for t in ctl.compatible_types(("dense1", "x", False))}
    assert "Input" in feeding and "Output" not in feeding
    new = ctl.add_node_connected("Flatten", (200, 400), (conv, "y", True))
    assert ctl.document.edge_into(new, "x") == Edge(conv, "y", new, "x")
    ctl.undo_stack.undo()
    assert new not in ctl.document


def test_edits_of_one_field_after_a_pause_are_separate_steps(ctl, monkeypatch):
    import graphedit.ui.undo as undo

    clock = [100.0]
    monkeypatch.setattr(undo.time, "monotonic", lambda: clock[0])
    ctl.set_param("dense1", "units", 4)
    clock[0] += 0.5
    ctl.set_param("dense1", "units", 40)
    clock[0] += undo.TYPING_PAUSE_S + 1
    ctl.set_param("dense1", "units", 41)
    assert ctl.undo_stack.count() == 2


def test_wiring_a_variadic_nodes_last_port_adds_a_free_one_in_the_same_undo_step(ctl):
    concat = ctl.add_node("Concat", (0, 300))
    ctl.connect("dense1", "y", concat, "in1")
    assert ctl.document.params(concat)["inputs"] == 2  # in1 is not the last port
    before = snapshot(ctl.document)
    ctl.connect("relu1", "y", concat, "in2")
    assert ctl.document.params(concat)["inputs"] == 3
    assert ctl.info(concat).error is None  # the new free port in3 does not put the node in error
    ctl.undo_stack.undo()
    assert snapshot(ctl.document) == before
    ctl.undo_stack.redo()
    assert ctl.document.params(concat)["inputs"] == 3 and ctl.document.edge_into(concat, "in2") is not None
