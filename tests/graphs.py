"""Common test graphs built with GraphDocument (see tests/graphkit.py for the wiring syntax)."""

from __future__ import annotations

from typing import Any

from graphkit import build, chain

from graphedit.model import GraphDocument

Nodes = list[tuple[str, str, dict[str, Any]]]


def classifier(
    body: Nodes,
    loss: str = "SoftmaxCrossEntropy",
    accuracy: bool = True,
    target_shape: tuple[int, ...] = (1,),
    target_dtype: str = "int64",
) -> GraphDocument:
    """A straight chain ``body`` whose last node is the head, then output1, target1, loss1(head, target1), accuracy1."""
    head = body[-1][0]
    nodes = [
        *body,
        ("output1", "Output", {}),
        ("target1", "Target", {"shape": list(target_shape), "dtype": target_dtype}),
        ("loss1", loss, {}),
    ]
    wires = [*chain(*(n[0] for n in body), "output1"), f"{head} -> loss1.pred", "target1 -> loss1.target"]
    if accuracy:
        nodes.append(("accuracy1", "Accuracy", {}))
        wires += [f"{head} -> accuracy1.pred", "target1 -> accuracy1.target"]
    return build(nodes, wires)


def mlp(
    in_shape: tuple[int, ...] = (2,),
    hidden: tuple[int, ...] = (16,),
    classes: int = 2,
    activation: str = "ReLU",
    loss: str = "SoftmaxCrossEntropy",
    init: str = "he",
    accuracy: bool = True,
    target_shape: tuple[int, ...] = (1,),
    target_dtype: str = "int64",
) -> GraphDocument:
    """input1 → [dense_i → act_i]* → out (Dense classes) → output1; loss1(out, target1); accuracy1."""
    nodes: Nodes = [("input1", "Input", {"shape": list(in_shape)})]
    for i, units in enumerate(hidden, 1):
        nodes += [(f"dense{i}", "Dense", {"units": units, "init": init}), (f"act{i}", activation, {})]
    nodes.append(("out", "Dense", {"units": classes, "init": "xavier"}))
    return classifier(nodes, loss, accuracy, target_shape, target_dtype)


def regression_mlp(in_dim: int = 1, hidden: tuple[int, ...] = (), loss: str = "MSE") -> GraphDocument:
    """A linear (or MLP) regressor with a float Target of shape [1]."""
    return mlp((in_dim,), hidden, 1, loss=loss, accuracy=False, target_dtype="float32", init="xavier")


def cnn(in_shape: tuple[int, int, int] = (1, 8, 8), classes: int = 10, filters: int = 16) -> GraphDocument:
    """conv1 (3×3, same) → relu1 → pool1 → flatten1 → out (Dense classes); cross-entropy and accuracy."""
    nodes = [
        ("input1", "Input", {"shape": list(in_shape)}),
        ("conv1", "Conv2d", {"filters": filters, "kernel": 3, "padding": "same", "init": "he"}),
        ("relu1", "ReLU", {}),
        ("pool1", "MaxPool2d", {}),
        ("flatten1", "Flatten", {}),
        ("out", "Dense", {"units": classes}),
    ]
    return classifier(nodes)


def keras_cnn(size: int = 32, classes: int = 10) -> GraphDocument:
    """The notes' Keras network (lesson 6): three strided convolutions, dropout, Dense 32, Dense classes."""
    nodes = [
        ("input1", "Input", {"shape": [1, size, size]}),
        ("conv1", "Conv2d", {"filters": 16, "kernel": 5, "stride": 2, "init": "he"}),
        ("relu1", "ReLU", {}),
        ("conv2", "Conv2d", {"filters": 32, "kernel": 5, "stride": 2, "init": "he"}),
        ("conv3", "Conv2d", {"filters": 32, "kernel": 3, "stride": 2, "init": "he"}),
        ("flatten1", "Flatten", {}),
        ("dropout1", "Dropout", {"p": 0.5}),
        ("dense1", "Dense", {"units": 32, "init": "he"}),
        ("relu2", "ReLU", {}),
        ("dropout2", "Dropout", {"p": 0.5}),
        ("out", "Dense", {"units": classes}),
    ]
    return classifier(nodes)


def perceptron() -> GraphDocument:
    """input1 → dense1 (1 unit) → step1 → output1; MSE against a float 0/1 target (lesson 3)."""
    nodes = [
        ("input1", "Input", {"shape": [2]}),
        ("dense1", "Dense", {"units": 1, "init": "zeros"}),
        ("step1", "Step", {}),
    ]
    return classifier(nodes, "MSE", target_dtype="float32")
