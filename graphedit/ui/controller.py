"""The editor controller: owns the document, its shape inference and the undo stack.

Every edit becomes a :mod:`graphedit.ui.undo` command whose redo/undo call
document operations; views observe document events and the signals here
(see docs/architecture.md, "The flow of an edit"). An edit the document refuses raises its
:class:`~graphedit.errors.GraphEditError` and leaves the stack untouched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from graphedit.compiler.analysis import Problem, Structure, analyze, structure_of
from graphedit.compiler.shapes import NodeInfo, ShapeInference
from graphedit.errors import NodeError
from graphedit.model.annotations import nodes_inside
from graphedit.model.bulk import collection_paused
from graphedit.model.document import GraphDocument
from graphedit.model.events import (
    Edge,
    EdgeAdded,
    EdgeRemoved,
    Event,
    NodeAdded,
    NodeRemoved,
    NodeRenamed,
    NodeTrainingChanged,
)
from graphedit.model.geometry import node_rects, shifted_copy
from graphedit.model.grouping import library_for
from graphedit.ui.autocomplete import add_accuracy_beside
from graphedit.ui.block_edits import BlockEdits
from graphedit.ui.block_levels import Level, feed
from graphedit.ui.undo import (
    AnnotationCommand,
    CompositeCommand,
    ConnectCommand,
    DisconnectCommand,
    DocCommand,
    FrameMoveCommand,
    InsertCommand,
    MoveCommand,
    MuteCommand,
    RemoveCommand,
    RenameCommand,
    SetParamCommand,
    TrainingCommand,
)
from graphedit.ui.wire_edits import WireEdits

CLIPBOARD_MIME = "application/x-graphedit-subgraph"


class EditorController(BlockEdits, WireEdits, QObject):
    """Owns the document, its ShapeInference and a QUndoStack; see the module doc."""

    documentReplaced = Signal()
    shapesUpdated = Signal()
    problemsChanged = Signal()  # the analysis (graphedit.compiler.analysis) found other problems than before
    selectionChanged = Signal(list)
    levelChanged = Signal()  # a block was opened or left: ``document`` is another one (the undo stack stays)
    message = Signal(str)  # a short user-facing note (refused edit, paste result); views show it as a toast

    def __init__(self, document: GraphDocument | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.indexChanged.connect(self._undo_moved)  # a method: Qt drops it with the controller
        # ``root`` is the project's graph (what is saved, trained, exported); ``document`` the one the canvas shows
        # and edits: ``root``, or the inside of the innermost open block (``levels``)
        self.root: GraphDocument = document if document is not None else GraphDocument()
        self.document = self.root
        self.root_shapes = self.shapes = ShapeInference(self.document)
        self.shapes.run()
        self.levels: list[Level] = []
        self._published: dict[str, NodeInfo] = dict(self.shapes.infos)  # the infos views were last told of
        # the training settings and dataset facts the analysis also checks; the window sets where they come from
        self.analysis_context: Callable[[], tuple[dict | None, Any]] = lambda: (None, None)
        self._structure: Structure | None = None  # the wiring's part of the analysis, until a node or wire changes
        with collection_paused():  # one bulk build: see graphedit/model/bulk.py
            self._problems: list[Problem] = analyze(self.document, self.shapes)
        self.document.subscribe(self._on_event)
        self.changed_nodes: list[str] = list(self.document.node_ids())
        self._selection: list[str] = []
        self._batch: list[DocCommand] | None = None
        self._drag = 0
        self._retrained: list[str] = []  # nodes frozen/unfrozen since the last refresh: the summary's counts change
        self._refreshes = 0  # refresh() calls so far: an edit whose undo step already refreshed is not refreshed twice

    # ------------------------------------------------------------ document
    def set_document(self, document: GraphDocument) -> None:
        """Replace the document (new/open): clears undo and selection, emits documentReplaced."""
        self.document.unsubscribe(self._on_event)
        was_inside = bool(self.levels)
        for level in self.levels:
            level.shapes.close()
        self.levels = []
        self.root_shapes.close()
        self.undo_stack.clear()
        self.root = self.document = document
        self.root_shapes = self.shapes = ShapeInference(document)
        self.shapes.run()
        self._published = dict(self.shapes.infos)
        document.subscribe(self._on_event)
        self._selection = []
        self.changed_nodes = list(document.node_ids())
        self._structure = None
        self._problems = analyze(document, self.shapes, *self.analysis_context())
        self.documentReplaced.emit()
        if was_inside:
            self.levelChanged.emit()
        self.selectionChanged.emit([])
        self.shapesUpdated.emit()
        self.problemsChanged.emit()

    @property
    def registry(self):
        return self.document.registry

    def _undo_moved(self, _index: int) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Re-run shape inference for what changed; emit shapesUpdated if any node's info is new or gone,
        and problemsChanged if the analysis says something else now.

        The comparison is with what the views were last told (``_published``), not with the infos just before
        the update: a removed node's info is dropped when the document removes it, before this runs, so a
        removal that changed no other shape would otherwise go unnoticed and the views keep the node.
        """
        self._refreshes += 1
        before = self._published
        if self.levels:
            valid = feed(self.levels, self.root_shapes, library_for(self.root))
            if valid < len(self.levels):  # an undo removed an open block: go up to what still exists
                self.leave_block(valid)
                return
        infos = self.shapes.update()
        changed = [n for n, info in infos.items() if before.get(n) is not info]
        retrained = [n for n in self._retrained if n in infos and n not in changed]
        self._retrained = []
        if changed or retrained or before.keys() != infos.keys():
            self._published = dict(infos)
            self.changed_nodes = changed + retrained
            self.shapesUpdated.emit()
        self.reanalyze()

    def analysis(self) -> list[Problem]:
        """Every problem the analysis finds (errors first): what the Problems panel lists and Run refuses."""
        return list(self._problems)

    def reanalyze(self) -> list[Problem]:
        """Analyse again (after an edit, or when the training settings or dataset changed)."""
        doc, shapes = self.root, self.root_shapes  # the project's graph, also while a block is open
        if self.levels:  # the root's wiring events reach _on_event only at the top level
            self._structure = None
        if self._structure is None and len(doc):
            self._structure = structure_of(doc, shapes.order())
        problems = analyze(doc, shapes, *self.analysis_context(), structure=self._structure)
        if problems != self._problems:
            self._problems = problems
            self.problemsChanged.emit()
        return list(problems)

    def info(self, node_id: str) -> NodeInfo | None:
        return self.shapes.infos.get(node_id)

    def problems(self) -> list[NodeError]:
        """Every node error, in topological order (for a Problems list)."""
        return self.shapes.errors()

    def _on_event(self, event: Event) -> None:
        if isinstance(event, (NodeAdded, NodeRemoved, NodeRenamed, EdgeAdded, EdgeRemoved)):
            self._structure = None
        if isinstance(event, NodeRemoved) and event.node_id in self._selection:
            self.set_selection([n for n in self._selection if n != event.node_id])
        elif isinstance(event, NodeRenamed) and event.old_id in self._selection:
            self.set_selection([event.new_id if n == event.old_id else n for n in self._selection])
        elif isinstance(event, NodeTrainingChanged):
            self._retrained.append(event.node_id)

    # ------------------------------------------------------------ commands
    def _do(self, command: DocCommand) -> None:
        command.run()
        if self._batch is not None:
            self._batch.append(command)
            return
        refreshes = self._refreshes
        self.undo_stack.push(command)  # a new step refreshes through indexChanged; a merged one does not
        if self._refreshes == refreshes:
            self.refresh()

    @contextlib.contextmanager
    def batch(self, text: str) -> Iterator[None]:
        """Group the edits inside into one undo step; if one is refused, the earlier ones are reverted."""
        if self._batch is not None:  # nested: the outer batch owns the step
            yield
            return
        self._batch = parts = []
        try:
            yield
        except BaseException:
            self._batch = None
            for part in reversed(parts):
                part.revert()
            self.refresh()
            raise
        self._batch = None
        if parts:
            command = CompositeCommand(self.document, text, parts)
            command._applied = True
            self.undo_stack.push(command)
            self.refresh()

    # --------------------------------------------------------------- edits
    def add_node(self, type_id: str, pos: tuple[float, float], params: dict | None = None) -> str:
        node_type = self.registry.get(type_id)
        node_id = self.document.new_id(node_type.type_id)
        node = {"id": node_id, "type": node_type.type_id, "params": params or {}, "position": list(pos)}
        self._do(InsertCommand(self.document, {"nodes": [node], "edges": []}, f"Add {node_id}"))
        return node_id

    def remove_nodes(self, node_ids: list[str]) -> None:
        ids = [n for n in dict.fromkeys(node_ids) if n in self.document]
        if ids:
            self._do(RemoveCommand(self.document, ids, "Delete " + (ids[0] if len(ids) == 1 else f"{len(ids)} nodes")))

    def replace_graph(self, data: dict, text: str) -> None:
        """Replace the whole graph by ``data`` (a :meth:`GraphDocument.to_json`, ids kept) as one undo step."""
        with self.batch(text):
            self.remove_nodes(list(self.document.node_ids()))
            self._do(InsertCommand(self.document, data, text))

    def connect(self, src: str, src_port: str, dst: str, dst_port: str) -> None:
        edge = Edge(src, src_port, dst, dst_port)
        if self.document.edge_into(dst, dst_port) == edge:
            return
        grown = self.document.node_type(dst).params_after_wiring(self.document.params(dst), dst_port)
        if grown is None:
            self._do(ConnectCommand(self.document, edge))
        else:
            with self.batch(f"Connect {src} → {dst}"):  # a variadic node's last port wired: a new free port, one step
                self._do(ConnectCommand(self.document, edge))
                for name, value in grown.items():
                    if value != self.document.params(dst).get(name):
                        self._do(SetParamCommand(self.document, dst, name, value, merge=False))
        if self._batch is None and self.document is self.root:  # the user's own wire, not part of a bigger edit
            add_accuracy_beside(self, dst)

    def disconnect(self, edge: Edge) -> None:
        self._do(DisconnectCommand(self.document, Edge(*edge)))

    def set_param(self, node_id: str, name: str, value: Any, merge: bool = True) -> None:
        self._do(SetParamCommand(self.document, node_id, name, value, merge))

    def move_nodes(self, moves: dict[str, tuple[float, float]], merge: bool = True) -> None:
        """Move nodes; with ``merge`` the moves until :meth:`finish_moves` are one undo step."""
        moves = {n: p for n, p in moves.items() if n in self.document and tuple(p) != self.document.position(n)}
        if moves:
            self._do(MoveCommand(self.document, moves, self._drag if merge else None))

    # -------------------------------------------------- frames and notes
    def set_annotation(self, kind: str, item_id: str, item: Any, text: str, merge: Any = None) -> None:
        """Add or change (``item``) or remove (``None``) a frame or a note, as an undo step."""
        if self.document.annotations.get(kind, item_id) != item:
            self._do(AnnotationCommand(self.document, kind, item_id, item, text, merge))

    def move_frame(self, frame_id: str, dx: float, dy: float) -> None:
        """Move a frame and the nodes inside it; the moves until :meth:`finish_moves` are one undo step."""
        frame = self.document.annotations.get("frame", frame_id)
        if frame is None or (dx, dy) == (0, 0):
            return
        cards = node_rects(self.document)
        moves = {n: (cards[n][0] + dx, cards[n][1] + dy) for n in nodes_inside(frame, cards)}
        self._do(FrameMoveCommand(self.document, frame.moved(dx, dy), moves, self._drag))

    def move_annotation(self, kind: str, item_id: str, dx: float, dy: float) -> None:
        """Move a frame (with its nodes) or a note by (dx, dy); one undo step until :meth:`finish_moves`."""
        if kind == "frame":
            self.move_frame(item_id, dx, dy)
            return
        note = self.document.annotations.get(kind, item_id)
        if note is not None:
            self.set_annotation(kind, item_id, note.moved(dx, dy), "Move note", merge=("drag", self._drag))

    def resize_frame(self, frame_id: str, width: float, height: float) -> None:
        """Give a frame a new size (its corner moves, its nodes stay); one undo step until :meth:`finish_moves`."""
        frame = self.document.annotations.get("frame", frame_id)
        if frame is not None and frame.rect[2:] != (width, height):
            resized = replace(frame, rect=(*frame.rect[:2], width, height))
            self.set_annotation("frame", frame_id, resized, "Resize frame", merge=("resize", self._drag))

    def finish_moves(self) -> None:
        """End the current drag: the next move starts a new undo step."""
        self._drag += 1

    def rename(self, node_id: str, new_id: str) -> None:
        if new_id != node_id:
            self._do(RenameCommand(self.document, node_id, new_id))

    def set_muted(self, node_id: str, muted: bool) -> None:
        if self.document.is_muted(node_id) != bool(muted):
            self._do(MuteCommand(self.document, node_id, bool(muted)))

    def set_training(self, node_id: str, frozen: bool | None = None, lr_scale: float | None = None) -> None:
        """Freeze/unfreeze a node or set its learning-rate multiplier, as one undo step."""
        doc = self.document
        if (frozen is None or doc.is_frozen(node_id) == bool(frozen)) and (
            lr_scale is None or doc.lr_scale(node_id) == lr_scale
        ):
            return
        self._do(TrainingCommand(doc, node_id, frozen, lr_scale))

    def toggle_muted(self, node_ids: list[str]) -> None:
        """Mute all of them, or unmute all if every one is muted already (one undo step)."""
        ids = [n for n in node_ids if n in self.document]
        if not ids:
            return
        muted = not all(self.document.is_muted(n) for n in ids)
        with self.batch("Mute" if muted else "Unmute"):
            for n in ids:
                self.set_muted(n, muted)

    # ------------------------------------------------------------ clipboard
    def copy_json(self, node_ids: list[str]) -> dict:
        data = self.document.to_json(node_ids)
        data["format"] = "graphedit-subgraph"
        return data

    def paste_json(self, data: dict, offset: tuple[float, float] = (30, 30)) -> list[str]:
        """Insert a copied subgraph with fresh ids, shifted by ``offset``; returns the new ids and selects them."""
        if not isinstance(data.get("nodes"), list) or not data["nodes"]:
            return []
        insert = shifted_copy(self.document, data, offset)
        out_nodes = insert["nodes"]
        text = "Paste " + (out_nodes[0]["id"] if len(out_nodes) == 1 else f"{len(out_nodes)} nodes")
        self._do(InsertCommand(self.document, insert, text))
        ids = [n["id"] for n in out_nodes]
        self.set_selection(ids)
        return ids

    # ------------------------------------------------------------ selection
    def selection(self) -> list[str]:
        return list(self._selection)

    def set_selection(self, node_ids: list[str]) -> None:
        ids = [n for n in dict.fromkeys(node_ids) if n in self.document]
        if ids != self._selection:
            self._selection = ids
            self.selectionChanged.emit(list(ids))
