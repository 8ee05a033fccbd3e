"""Undo commands: each wraps GraphDocument operations (DESIGN.md decision 2).

A command is applied once by the controller *before* it is pushed (so a
refused edit never reaches the stack); ``QUndoStack.push`` then calls
``redo()`` again, which the first time does nothing. Delete and paste keep a
JSON snapshot of the affected subgraph and re-insert it, as QtNodes does.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoCommand

from graphedit.model.document import GraphDocument
from graphedit.model.events import Edge

if TYPE_CHECKING:
    from graphedit.model.annotations import Frame

MOVE_ID = 1001
PARAM_ID = 1002
TYPING_PAUSE_S = 2.0  # edits of one field further apart than this are separate undo steps


class DocCommand(QUndoCommand):
    """Base: ``apply``/``revert`` do the work; the first ``redo`` after push is skipped."""

    def __init__(self, doc: GraphDocument, text: str) -> None:
        super().__init__(text)
        self.doc = doc
        self._applied = False

    def apply(self) -> None:
        raise NotImplementedError

    def revert(self) -> None:
        raise NotImplementedError

    def run(self) -> None:
        """Apply now, before the push; raises the document's error if refused."""
        self.apply()
        self._applied = True

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        self.apply()

    def undo(self) -> None:
        self.revert()


class InsertCommand(DocCommand):
    """Add nodes (and the edges among them) from a JSON snapshot: add node, paste, duplicate."""

    def __init__(self, doc: GraphDocument, data: dict[str, Any], text: str = "Add node") -> None:
        super().__init__(doc, text)
        self.data = data
        self.node_ids = [n["id"] for n in data.get("nodes", [])]

    def apply(self) -> None:
        self.doc.insert_json(self.data, keep_ids=True)

    def revert(self) -> None:
        for node_id in reversed(self.node_ids):
            if node_id in self.doc:
                self.doc.remove_node(node_id)


class RemoveCommand(DocCommand):
    """Remove nodes; undo re-inserts them from JSON and restores every wire that touched them."""

    def __init__(self, doc: GraphDocument, node_ids: list[str], text: str = "Delete") -> None:
        super().__init__(doc, text)
        chosen = [n for n in node_ids if n in doc]
        self.snapshot = doc.to_json(chosen)
        inside = {(e["src"], e["src_port"], e["dst"], e["dst_port"]) for e in self.snapshot["edges"]}
        touching = {e for n in chosen for e in doc.in_edges(n) + doc.out_edges(n)}
        self.outer = sorted(e for e in touching if tuple(e) not in inside)
        self.node_ids = chosen

    def apply(self) -> None:
        for node_id in self.node_ids:
            self.doc.remove_node(node_id)

    def revert(self) -> None:
        self.doc.insert_json(self.snapshot, keep_ids=True)
        for e in self.outer:
            self.doc.connect(*e)


class ConnectCommand(DocCommand):
    """Connect two ports; an edge already in the input is replaced and comes back on undo."""

    def __init__(self, doc: GraphDocument, edge: Edge) -> None:
        super().__init__(doc, "Connect")
        self.edge = edge
        self.replaced = doc.edge_into(edge.dst, edge.dst_port)

    def apply(self) -> None:
        self.doc.connect(*self.edge)

    def revert(self) -> None:
        self.doc.disconnect(self.edge)
        if self.replaced is not None:
            self.doc.connect(*self.replaced)


class DisconnectCommand(DocCommand):
    def __init__(self, doc: GraphDocument, edge: Edge) -> None:
        super().__init__(doc, "Disconnect")
        self.edge = edge

    def apply(self) -> None:
        self.doc.disconnect(self.edge)

    def revert(self) -> None:
        self.doc.connect(*self.edge)


class SetParamCommand(DocCommand):
    """Set one parameter; consecutive edits of the same field within a pause merge (typing is one step)."""

    def __init__(self, doc: GraphDocument, node_id: str, name: str, value: Any, merge: bool = True) -> None:
        super().__init__(doc, f"Set {node_id}.{name}")
        self.node_id, self.name, self.value = node_id, name, value
        self.old = doc.params(node_id).get(name)
        self.merge = merge
        self.at = time.monotonic()

    def id(self) -> int:
        return PARAM_ID if self.merge else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetParamCommand) or not other.merge:
            return False
        if (other.node_id, other.name) != (self.node_id, self.name) or other.at - self.at > TYPING_PAUSE_S:
            return False
        self.value, self.at = other.value, other.at
        return True

    def apply(self) -> None:
        self.doc.set_param(self.node_id, self.name, self.value)

    def revert(self) -> None:
        self.doc.set_param(self.node_id, self.name, self.old)


class MoveCommand(DocCommand):
    """Move nodes; the moves of one drag (same ``drag``) merge into one step."""

    def __init__(self, doc: GraphDocument, moves: dict[str, tuple[float, float]], drag: int | None) -> None:
        super().__init__(doc, "Move")
        self.new = {n: (float(p[0]), float(p[1])) for n, p in moves.items()}
        self.old = {n: doc.position(n) for n in moves}
        self.drag = drag

    def id(self) -> int:
        return MOVE_ID if self.drag is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, MoveCommand) or other.drag != self.drag:
            return False
        for n, p in other.new.items():
            self.old.setdefault(n, other.old[n])
            self.new[n] = p
        return True

    def apply(self) -> None:
        for n, p in self.new.items():
            self.doc.move(n, p)

    def revert(self) -> None:
        for n, p in self.old.items():
            self.doc.move(n, p)


class RenameCommand(DocCommand):
    def __init__(self, doc: GraphDocument, node_id: str, new_id: str) -> None:
        super().__init__(doc, f"Rename {node_id} to {new_id}")
        self.old_id, self.new_id = node_id, new_id

    def apply(self) -> None:
        self.doc.rename(self.old_id, self.new_id)

    def revert(self) -> None:
        self.doc.rename(self.new_id, self.old_id)


class MuteCommand(DocCommand):
    def __init__(self, doc: GraphDocument, node_id: str, muted: bool) -> None:
        super().__init__(doc, ("Mute " if muted else "Unmute ") + node_id)
        self.node_id, self.muted = node_id, muted
        self.old = doc.is_muted(node_id)

    def apply(self) -> None:
        self.doc.set_muted(self.node_id, self.muted)

    def revert(self) -> None:
        self.doc.set_muted(self.node_id, self.old)


class TrainingCommand(DocCommand):
    """Freeze or unfreeze a node, or set its learning-rate multiplier."""

    def __init__(self, doc: GraphDocument, node_id: str, frozen: bool | None, lr_scale: float | None) -> None:
        text = ("Freeze " if frozen else "Unfreeze ") if frozen is not None else "Learning rate of "
        super().__init__(doc, text + node_id)
        self.node_id, self.frozen, self.lr_scale = node_id, frozen, lr_scale
        self.old = (doc.is_frozen(node_id), doc.lr_scale(node_id))

    def apply(self) -> None:
        self.doc.set_training(self.node_id, self.frozen, self.lr_scale)

    def revert(self) -> None:
        self.doc.set_training(self.node_id, *self.old)


class CompositeCommand(DocCommand):
    """Several commands already applied in order, undone in reverse: one undo step."""

    def __init__(self, doc: GraphDocument, text: str, parts: list[DocCommand]) -> None:
        super().__init__(doc, text)
        self.parts = parts

    def apply(self) -> None:
        for part in self.parts:
            part.apply()

    def revert(self) -> None:
        for part in reversed(self.parts):
            part.revert()


ANNOTATION_ID = 1003


class AnnotationCommand(DocCommand):
    """Add, change or remove a frame or a note (``new`` is ``None`` to remove); the changes of one drag or of one
    typing pause (same ``merge`` key) merge into one step."""

    def __init__(self, doc: GraphDocument, kind: str, item_id: str, new: Any, text: str, merge: Any = None) -> None:
        super().__init__(doc, text)
        self.kind, self.item_id, self.new = kind, item_id, new
        self.old = doc.annotations.get(kind, item_id)
        self.merge = merge

    def id(self) -> int:
        return ANNOTATION_ID if self.merge is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, AnnotationCommand) or (other.kind, other.item_id, other.merge) != (
            self.kind,
            self.item_id,
            self.merge,
        ):
            return False
        self.new = other.new
        return True

    def apply(self) -> None:
        self.doc.annotations.put(self.kind, self.item_id, self.new)

    def revert(self) -> None:
        self.doc.annotations.put(self.kind, self.item_id, self.old)


class FrameMoveCommand(MoveCommand):
    """Move a frame and the nodes inside it together; the moves of one drag merge into one step."""

    def __init__(self, doc: GraphDocument, frame: Frame, moves: dict[str, tuple[float, float]], drag: int) -> None:
        super().__init__(doc, moves, drag)
        self.setText(f"Move {frame.title or 'frame'}")
        self.frame_new, self.frame_old = frame, doc.annotations.get("frame", frame.id)

    def id(self) -> int:
        return ANNOTATION_ID + 1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, FrameMoveCommand) or other.frame_new.id != self.frame_new.id:
            return False
        if not super().mergeWith(other):
            return False
        self.frame_new = other.frame_new
        return True

    def apply(self) -> None:
        self.doc.annotations.put("frame", self.frame_new.id, self.frame_new)
        super().apply()

    def revert(self) -> None:
        self.doc.annotations.put("frame", self.frame_old.id, self.frame_old)
        super().revert()
