"""Group selected nodes into a block, and expand a block node back into nodes (issue 13).

:class:`Grouping` turns a selection into a block definition whose ports sit where wires cross the selection's
boundary: one ``BlockInput`` per distinct outside output port that feeds the selection, one ``BlockOutput`` per
inside output port that feeds something outside. The selection is replaced by one instance wired as before.

:class:`Ungrouping` expands one block node in place: its inner nodes with the node's exposed values applied (an
inner node switched off by an ``enabled`` binding comes back muted, which is what "off" computes), a repeat of N
as the chain of N copies, wired back to what the block node was wired to.

Frames follow: a frame that holds only grouped nodes moves into the definition, and a definition's frames come
back around each expanded copy (titled with the copy's number when there are several).

Each is planned when made and then applied; ``revert`` restores exactly what was there, and ``apply`` again
redoes it with the same ids and the same definition document (so later edits inside it can be redone too). The
editor's undo commands wrap these; :func:`group` and :func:`ungroup` are the one-shot forms. No Qt here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from graphedit.errors import GraphError
from graphedit.model.annotations import Frame, frames_holding_only
from graphedit.model.blocks import ENABLED, INSTANCE_PARAMS, BlockDefinition, BlockLibrary, Exposed, instance_values
from graphedit.model.document import GraphDocument
from graphedit.model.events import Edge
from graphedit.model.geometry import node_rects
from graphedit.model.node_names import ID_PATTERN, RESERVED_IDS

PORT_GAP = 260.0  # how far left/right of the grouped nodes the port nodes are placed
COPY_GAP = 120.0  # between the copies of an expanded repeat


def library_for(document: GraphDocument) -> BlockLibrary:
    if not isinstance(document.registry, BlockLibrary):
        raise GraphError("this graph has no block library: blocks live in a project (open or create one)")
    return document.registry


def free_block_name(library: BlockLibrary, stem: str = "Block") -> str:
    """``Block1``, ``Block2``, ... (or ``stem``, ``stem2``, ... for a name that is taken): the first free one."""
    taken = set(library.definitions)
    first = 1 if stem == "Block" else 2
    candidates = [] if stem == "Block" else [stem]
    candidates += [f"{stem}{i}" for i in range(first, first + len(taken) + 2)]
    return next(n for n in candidates if n not in taken and n not in library.base)


def _owner(library: BlockLibrary, document: GraphDocument) -> str | None:
    """The definition whose inside ``document`` is (``None`` for the project's graph)."""
    return next((n for n, d in library.definitions.items() if d.document is document), None)


def _free_id(wanted: str, taken: set[str]) -> str:
    out, i = wanted, 2
    while out in taken:
        out, i = f"{wanted}{i}", i + 1
    return out


@dataclass
class _Node:
    node_id: str
    type_id: str
    params: dict[str, Any]
    position: tuple[float, float]
    muted: bool = False
    frozen: bool = False
    lr_scale: float = 1.0


class Grouping:
    """Replace ``node_ids`` of ``document`` by an instance of a new definition ``name``. See the module doc."""

    def __init__(self, document: GraphDocument, node_ids: Iterable[str], name: str) -> None:
        self.doc = document
        self.library = library_for(document)
        ids = [n for n in document.topological_order() if n in set(node_ids)]
        if not ids:
            raise GraphError("select the nodes to group into a block first")
        wrong = [n for n in ids if document.node_type(n).role != "layer"]
        if wrong:
            raise GraphError(
                f"cannot group {', '.join(wrong)} into a block: data, loss, metric, output and block port nodes "
                "stay outside blocks; select only layers"
            )
        self.library.check_name(name)
        chosen = set(ids)
        self._check_contiguous(chosen)
        self.name, self.node_ids = name, ids
        self.snapshot = document.to_json(ids)
        self.frames = frames_holding_only(document.annotations.frames, node_rects(document), chosen)
        edges = [e for n in ids for e in sorted(document.in_edges(n), key=lambda e: e.dst_port)]
        self.inward = [e for e in edges if e.src not in chosen]
        self.outward = sorted({e for n in ids for e in document.out_edges(n) if e.dst not in chosen})
        self.definition_document = self._inside(chosen)
        # exposed parameters of the definition being edited that bind grouped nodes: the new block exposes them
        self.owner = _owner(self.library, document)
        self.owner_exposed = list(self.library.definitions[self.owner].exposed) if self.owner else []
        self.exposed: list[Exposed] = []
        self._rebind: dict[str, str] = {}  # outer bind -> the new block's exposed name
        for e in self.owner_exposed:
            for bind in e.binds:
                node, _, param = bind.partition(".")
                if node in chosen and bind not in self._rebind:
                    name = f"{node}_{param}" if node[:1].isalpha() else f"n{node}_{param}"
                    self._rebind[bind] = name
                    self.exposed.append(Exposed(name, (bind,)))
        xs = [document.position(n)[0] for n in ids]
        ys = [document.position(n)[1] for n in ids]
        self.position = (round(sum(xs) / len(xs), 1), round(sum(ys) / len(ys), 1))
        self.instance_id: str | None = None
        self.outer: list[Edge] = []  # the instance's wires

    def _check_contiguous(self, chosen: set[str]) -> None:
        """A node outside the selection between two selected ones would close a cycle through the block."""
        doc = self.doc
        starts = {e.dst for n in chosen for e in doc.out_edges(n) if e.dst not in chosen}
        seen, stack = set(starts), list(starts)
        while stack:
            between = stack.pop()
            for e in doc.out_edges(between):
                if e.dst in chosen:
                    raise GraphError(
                        f"cannot group these nodes: '{between}' lies between selected nodes and is not selected; "
                        "add it to the selection (a block is a contiguous part of the graph)"
                    )
                if e.dst not in seen:
                    seen.add(e.dst)
                    stack.append(e.dst)

    def _inside(self, chosen: set[str]) -> GraphDocument:
        doc = self.doc
        inner = self.library.new_document()
        inner.insert_json(self.snapshot, keep_ids=True)
        xs = [doc.position(n)[0] for n in chosen]
        taken = set(chosen)
        sources = list(dict.fromkeys((e.src, e.src_port) for e in self.inward))
        self.in_ports: dict[tuple[str, str], str] = {}
        for i, source in enumerate(sources):
            port = _free_id("x" if len(sources) == 1 else f"x{i + 1}", taken)
            taken.add(port)
            self.in_ports[source] = port
            ys = [doc.position(e.dst)[1] for e in self.inward if (e.src, e.src_port) == source]
            inner.add_node("BlockInput", {}, (min(xs) - PORT_GAP, sum(ys) / len(ys)), node_id=port)
        for e in self.inward:
            inner.connect(self.in_ports[(e.src, e.src_port)], "y", e.dst, e.dst_port)
        produced = list(dict.fromkeys((e.src, e.src_port) for e in self.outward))
        self.out_ports: dict[tuple[str, str], str] = {}
        for i, (src, src_port) in enumerate(produced):
            port = _free_id("y" if len(produced) == 1 else f"y{i + 1}", taken)
            taken.add(port)
            self.out_ports[(src, src_port)] = port
            inner.add_node("BlockOutput", {}, (max(xs) + PORT_GAP, doc.position(src)[1]), node_id=port)
            inner.connect(src, src_port, port, "x")
        return inner

    def apply(self) -> None:
        doc, library = self.doc, self.library
        definition = library.define(self.name, self.definition_document, self.exposed)
        try:
            for node_id in self.node_ids:
                doc.remove_node(node_id)
            if self.instance_id is None:  # Residual -> residual; Block1 -> block1 (not new_id's block11)
                stem = library.get(self.name).prefix
                ok = ID_PATTERN.match(stem) and stem not in RESERVED_IDS
                self.instance_id = _free_id(stem, set(doc.node_ids())) if ok else doc.new_id(self.name)
                into = self.in_ports
                self.outer = [Edge(e.src, e.src_port, self.instance_id, into[(e.src, e.src_port)]) for e in self.inward]
                self.outer += [
                    Edge(self.instance_id, self.out_ports[(e.src, e.src_port)], e.dst, e.dst_port) for e in self.outward
                ]
            doc.add_node(definition.name, {}, self.position, node_id=self.instance_id)
            for edge in self.outer:
                doc.connect(*edge)
            for frame in self.frames:  # into the block, where its nodes went (they keep their positions)
                doc.annotations.put("frame", frame.id, None)
                self.definition_document.annotations.put("frame", frame.id, frame)
            if self._rebind and self.owner is not None:
                at = self.instance_id
                rebound = [
                    Exposed(
                        e.name, tuple(f"{at}.{self._rebind[b]}" if b in self._rebind else b for b in e.binds), e.doc
                    )
                    for e in self.owner_exposed
                ]
                library.set_exposed(self.owner, rebound)
        except Exception:
            self._restore()
            raise

    def revert(self) -> None:
        self._restore()

    def _restore(self) -> None:
        doc = self.doc
        for frame in self.frames:
            self.definition_document.annotations.put("frame", frame.id, None)
            doc.annotations.put("frame", frame.id, frame)
        if self.instance_id is not None and self.instance_id in doc:
            doc.remove_node(self.instance_id)
        if self.name in self.library.definitions:
            self.library.remove(self.name)
        missing = {"nodes": [n for n in self.snapshot["nodes"] if n["id"] not in doc], "edges": self.snapshot["edges"]}
        doc.insert_json(missing, keep_ids=True)
        for edge in [*self.inward, *self.outward]:
            if doc.edge_into(edge.dst, edge.dst_port) != edge:
                doc.connect(*edge)
        if self.owner is not None and self.library.definitions[self.owner].exposed != self.owner_exposed:
            self.library.set_exposed(self.owner, self.owner_exposed)

    @property
    def definition(self) -> BlockDefinition:
        return self.library.definitions[self.name]


class Ungrouping:
    """Expand block node ``node_id`` of ``document`` in place. See the module doc."""

    def __init__(self, document: GraphDocument, node_id: str) -> None:
        self.doc = document
        node_type = document.node_type(node_id)
        definition: BlockDefinition | None = node_type.block
        if definition is None:
            raise GraphError(f"'{node_id}' is a {node_type.title} node, not a block: there is nothing to ungroup")
        self.node_id = node_id
        self.snapshot = document.to_json([node_id])
        self.edges = sorted({*document.in_edges(node_id), *document.out_edges(node_id)})
        params = document.params(node_id)
        self.nodes: list[_Node] = []
        self.inner_edges: list[Edge] = []
        self.copies: list[dict[str, str]] = []  # per copy: inner node id -> new id
        self.frames: list[Frame] = []  # the definition's frames around each copy
        self._plan(definition, node_type, params)
        library = library_for(document)
        self.owner = _owner(library, document)
        self.owner_exposed = list(library.definitions[self.owner].exposed) if self.owner else []
        self.rebound = [self._rebound(e, definition) for e in self.owner_exposed]

    def _rebound(self, exposed: Exposed, definition: BlockDefinition) -> Exposed:
        """An outer exposed parameter whose binds name the block node, bound to the expanded nodes instead."""
        binds: list[str] = []
        for bind in exposed.binds:
            node, _, param = bind.partition(".")
            if node != self.node_id:
                binds.append(bind)
            elif param == ENABLED:
                binds += [f"{n}.{ENABLED}" for n in self.new_ids]
            elif param in INSTANCE_PARAMS:
                raise GraphError(
                    f"cannot ungroup '{self.node_id}': the exposed parameter '{exposed.name}' sets its '{param}'; "
                    "unbind it first"
                )
            else:
                inner = next(e for e in definition.exposed if e.name == param)
                for ids in self.copies:
                    binds += [f"{ids[b.partition('.')[0]]}.{b.partition('.')[2]}" for b in inner.binds]
        return Exposed(exposed.name, tuple(dict.fromkeys(binds)), exposed.doc)

    def _plan(self, definition: BlockDefinition, node_type: Any, params: dict[str, Any]) -> None:
        inner, doc = definition.document, self.doc
        inputs, outputs = definition.inputs(), definition.outputs()
        ports = set(inputs) | set(outputs)
        body = [n for n in inner.topological_order() if n not in ports]
        repeat = params["repeat"]
        positions = [inner.position(n) for n in body] or [(0.0, 0.0)]
        left, top = min(p[0] for p in positions), min(p[1] for p in positions)
        width = max(p[0] for p in positions) - left + 200.0 + COPY_GAP
        x0, y0 = doc.position(self.node_id)
        taken = set(doc.node_ids()) - {self.node_id}
        # what feeds each input port of the copy being expanded: the block node's own wires for the first copy
        feed: dict[str, tuple[str, str] | None] = {p: None for p in inputs}
        for e in self.edges:
            if e.dst == self.node_id:
                feed[e.dst_port] = (e.src, e.src_port)
        frame_ids = set(doc.annotations.frames)
        for copy in range(repeat):
            for frame in inner.annotations.frames.values():
                frame_id = _free_id(frame.id, frame_ids)
                frame_ids.add(frame_id)
                title = f"{frame.title} {copy + 1}" if repeat > 1 else frame.title
                moved = frame.moved(x0 - left + copy * width, y0 - top)
                self.frames.append(Frame(frame_id, title, moved.rect, frame.color))
            values = instance_values(node_type, params, copy)
            bound, disabled = definition.bound_params(values)
            ids: dict[str, str] = {}
            self.copies.append(ids)
            for n in body:
                stem = n if repeat == 1 else f"{self.node_id}_{copy}_{n}"
                if not ID_PATTERN.match(stem):
                    stem = f"{self.node_id}_{n}"
                ids[n] = _free_id(stem, taken)
                taken.add(ids[n])
                x, y = inner.position(n)
                self.nodes.append(
                    _Node(
                        ids[n],
                        inner.node_type(n).type_id,
                        bound[n],
                        (x0 + x - left + copy * width, y0 + y - top),
                        inner.is_muted(n) or n in disabled,
                        inner.is_frozen(n) or doc.is_frozen(self.node_id),
                        inner.lr_scale(n) * doc.lr_scale(self.node_id),
                    )
                )
            produced: dict[str, tuple[str, str] | None] = {}
            for e in inner.edges():
                start = feed[e.src] if e.src in feed else (ids[e.src], e.src_port)
                if e.dst in outputs:
                    produced[e.dst] = start
                elif start is not None:
                    self.inner_edges.append(Edge(*start, ids[e.dst], e.dst_port))
            if copy < repeat - 1:  # the next copy's inputs are this copy's outputs, port by port
                feed = {i: produced.get(o) for i, o in zip(inputs, outputs)}
            else:
                for e in self.edges:
                    source = produced.get(e.src_port)
                    if e.src == self.node_id and source is not None:
                        self.inner_edges.append(Edge(*source, e.dst, e.dst_port))

    @property
    def new_ids(self) -> list[str]:
        return [n.node_id for n in self.nodes]

    def apply(self) -> None:
        doc = self.doc
        doc.remove_node(self.node_id)
        added: list[str] = []
        try:
            for n in self.nodes:
                added.append(
                    doc.add_node(
                        n.type_id, n.params, n.position, n.node_id, muted=n.muted, frozen=n.frozen, lr_scale=n.lr_scale
                    )
                )
            for edge in self.inner_edges:
                doc.connect(*edge)
            for frame in self.frames:
                doc.annotations.put("frame", frame.id, frame)
            if self.owner is not None and self.rebound != self.owner_exposed:
                library_for(doc).set_exposed(self.owner, self.rebound)
        except Exception:
            for node_id in reversed(added):
                doc.remove_node(node_id)
            self._put_back()
            raise

    def revert(self) -> None:
        for frame in self.frames:
            self.doc.annotations.put("frame", frame.id, None)
        for n in reversed(self.nodes):
            if n.node_id in self.doc:
                self.doc.remove_node(n.node_id)
        self._put_back()

    def _put_back(self) -> None:
        self.doc.insert_json(self.snapshot, keep_ids=True)
        for edge in self.edges:
            self.doc.connect(*edge)
        library = library_for(self.doc)
        if self.owner is not None and library.definitions[self.owner].exposed != self.owner_exposed:
            library.set_exposed(self.owner, self.owner_exposed)


def group(document: GraphDocument, node_ids: Iterable[str], name: str) -> tuple[BlockDefinition, str]:
    """Group ``node_ids`` into a new definition ``name``; returns it and the id of the instance that replaced them."""
    grouping = Grouping(document, node_ids, name)
    grouping.apply()
    assert grouping.instance_id is not None
    return grouping.definition, grouping.instance_id


def ungroup(document: GraphDocument, node_id: str) -> list[str]:
    """Expand block node ``node_id`` in place; returns the ids of the nodes that replaced it."""
    ungrouping = Ungrouping(document, node_id)
    ungrouping.apply()
    return ungrouping.new_ids
