"""A small builder for the example projects: nodes wired as they are added, laid out left to right.

Each node goes one column to the right of the latest of its sources (the
longest path from the Input), in the lane (row) of its first source unless
given one; long chains wrap into bands below each other so a whole network
fits a window (and a gallery thumbnail) at a readable zoom. The project is
written with ``save_project``, so the files are canonical and a re-run of
``tools/make_examples.py`` changes nothing. :meth:`Net.define` adds a block
definition, its inside built and laid out by the same builder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from graphedit.model.blocks import BlockLibrary, Exposed
from graphedit.model.document import GraphDocument
from graphedit.model.layout import band_positions
from graphedit.model.project import Project, save_project
from graphedit.training.binding import fit_inputs_to_dataset
from graphedit.training.datasets import load_dataset, normalize_spec

X_STEP = 250.0  # node cards are 188 wide: the rest is room for the shape label on the wire
Y_STEP = 150.0
WRAP = 6  # columns per band: a band fits the editor's canvas at a zoom where the cards keep their text
BAND_GAP = 100.0

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

    def __init__(self, wrap: int | None = WRAP, doc: GraphDocument | None = None) -> None:
        if doc is None:
            library = BlockLibrary()
            doc = GraphDocument(library)
            library.attach(doc)
        self.doc = doc
        self.library: BlockLibrary = doc.registry
        self.wrap = wrap or 10**6  # None: one long band
        self.grid: dict[str, tuple[int, float]] = {}  # node → (column, lane)
        self.band_of: dict[str, int] = {}  # node → its band (the head stays in its pred's band)
        self.last: str | None = None

    def add(
        self,
        node_id: str,
        type_id: str,
        into: Source | list[Source] | dict[str, Source] = "",
        lane: float | None = None,
        col: int | None = None,
        beside: str | None = None,
        band: int | None = None,
        **params: Any,
    ) -> str:
        """Add ``node_id`` fed by ``into``: a source (default: the latest node), a list for in1…inN or port → source.

        It goes in column ``col`` (default: right of its sources), lane ``lane`` (default: its first source's),
        and band ``band`` (default: the one of node ``beside``, else by column every ``wrap`` columns).
        """
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
        sources = [src.partition(".")[0] for src in wires.values()]
        if col is None:
            col = 1 + max((self.grid[s][0] for s in sources), default=-1)
        if lane is None:
            lane = self.grid[sources[0]][1] if sources else 0.0
        self.grid[node_id] = (col, lane)
        if band is None:
            band = self.band_of[beside] if beside else col // self.wrap
        self.band_of[node_id] = band
        self.last = node_id
        return node_id

    def define(
        self, name: str, inputs: list[str], build: Callable[[Net], Any], exposed: dict[str, list[str]], doc: str
    ) -> None:
        """Add the block definition ``name``: ``BlockInput`` nodes ``inputs`` in lanes 0, 1, …, then ``build`` adds
        the inside (ending in ``BlockOutput`` nodes) to a ``Net`` of its own; ``exposed`` maps a parameter name to
        the inner ``node.param`` it sets."""
        inner = Net(wrap=None, doc=self.library.new_document())
        for lane, port in enumerate(inputs):
            inner.add(port, "BlockInput", None, lane=float(lane), col=0)
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
        """Output, Target ``label``, the loss (``ce``, ``bce``, ``sse``) and ``accuracy`` to the right of ``pred``."""
        col, lane = self.grid[pred]
        self.add(output, "Output", pred, lane=lane - 1, col=col + 1, beside=pred, name=output)
        self.add("label", "Target", None, lane=lane + 1, col=col, beside=pred)
        self.add(LOSS_IDS[loss], loss, {"pred": pred, "target": "label"}, lane=lane, col=col + 1, beside=pred)
        self.add("accuracy", "Accuracy", {"pred": pred, "target": "label"}, lane=lane + 1, col=col + 1, beside=pred)

    def positions(self) -> dict[str, tuple[float, float]]:
        """Bands stacked top to bottom, each starting at x = 0 and as tall as the lanes it uses."""
        return band_positions(self.grid, self.band_of, X_STEP, Y_STEP, BAND_GAP)


def write_project(
    folder: Path,
    name: str,
    net: Net,
    *,
    meta: dict[str, Any],
    dataset: dict[str, Any],
    training: dict[str, Any],
    live_view: str,
) -> Path:
    """Fit the Input/Target to the dataset, lay the graph out and save ``folder/name.gproj``."""
    doc = net.doc
    for node_id, pos in net.positions().items():
        doc.move(node_id, pos)
    spec = {"split": {"val": 0.2, "test": 0.0}, "seed": 0, "standardize": True, **dataset}
    normalize_spec(spec)  # a typo in an option fails here, not in a test
    fit_inputs_to_dataset(doc, load_dataset(spec).info)
    project = Project(document=doc)
    project.meta.update(meta)
    project.dataset.update(spec)
    project.training.update({"device": "auto", **training})
    project.view.update({"zoom": 1.0, "center": [0.0, 0.0], "panels": ["loss"], "live_view": live_view})
    return save_project(project, folder / f"{name}.gproj")
