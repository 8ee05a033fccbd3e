"""A small builder for the example projects: nodes wired as they are added, laid out by the editor's layout.

The positions come from :func:`graphedit.model.layout.layered_layout`, the same layered layout as the
canvas's Auto layout, so a long network wraps into rows that fit a window (and a gallery thumbnail). The
project is written with ``save_project``, so the files are canonical and a re-run of
``tools/make_examples.py`` changes nothing. :meth:`Net.define` adds a block definition, its inside built and
laid out by the same builder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from graphedit.model.annotations import FRAME_COLORS, Frame, frame_around
from graphedit.model.blocks import BlockLibrary, Exposed
from graphedit.model.document import GraphDocument
from graphedit.model.geometry import node_rects
from graphedit.model.layout import layered_layout
from graphedit.model.project import Project, save_project
from graphedit.training.binding import fit_inputs_to_dataset
from graphedit.training.datasets import load_dataset, normalize_spec

LOSS_IDS = {"SoftmaxCrossEntropy": "ce", "BinaryCrossEntropy": "bce", "SSE": "sse", "MSE": "mse"}
Source = str | None  # "node" (its first output) or "node.port"
Example = dict[str, Any]  # name, meta, net, dataset, training, live_view


def example(name: str, lesson: int, title: str, description: str, watch: str, target: dict[str, Any]) -> Example:
    meta = {"title": title, "description": description, "watch": watch, "lesson": lesson, "target": target}
    return {"name": name, "meta": meta}


def target(metric: str, op: str, value: float, epochs: int) -> dict[str, Any]:
    """What the example reaches in ``epochs``: ``<split>_<key> op value`` (see ``make_examples.py``)."""
    return {"metric": metric, "op": op, "value": value, "epochs": epochs}


class Net:
    """A graph under construction; ``add`` returns the new node's id, ``last`` is the latest one."""

    def __init__(self, doc: GraphDocument | None = None) -> None:
        if doc is None:
            library = BlockLibrary()
            doc = GraphDocument(library)
            library.attach(doc)
        self.doc = doc
        self.library: BlockLibrary = doc.registry  # type: ignore[assignment]
        self.last: str | None = None
        self.frames: list[tuple[str, list[str]]] = []  # (title, nodes): labels for the parts of the network

    def add(
        self, node_id: str, type_id: str, into: Source | list[Source] | dict[str, Source] = "", **params: Any
    ) -> str:
        """Add ``node_id`` fed by ``into``: a source (default: the latest node), a list for in1…inN or port → source."""
        self.doc.add_node(type_id, params, (0.0, 0.0), node_id=node_id)
        node_type = self.doc.node_type(node_id)
        ports = [p.name for p in node_type.input_ports(self.doc.params(node_id))]
        if into == "":
            into = self.last if ports else None
        if into is None:
            wires: dict[str, str] = {}
        elif isinstance(into, dict):
            wires = {port: src for port, src in into.items() if src is not None}
        elif isinstance(into, list):
            wires = dict(zip(ports, into))
        else:
            wires = {ports[0]: into}
        for port, src in wires.items():
            src_id, _, src_port = src.partition(".")
            src_port = src_port or self.doc.node_type(src_id).output_ports()[0].name
            self.doc.connect(src_id, src_port, node_id, port)
        self.last = node_id
        return node_id

    def define(
        self, name: str, inputs: list[str], build: Callable[[Net], Any], exposed: dict[str, list[str]], doc: str
    ) -> None:
        """Add the block definition ``name``: ``BlockInput`` nodes ``inputs``, then ``build`` adds the inside
        (ending in ``BlockOutput`` nodes) to a ``Net`` of its own; ``exposed`` maps a parameter name to the inner
        ``node.param`` it sets."""
        inner = Net(doc=self.library.new_document())
        for port in inputs:
            inner.add(port, "BlockInput", None)
        build(inner)
        for node_id, pos in inner.positions().items():
            inner.doc.move(node_id, pos)
        self.library.define(name, inner.doc, [Exposed(k, tuple(v)) for k, v in exposed.items()], doc)

    def chain(self, *layers: tuple[str, str, dict[str, Any]] | tuple[str, str]) -> str:
        """Add ``(id, type[, params])`` layers one after the other from the latest node."""
        for layer in layers:
            node_id, type_id, params = (*layer, {})[:3]
            self.add(node_id, type_id, **params)
        assert self.last is not None
        return self.last

    def classifier_head(self, pred: str, loss: str = "SoftmaxCrossEntropy", output: str = "scores") -> None:
        """Output, Target ``label``, the loss (``ce``, ``bce``, ``sse``) and ``accuracy`` after ``pred``."""
        self.add(output, "Output", pred, name=output)
        self.add("label", "Target", None)
        self.add(LOSS_IDS[loss], loss, {"pred": pred, "target": "label"})
        self.add("accuracy", "Accuracy", {"pred": pred, "target": "label"})

    def frame(self, title: str, *node_ids: str) -> None:
        """Label a part of the network: a frame titled ``title`` around ``node_ids`` once they are laid out."""
        self.frames.append((title, list(node_ids)))

    def positions(self) -> dict[str, tuple[float, float]]:
        return layered_layout(self.doc)

    def place_frames(self) -> None:
        """The frames around their nodes (after the layout); one that would cover another node or frame fails."""
        cards = node_rects(self.doc)
        placed: list[tuple[float, float, float, float]] = []
        for i, (title, members) in enumerate(self.frames):
            x, y, w, h = frame_around([cards[n] for n in members])
            box = (x, y, x + w, y + h)
            covered = [n for n, r in cards.items() if n not in members and _overlap(box, r)]
            assert not covered, f"frame {title!r} would cover {covered}: frame other nodes"
            assert not any(_overlap(box, other) for other in placed), f"frame {title!r} overlaps another frame"
            placed.append(box)
            frame = Frame(f"frame{i + 1}", title, (x, y, w, h), FRAME_COLORS[i % len(FRAME_COLORS)])
            self.doc.annotations.put("frame", frame.id, frame)


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def write_project(
    folder: Path,
    name: str,
    net: Net,
    *,
    meta: dict[str, Any],
    dataset: dict[str, Any],
    training: dict[str, Any],
    live_view: str,
    weights: dict[str, str] | None = None,
) -> Path:
    """Fit the Input/Target to the dataset, lay the graph out and save ``folder/name.gproj``."""
    doc = net.doc
    spec = {"split": {"val": 0.2, "test": 0.0}, "seed": 0, "standardize": True, **dataset}
    normalize_spec(spec)  # a typo in an option fails here, not in a test
    fit_inputs_to_dataset(doc, load_dataset(spec).info)
    for node_id, pos in net.positions().items():  # after fitting: a card's height follows its parameters
        doc.move(node_id, pos)
    net.place_frames()
    project = Project(document=doc, weights=weights)
    project.meta.update(meta)
    project.dataset.update(spec)
    project.training.update({"device": "auto", **training})
    project.view.update({"zoom": 1.0, "center": [0.0, 0.0], "panels": ["loss"], "live_view": live_view})
    return save_project(project, folder / f"{name}.gproj")
