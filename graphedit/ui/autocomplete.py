"""Edits the editor completes for the user, each its own undo step with a note saying what was added."""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphedit.model.geometry import NODE_WIDTH, node_rects
from graphedit.model.layout import free_position
from graphedit.model.starters import STEP_Y, accuracy_feeds

if TYPE_CHECKING:
    from graphedit.ui.controller import EditorController


def add_accuracy_beside(controller: EditorController, loss_id: str) -> str | None:
    """A classification loss just got both its inputs in a graph that reports no metric: add Accuracy below it,
    fed as the loss is, so training shows the fraction classified right. Ctrl+Z removes it and keeps the wire."""
    doc = controller.document
    feeds = accuracy_feeds(doc, loss_id)
    if feeds is None:
        return None
    x, y = doc.position(loss_id)
    where = free_position(list(node_rects(doc).values()), (x, y + STEP_Y), (NODE_WIDTH, 120.0))
    with controller.batch(f"Add Accuracy beside {loss_id}"):
        node = controller.add_node("Accuracy", where)
        for port, (src, src_port) in feeds.items():
            controller.connect(src, src_port, node, port)
    controller.message.emit(f"Added {node}: it reports the fraction classified right (Ctrl+Z removes it).")
    return node
