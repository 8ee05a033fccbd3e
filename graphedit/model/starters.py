"""New projects that teach from the first second: a dataset, a small network that learns it, and the view to watch.

TensorFlow Playground opens on data, a network and its output side by side, with settings that make the
spiral learn. A starter does the same here: :func:`starter_project` gives a project whose dataset, graph
(Input → hidden layers → head → loss, with a Target, and Accuracy for a classification loss), training
settings and live view fit together. The settings are chosen so that a default run learns (the 2-D spiral
to a validation accuracy ≥ 0.9 in its default epochs, in seconds on a laptop's CPU).

:func:`live_view_for` names the live view that fits any graph: decision regions for 2-D (or 1-D) inputs,
feature maps for images through convolutions, loss curves otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphedit.model.document import GraphDocument
from graphedit.model.project import Project, new_project
from graphedit.nodes.registry import Registry

STEP_X, STEP_Y = 200.0, 150.0
CLASS_LOSSES = ("SoftmaxCrossEntropy", "BinaryCrossEntropy")


@dataclass(frozen=True)
class Starter:
    """One kind of new project: what the user picks in File ▸ New From Template."""

    key: str
    title: str
    doc: str
    dataset: dict[str, Any]
    input_shape: tuple[int, ...]
    classes: int
    layers: tuple[tuple[str, dict[str, Any]], ...]
    training: dict[str, Any] = field(default_factory=dict)


STARTERS: dict[str, Starter] = {
    s.key: s
    for s in (
        Starter(
            "points",
            "2-D points (spiral)",
            "Two interleaved spirals: the Playground's hardest set, learnt by two hidden layers of 32 ReLUs",
            {"name": "spiral", "options": {"n": 500, "noise": 0.0}},
            (2,),
            2,
            (("Dense", {"units": 32}), ("ReLU", {}), ("Dense", {"units": 32}), ("ReLU", {})),
            {"optimizer": "adam", "lr": 0.01, "batch_size": 16, "epochs": 40},
        ),
        Starter(
            "images",
            "Images (digits)",
            "8×8 handwritten digits through a small convolutional network",
            {"name": "digits", "options": {"as_images": True}},
            (1, 8, 8),
            10,
            (
                ("Conv2d", {"filters": 16, "kernel": 3, "padding": 1}),
                ("ReLU", {}),
                ("MaxPool2d", {}),
                ("Flatten", {}),
                ("Dense", {"units": 32}),
                ("ReLU", {}),
            ),
            {"optimizer": "adam", "lr": 0.003, "batch_size": 32, "epochs": 10},
        ),
        Starter(
            "table",
            "Table (iris)",
            "Four measurements of iris flowers → three species, with one hidden layer",
            {"name": "iris", "options": {}},
            (4,),
            3,
            (("Dense", {"units": 16}), ("ReLU", {})),
            {"optimizer": "adam", "lr": 0.01, "batch_size": 16, "epochs": 40},
        ),
    )
}


def starter_project(key: str, registry: Registry | None = None) -> Project:
    """A new, unsaved project of the starter ``key`` (one of :data:`STARTERS`)."""
    starter = STARTERS[key]
    project = new_project(registry)
    project.dataset.update(starter.dataset)
    project.training.update(starter.training)
    doc = project.document
    _build(doc, starter)
    project.view["live_view"] = live_view_for(doc)
    return project


def _build(doc: GraphDocument, starter: Starter) -> None:
    x = doc.add_node("Input", {"shape": list(starter.input_shape)}, (0.0, 0.0), "input1")
    prev, col = x, 0
    for type_id, params in starter.layers:
        col += 1
        node = doc.add_node(type_id, dict(params), (col * STEP_X, 0.0))
        doc.connect(prev, doc.node_type(prev).output_ports()[0].name, node, _first_input(doc, node))
        prev = node
    col += 1
    head = doc.add_node("Dense", {"units": starter.classes, "init": "xavier"}, (col * STEP_X, 0.0), "scores")
    doc.connect(prev, doc.node_type(prev).output_ports()[0].name, head, "x")
    add_classification_head(doc, head, (col * STEP_X, STEP_Y))


def add_classification_head(doc: GraphDocument, scores: str, where: tuple[float, float]) -> dict[str, str]:
    """A Target, SoftmaxCrossEntropy and Accuracy fed by ``scores`` (and an Output beside it)."""
    x, y = where
    target = doc.add_node("Target", {"shape": [1], "dtype": "int64"}, (x - STEP_X, y + STEP_Y), "label")
    loss = doc.add_node("SoftmaxCrossEntropy", {}, (x + STEP_X, y), "ce")
    accuracy = doc.add_node("Accuracy", {}, (x + STEP_X, y + STEP_Y), "accuracy")
    output = doc.add_node("Output", {}, (x + STEP_X, y - STEP_Y), "output1")
    out_port = doc.node_type(scores).output_ports()[0].name
    doc.connect(scores, out_port, output, "x")
    for node in (loss, accuracy):
        doc.connect(scores, out_port, node, "pred")
        doc.connect(target, "y", node, "target")
    return {"target": target, "loss": loss, "accuracy": accuracy, "output": output}


def _first_input(doc: GraphDocument, node_id: str) -> str:
    return doc.node_type(node_id).input_ports(doc.params(node_id))[0].name


def live_view_for(doc: GraphDocument) -> str:
    """The live view that makes a graph's point: ``regions``, ``feature_maps`` or ``curves``."""
    inputs = [n for n in doc.node_ids() if doc.node_type(n).role == "input"]
    if len(inputs) != 1:
        return "curves"
    shape = tuple(doc.params(inputs[0]).get("shape") or ())
    classifies = any(doc.node_type(n).type_id in CLASS_LOSSES for n in doc.node_ids())
    if shape in ((1,), (2,)) and classifies:
        return "regions"
    if len(shape) == 3 and any(doc.node_type(n).category == "convolution" for n in doc.node_ids()):
        return "feature_maps"
    return "curves"


def wants_accuracy(doc: GraphDocument) -> bool:
    """A classification loss with no metric yet: the graph should report accuracy too."""
    roles = [doc.node_type(n) for n in doc.node_ids()]
    return any(t.type_id in CLASS_LOSSES for t in roles) and not any(t.role == "metric" for t in roles)


def accuracy_feeds(doc: GraphDocument, loss_id: str) -> dict[str, tuple[str, str]] | None:
    """What an Accuracy beside ``loss_id`` would read, by its port (``pred``, ``target``): the loss's own sources,
    when it is a classification loss with both inputs wired in a graph that reports no metric yet; else None."""
    if doc.node_type(loss_id).type_id not in CLASS_LOSSES or not wants_accuracy(doc):
        return None
    feeds = {}
    for port in ("pred", "target"):
        edge = doc.edge_into(loss_id, port)
        if edge is None:
            return None
        feeds[port] = (edge.src, edge.src_port)
    return feeds
