"""Edits the editor completes for the user (graphedit/ui/autocomplete.py), driven by real wire drags."""

from __future__ import annotations

import pytest
from test_ui_canvas import drag, editor, port, snapshot  # noqa: F401  (editor is a fixture)

pytestmark = pytest.mark.gui


def test_wiring_a_classification_loss_adds_accuracy_as_its_own_undo_step(editor):  # noqa: F811
    controller, view = editor
    doc = controller.document
    scores = controller.add_node("Input", (0, 0), {"shape": [3]})
    label = controller.add_node("Target", (0, 260), {"shape": [1], "dtype": "int64"})
    loss = controller.add_node("SoftmaxCrossEntropy", (300, 0))
    notes = []
    controller.message.connect(notes.append)
    drag(view, port(view, scores, "y", True), port(view, loss, "pred", False))
    assert [doc.node_type(n).type_id for n in doc.node_ids()].count("Accuracy") == 0  # one input wired: not yet
    drag(view, port(view, label, "y", True), port(view, loss, "target", False))
    accuracy = [n for n in doc.node_ids() if doc.node_type(n).type_id == "Accuracy"]
    assert len(accuracy) == 1 and "Ctrl+Z" in notes[-1]
    (acc,) = accuracy
    assert {(e.src, e.dst_port) for e in doc.in_edges(acc)} == {(scores, "pred"), (label, "target")}
    assert controller.info(acc).error is None
    cards = view.scene().nodes
    assert not cards[acc].sceneBoundingRect().intersects(cards[loss].sceneBoundingRect())  # placed on free canvas
    controller.undo_stack.undo()  # removes Accuracy, keeps the wire the user drew
    assert acc not in doc and doc.edge_into(loss, "target") is not None
    controller.undo_stack.undo()
    assert doc.edge_into(loss, "target") is None
    # a graph that reports a metric already gets none, and neither does a regression loss
    controller.undo_stack.redo()
    controller.undo_stack.redo()
    doc_before = snapshot(doc)
    controller.disconnect(doc.edge_into(loss, "pred"))
    controller.connect(scores, "y", loss, "pred")
    assert [doc.node_type(n).type_id for n in doc.node_ids()].count("Accuracy") == 1
    assert snapshot(doc)["nodes"] == doc_before["nodes"]
    controller.remove_nodes([acc, loss])  # no metric, no classification loss: a regression loss gets no Accuracy
    mse = controller.add_node("MSE", (300, 500))
    controller.connect(scores, "y", mse, "pred")
    values = controller.add_node("Target", (0, 500), {"shape": [3]})
    controller.connect(values, "y", mse, "target")
    assert [doc.node_type(n).type_id for n in doc.node_ids()].count("Accuracy") == 0
